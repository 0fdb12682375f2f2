-- Who may see and change what: organisations own providers, API keys carry a role, every write is audited,
-- confidential providers say how precisely their location may be shown, and POSTs can be retried safely.
CREATE TABLE organisations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 1
);
--> statement-breakpoint
-- The built-in owner of every row that existed before organisations did, and of the demo data set.
INSERT INTO organisations (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'setu-demo');
--> statement-breakpoint
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  role text NOT NULL CHECK (role IN ('admin', 'editor', 'analyst', 'viewer')),
  -- an editor limited to these areas (pcodes at any level) writes only providers inside one of them; NULL: anywhere
  limited_to_areas text[] CHECK (limited_to_areas IS NULL OR (role = 'editor' AND cardinality(limited_to_areas) > 0)),
  label text,
  -- the first characters of the key: enough to tell keys apart in lists and logs, far too few to guess the rest
  prefix text NOT NULL,
  -- SHA-256 of the whole key; the key itself is shown once, when it is created, and stored nowhere
  key_hash bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  version integer NOT NULL DEFAULT 1
);
--> statement-breakpoint
CREATE INDEX api_keys_organisation ON api_keys (organisation_id, created_at, id);
--> statement-breakpoint
-- Rows written without an owner (the demo loader, scripts, benchmarks) belong to setu-demo; the API always names one.
ALTER TABLE providers
  ADD COLUMN organisation_id uuid NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001' REFERENCES organisations (id),
  ADD COLUMN location_visibility text CHECK (location_visibility IN ('exact', 'approximate', 'hidden'));
--> statement-breakpoint
-- How precisely a provider's location is shown when nobody chose: approximately for a shelter (a safe house's
-- address must not be published by default), exactly for everything else. One rule for every way a row is
-- written (the API, the demo loader, scripts), applied only when the writer leaves the column NULL.
CREATE FUNCTION setu_default_location_visibility() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  NEW.location_visibility := CASE WHEN NEW.categories @> '{shelter}' THEN 'approximate' ELSE 'exact' END;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER providers_default_location_visibility BEFORE INSERT OR UPDATE ON providers
  FOR EACH ROW WHEN (NEW.location_visibility IS NULL) EXECUTE FUNCTION setu_default_location_visibility();
--> statement-breakpoint
UPDATE providers SET location_visibility = NULL;
--> statement-breakpoint
ALTER TABLE providers ALTER COLUMN location_visibility SET NOT NULL;
--> statement-breakpoint
CREATE INDEX providers_organisation ON providers (organisation_id);
--> statement-breakpoint
-- A bounding box over masked providers matches them by their areas' representative points (location-visibility.ts).
CREATE INDEX areas_rep_point_gist ON areas USING gist (rep_point);
--> statement-breakpoint
-- Who is acting in this transaction, as the API sets it (set_config('setu.actor', …, true)): key id, prefix,
-- organisation, role, request id and the action's name. NULL for writes made outside the API (migrations,
-- the demo loader, the keys command sets its own).
CREATE FUNCTION setu_actor() RETURNS jsonb
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('setu.actor', true), '')::jsonb $$;
--> statement-breakpoint
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  key_id uuid,
  key_prefix text,
  organisation_id uuid,
  role text,
  request_id text,
  entity text NOT NULL,
  entity_id text NOT NULL,
  action text NOT NULL,
  before jsonb,
  after jsonb
);
--> statement-breakpoint
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
--> statement-breakpoint
CREATE INDEX audit_log_at ON audit_log (at, id);
--> statement-breakpoint
CREATE INDEX audit_log_organisation ON audit_log (organisation_id, id);
--> statement-breakpoint
-- A row as the audit trail keeps it: every column but those that only mirror others or hold secrets.
CREATE FUNCTION setu_audit_row(entity text, row_json jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE entity
    WHEN 'provider' THEN row_json - 'search_text'
    WHEN 'api_key' THEN row_json - 'key_hash'
    ELSE row_json END $$;
--> statement-breakpoint
-- Columns that change without anyone changing the entity: a refresh of the areas containing a provider after a
-- boundary import, a key being used, and the bookkeeping of every update. An update touching only these is not
-- a change worth an audit entry.
CREATE FUNCTION setu_audit_significant(before jsonb, after jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (before - '{updated_at,version,area_pcodes,last_used_at}'::text[])
        IS DISTINCT FROM (after - '{updated_at,version,area_pcodes,last_used_at}'::text[]) $$;
--> statement-breakpoint
-- One audit entry per written row, in the transaction that writes it: a statement-level trigger reads the
-- rows before and after from its transition tables, so a bulk insert of 5,000 providers is one INSERT here.
CREATE FUNCTION setu_audit() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  entity text := CASE TG_TABLE_NAME
    WHEN 'providers' THEN 'provider' WHEN 'referral_links' THEN 'referral_link' WHEN 'mous' THEN 'mou'
    WHEN 'api_keys' THEN 'api_key' WHEN 'organisations' THEN 'organisation' END;
  actor jsonb := setu_actor();
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO audit_log (key_id, key_prefix, organisation_id, role, request_id, entity, entity_id, action, before, after)
    SELECT (actor->>'key_id')::uuid, actor->>'key_prefix', (actor->>'organisation_id')::uuid, coalesce(actor->>'role', 'system'),
           actor->>'request_id', entity, n.id::text, coalesce(actor->>'action', 'create'), NULL, setu_audit_row(entity, to_jsonb(n))
    FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO audit_log (key_id, key_prefix, organisation_id, role, request_id, entity, entity_id, action, before, after)
    SELECT (actor->>'key_id')::uuid, actor->>'key_prefix', (actor->>'organisation_id')::uuid, coalesce(actor->>'role', 'system'),
           actor->>'request_id', entity, n.id::text, coalesce(actor->>'action', 'update'),
           setu_audit_row(entity, to_jsonb(o)), setu_audit_row(entity, to_jsonb(n))
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE setu_audit_significant(to_jsonb(o), to_jsonb(n));
  ELSE
    INSERT INTO audit_log (key_id, key_prefix, organisation_id, role, request_id, entity, entity_id, action, before, after)
    SELECT (actor->>'key_id')::uuid, actor->>'key_prefix', (actor->>'organisation_id')::uuid, coalesce(actor->>'role', 'system'),
           actor->>'request_id', entity, o.id::text, coalesce(actor->>'action', 'delete'), setu_audit_row(entity, to_jsonb(o)), NULL
    FROM old_rows o;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER providers_audit_insert AFTER INSERT ON providers REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER providers_audit_update AFTER UPDATE ON providers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER providers_audit_delete AFTER DELETE ON providers REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER referral_links_audit_insert AFTER INSERT ON referral_links REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER referral_links_audit_update AFTER UPDATE ON referral_links REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER referral_links_audit_delete AFTER DELETE ON referral_links REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER mous_audit_insert AFTER INSERT ON mous REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER mous_audit_update AFTER UPDATE ON mous REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER mous_audit_delete AFTER DELETE ON mous REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER api_keys_audit_insert AFTER INSERT ON api_keys REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER api_keys_audit_update AFTER UPDATE ON api_keys REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER organisations_audit_insert AFTER INSERT ON organisations REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
CREATE TRIGGER organisations_audit_update AFTER UPDATE ON organisations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION setu_audit();
--> statement-breakpoint
-- MOU history names who made each change: the acting key, organisation and role, as the transaction set them.
ALTER TABLE mou_status_changes ADD COLUMN actor jsonb DEFAULT setu_actor();
--> statement-breakpoint
-- Safe retries: the answer to a POST sent with an Idempotency-Key, per API key, replayed to a retry of it.
-- status is NULL while the first request is still being answered.
CREATE TABLE idempotency_keys (
  api_key_id uuid NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status smallint,
  headers jsonb,
  body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (api_key_id, key)
);
--> statement-breakpoint
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
