-- Which transactions wrote what a coverage answer reads (providers, MOUs, areas; area_parts and area_generalised
-- follow areas in the same transaction). A server process keeps coverage answers with the snapshot they were
-- computed in (src/modules/coverage/service.ts); an answer still holds for a newer snapshot when no transaction in
-- this journal is visible in the newer snapshot and was not in the older one. That check reads a few recent index
-- entries, where a fingerprint of the tables themselves (row count and xmin sum) read every row: 55 ms for 100,000
-- providers, paid after any write anywhere in the database (an audit row, a referral link), which is most of the time.
--
-- One row per writing transaction (its top-level id), so writers never wait on each other here: statement-level
-- triggers insert their own transaction's id, and a row becomes visible exactly when its transaction commits, like
-- the data it stands for. A rolled-back transaction, or savepoint, takes its row with its data.
CREATE TABLE data_writes (
  xid xid8 PRIMARY KEY
);
--> statement-breakpoint
-- Pruning must never remove a row a kept answer still needs. prune_data_writes() deletes the rows of transactions
-- below the xmin of a snapshot taken at least a day earlier (the horizon): those had all ended a day before the
-- pruning. A kept answer is checked against the journal only while its snapshot is less than half a day old
-- (JOURNAL_WINDOW_MS in service.ts); an older one is computed again. So every transaction that committed after a
-- kept answer's snapshot is still in the journal when that answer is checked.
CREATE TABLE data_writes_horizon (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  -- The xmin of the snapshot taken at taken_at: every transaction with a smaller id had ended by then.
  snapshot_xmin xid8 NOT NULL,
  taken_at timestamptz NOT NULL
);
--> statement-breakpoint
INSERT INTO data_writes_horizon (snapshot_xmin, taken_at) VALUES (pg_snapshot_xmin(pg_current_snapshot()), now());
--> statement-breakpoint
-- SKIP LOCKED: a writer that finds another pruning leaves it to that one rather than waiting for its commit.
CREATE FUNCTION prune_data_writes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  horizon data_writes_horizon;
BEGIN
  SELECT * INTO horizon FROM data_writes_horizon FOR UPDATE SKIP LOCKED;
  IF NOT FOUND OR horizon.taken_at > now() - interval '1 day' THEN
    RETURN;
  END IF;
  DELETE FROM data_writes WHERE xid < horizon.snapshot_xmin;
  UPDATE data_writes_horizon SET snapshot_xmin = pg_snapshot_xmin(pg_current_snapshot()), taken_at = now();
END $$;
--> statement-breakpoint
-- About one write statement in a thousand prunes: the journal keeps a day or two of writing transactions.
CREATE FUNCTION note_data_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO data_writes (xid) VALUES (pg_current_xact_id()) ON CONFLICT (xid) DO NOTHING;
  IF random() < 0.001 THEN
    PERFORM prune_data_writes();
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER providers_note_data_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON providers
  FOR EACH STATEMENT EXECUTE FUNCTION note_data_write();
--> statement-breakpoint
CREATE TRIGGER mous_note_data_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mous
  FOR EACH STATEMENT EXECUTE FUNCTION note_data_write();
--> statement-breakpoint
CREATE TRIGGER areas_note_data_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON areas
  FOR EACH STATEMENT EXECUTE FUNCTION note_data_write();
