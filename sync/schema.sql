-- Raw replica of Dotloop responses. {raw} is the configured raw schema.
-- Every statement is idempotent: applying it again changes nothing.
CREATE SCHEMA IF NOT EXISTS {raw};

-- GET /profile items, whole.
CREATE TABLE IF NOT EXISTS {raw}.profile (
    profile_id bigint PRIMARY KEY,
    payload jsonb NOT NULL,
    fetched_at timestamptz NOT NULL
);

-- The latest payloads of each loop. A loop seen through several profiles is
-- one row here and one row per profile in loop_profile.
CREATE TABLE IF NOT EXISTS {raw}.loop (
    loop_id bigint PRIMARY KEY,
    -- the list item without its "details" key
    summary jsonb NOT NULL,
    -- the "data" object of the detail endpoint (or the list item's "details")
    details jsonb,
    -- the "data" array of the participant endpoint
    participants jsonb,
    -- summary "updated" exactly as the API wrote it; a change means refetch
    loop_updated text,
    -- the "updated" value the participants were fetched at
    participants_for_updated text,
    first_seen_at timestamptz NOT NULL,
    fetched_at timestamptz NOT NULL,
    removed_at timestamptz
);

-- Which profiles see a loop. No foreign key to loop: every writer inserts a
-- loop and its link in one statement (and the purge deletes both in one), and
-- checking the key row by row cost a tenth of landing a page.
CREATE TABLE IF NOT EXISTS {raw}.loop_profile (
    loop_id bigint NOT NULL,
    profile_id bigint NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    -- when a complete sweep of the profile no longer listed the loop
    removed_at timestamptz,
    PRIMARY KEY (loop_id, profile_id)
);
ALTER TABLE {raw}.loop_profile ADD COLUMN IF NOT EXISTS removed_at timestamptz;
ALTER TABLE {raw}.loop_profile DROP CONSTRAINT IF EXISTS loop_profile_loop_id_fkey;

-- A loop merged into another (LOOP_MERGED): the old id points at its successor.
-- Either loop may not have been synced yet, so no foreign keys.
CREATE TABLE IF NOT EXISTS {raw}.loop_merge (
    loop_id bigint PRIMARY KEY,
    merged_into bigint NOT NULL,
    merged_at timestamptz NOT NULL
);

-- Append-only: each distinct payload of an entity once, by content hash.
CREATE TABLE IF NOT EXISTS {raw}.payload_history (
    kind text NOT NULL
        CHECK (kind IN ('profile', 'summary', 'details', 'participants')),
    entity_id bigint NOT NULL,
    content_hash bytea NOT NULL,
    payload jsonb NOT NULL,
    first_seen_at timestamptz NOT NULL,
    run_id bigint,
    PRIMARY KEY (kind, entity_id, content_hash)
);

CREATE TABLE IF NOT EXISTS {raw}.sync_run (
    run_id bigserial PRIMARY KEY,
    trigger text NOT NULL,
    status text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'succeeded', 'failed')),
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    profiles integer NOT NULL DEFAULT 0,
    pages integer NOT NULL DEFAULT 0,
    loops_seen integer NOT NULL DEFAULT 0,
    loops_changed integer NOT NULL DEFAULT 0,
    participants_fetched integer NOT NULL DEFAULT 0,
    quarantined integer NOT NULL DEFAULT 0,
    requests integer NOT NULL DEFAULT 0,
    throttled integer NOT NULL DEFAULT 0,
    loops_removed integer NOT NULL DEFAULT 0,
    error text
);
ALTER TABLE {raw}.sync_run
    ADD COLUMN IF NOT EXISTS loops_removed integer NOT NULL DEFAULT 0;

-- Per-profile incremental state: the watermark moves only after a complete
-- listing and never past the start of the run that made it.
CREATE TABLE IF NOT EXISTS {raw}.profile_sync_state (
    profile_id bigint PRIMARY KEY,
    watermark timestamptz,
    last_complete_run_id bigint,
    last_success_at timestamptz,
    -- the last sweep that listed every loop of the profile
    last_sweep_at timestamptz
);
ALTER TABLE {raw}.profile_sync_state
    ADD COLUMN IF NOT EXISTS last_sweep_at timestamptz;

-- A listing under way, one per profile: written in the same transaction as
-- each page it lands, so a run killed at any point resumes after the last
-- landed page (see sync/listing.py for how a resume finds its place).
CREATE TABLE IF NOT EXISTS {raw}.listing_checkpoint (
    profile_id bigint PRIMARY KEY,
    -- the listing's updated_min filter; NULL for a backfill
    since timestamptz,
    -- when the run that asked for the first page started: the watermark cap
    started_at timestamptz NOT NULL,
    run_id bigint,
    batch_number integer NOT NULL,
    -- the oldest and newest `updated` landed so far
    bound timestamptz,
    newest timestamptz,
    loops_landed integer NOT NULL DEFAULT 0,
    pages_landed integer NOT NULL DEFAULT 0,
    -- meta.total of the first page, for progress
    listing_total integer,
    -- completeness accounting of the listing (NULL when totals are unknown)
    shortfall integer,
    segment_expected integer,
    segment_counted integer NOT NULL DEFAULT 0,
    unusable_pages integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Payloads that could not be landed, with why and the bytes as received.
CREATE TABLE IF NOT EXISTS {raw}.quarantine (
    quarantine_id bigserial PRIMARY KEY,
    run_id bigint,
    profile_id bigint,
    loop_id bigint,
    source text NOT NULL,
    reason text NOT NULL,
    raw bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
