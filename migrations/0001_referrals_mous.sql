-- Issue 3: referral links between providers, MOUs and their status history.
-- No table here stores survivors' names or identifiers: only providers, the links between them and agreements.
CREATE TABLE referral_links (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  from_provider_id uuid NOT NULL REFERENCES providers (id),
  to_provider_id uuid NOT NULL REFERENCES providers (id),
  -- what is referred along the link; the API also checks that the receiving provider offers each one
  categories text[] NOT NULL CHECK (
    cardinality(categories) > 0
    AND categories <@ ARRAY['health', 'legal', 'counselling', 'shelter', 'livelihood']::text[]
  ),
  basis text NOT NULL CHECK (basis IN ('mou', 'sop', 'informal', 'court_order')),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  established_on date,
  last_used_on date,
  notes text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 1,
  CONSTRAINT referral_links_pair UNIQUE (from_provider_id, to_provider_id),
  CONSTRAINT referral_links_not_self CHECK (from_provider_id <> to_provider_id),
  CONSTRAINT referral_links_used_after_established CHECK (last_used_on IS NULL OR established_on IS NULL OR last_used_on >= established_on)
);
--> statement-breakpoint
-- Incoming links of a provider (outgoing ones use the pair's unique index).
CREATE INDEX referral_links_to ON referral_links (to_provider_id);
--> statement-breakpoint
CREATE INDEX referral_links_created ON referral_links (created_at, id);
--> statement-breakpoint
CREATE TABLE mous (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider_id uuid NOT NULL REFERENCES providers (id),
  counterparty text NOT NULL CHECK (length(counterparty) BETWEEN 1 AND 300),
  -- the donor project the agreement depends on: when it ends, the agreement usually lapses
  funding_project text,
  counterparty_level text NOT NULL CHECK (
    counterparty_level IN ('national', 'division', 'province', 'district', 'upazila', 'union', 'commune')
  ),
  counterparty_area text REFERENCES areas (pcode),
  categories text[] NOT NULL CHECK (
    cardinality(categories) > 0
    AND categories <@ ARRAY['health', 'legal', 'counselling', 'shelter', 'livelihood']::text[]
  ),
  -- the status as last set; read it through mou_effective_status, which also applies the expiry date
  status text NOT NULL CHECK (status IN ('draft', 'negotiating', 'signed', 'expired', 'terminated')),
  signed_on date,
  expires_on date,
  renews_mou_id uuid REFERENCES mous (id),
  document_ref text,
  notes text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 1,
  CONSTRAINT mous_signed_needs_date CHECK (status NOT IN ('signed', 'expired') OR signed_on IS NOT NULL),
  CONSTRAINT mous_expiry_after_signing CHECK (expires_on IS NULL OR signed_on IS NULL OR expires_on >= signed_on),
  CONSTRAINT mous_not_self_renewal CHECK (renews_mou_id <> id)
);
--> statement-breakpoint
CREATE INDEX mous_provider ON mous (provider_id);
--> statement-breakpoint
CREATE INDEX mous_created ON mous (created_at, id);
--> statement-breakpoint
CREATE INDEX mous_renews ON mous (renews_mou_id) WHERE renews_mou_id IS NOT NULL;
--> statement-breakpoint
-- One row per change of an MOU, creation included. changed_by stays null until access control exists.
CREATE TABLE mou_status_changes (
  id bigserial PRIMARY KEY,
  mou_id uuid NOT NULL REFERENCES mous (id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('draft', 'negotiating', 'signed', 'expired', 'terminated')),
  status_changed boolean NOT NULL,
  -- the fields this change set, as {field: {"from": old, "to": new}}; {} for creation
  changes jsonb NOT NULL DEFAULT '{}'::jsonb,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by text,
  note text
);
--> statement-breakpoint
CREATE INDEX mou_status_changes_mou ON mou_status_changes (mou_id, id);
--> statement-breakpoint
-- The one definition of an MOU's effective status: a signed MOU whose expiry date has passed reads as
-- expired without any job rewriting it. expires_on is the last day the agreement holds. `today` is a
-- parameter (callers pass current_date) so the function stays IMMUTABLE and inlinable.
CREATE FUNCTION mou_effective_status(status text, expires_on date, today date) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN status = 'signed' AND expires_on < today THEN 'expired' ELSE status END $$;
