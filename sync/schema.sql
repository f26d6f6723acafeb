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
-- What a run tried again: quarantined loops asked for by id, and the details
-- and participant lists earlier runs could not fetch; what it resolved, what
-- it left pending, and the profiles it skipped because another run had them.
ALTER TABLE {raw}.sync_run
    ADD COLUMN IF NOT EXISTS quarantine_retried integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS quarantine_resolved integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS fetches_retried integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS fetches_pending integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS profiles_busy integer NOT NULL DEFAULT 0;
-- Whether a running run is alive: the Postgres session it works on (gone when
-- its worker dies) and the moment its lease ends unless renewed (which ends a
-- worker that hangs with its session open). See sync/leases.py.
ALTER TABLE {raw}.sync_run
    ADD COLUMN IF NOT EXISTS backend_pid integer,
    ADD COLUMN IF NOT EXISTS backend_started timestamptz,
    ADD COLUMN IF NOT EXISTS expires_at timestamptz;
-- "skipped": every profile the run chose was being synced by another run.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_constraint
        WHERE conrelid = '{raw}.sync_run'::regclass
            AND conname = 'sync_run_status_known'
    ) THEN
        ALTER TABLE {raw}.sync_run DROP CONSTRAINT IF EXISTS sync_run_status_check;
        ALTER TABLE {raw}.sync_run ADD CONSTRAINT sync_run_status_known
            CHECK (status IN ('running', 'succeeded', 'failed', 'skipped'));
    END IF;
END
$$;

-- One sync per profile at a time: the run that holds each profile's lease.
-- A lease whose run is no longer alive (see sync_run above) is free to take.
CREATE TABLE IF NOT EXISTS {raw}.profile_lease (
    profile_id bigint PRIMARY KEY,
    run_id bigint NOT NULL,
    acquired_at timestamptz NOT NULL,
    renewed_at timestamptz NOT NULL
);

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
-- An entry is open until what it stands for lands: a loop item quarantined
-- after its `updated` passed the watermark is not listed again, so the next
-- runs ask for it by id (a bounded number of times).
ALTER TABLE {raw}.quarantine
    ADD COLUMN IF NOT EXISTS resolved_at timestamptz,
    ADD COLUMN IF NOT EXISTS resolved_run_id bigint,
    ADD COLUMN IF NOT EXISTS retries integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS last_retry_at timestamptz;
CREATE INDEX IF NOT EXISTS quarantine_open ON {raw}.quarantine (loop_id)
    WHERE resolved_at IS NULL AND loop_id IS NOT NULL;

-- Details and participant lists a run could not fetch (an error, a 404 of a
-- loop that is still there, a response quarantined). The loop landed without
-- them; the next runs fetch them again, a bounded number a run, until they
-- land or the loop changes and its listing brings them.
CREATE TABLE IF NOT EXISTS {raw}.pending_fetch (
    loop_id bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('details', 'participants')),
    profile_id bigint NOT NULL,
    -- the loop's `updated` when the fetch failed
    loop_updated text NOT NULL,
    attempts integer NOT NULL DEFAULT 1,
    first_failed_at timestamptz NOT NULL,
    last_failed_at timestamptz NOT NULL,
    -- the run that failed last, which does not try again itself
    run_id bigint,
    last_error text NOT NULL,
    PRIMARY KEY (loop_id, kind)
);
