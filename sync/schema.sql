-- Raw replica of Dotloop responses. {raw} is the configured raw schema.
-- Every statement is idempotent: applying it again changes nothing.
CREATE SCHEMA IF NOT EXISTS {raw};

-- GET /profile items, whole.
CREATE TABLE IF NOT EXISTS {raw}.profile (
    profile_id bigint PRIMARY KEY,
    payload jsonb NOT NULL,
    -- the payload's identity in history, when and by which run it was first
    -- seen (see "Each payload once" below)
    payload_hash bytea,
    payload_seen_at timestamptz,
    payload_run_id bigint,
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
    -- per payload: its identity in history, when and by which run it was
    -- first seen (see "Each payload once" below)
    summary_hash bytea,
    summary_seen_at timestamptz,
    summary_run_id bigint,
    details_hash bytea,
    details_seen_at timestamptz,
    details_run_id bigint,
    participants_hash bytea,
    participants_seen_at timestamptz,
    participants_run_id bigint,
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

-- The payloads a loop or profile row held before the ones it holds now, each
-- distinct one of an entity once, by content hash. Rows are only added and
-- (by the retention purge) deleted. payload_version below shows every payload.
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

-- Each payload once. A loop or profile row holds its current payloads with
-- their hashes; an update that replaces one moves the replaced payload into
-- payload_history in the same statement (the triggers below), and a payload
-- back at a version history holds leaves history for its row again, with when
-- that version was first seen. Schemas before this one also kept every current
-- payload in payload_history.
ALTER TABLE {raw}.loop
    ADD COLUMN IF NOT EXISTS summary_hash bytea,
    ADD COLUMN IF NOT EXISTS summary_seen_at timestamptz,
    ADD COLUMN IF NOT EXISTS summary_run_id bigint,
    ADD COLUMN IF NOT EXISTS details_hash bytea,
    ADD COLUMN IF NOT EXISTS details_seen_at timestamptz,
    ADD COLUMN IF NOT EXISTS details_run_id bigint,
    ADD COLUMN IF NOT EXISTS participants_hash bytea,
    ADD COLUMN IF NOT EXISTS participants_seen_at timestamptz,
    ADD COLUMN IF NOT EXISTS participants_run_id bigint;
ALTER TABLE {raw}.profile
    ADD COLUMN IF NOT EXISTS payload_hash bytea,
    ADD COLUMN IF NOT EXISTS payload_seen_at timestamptz,
    ADD COLUMN IF NOT EXISTS payload_run_id bigint;
-- A loop row is some 1.7 kB, and one in six passes the 2 kB past which
-- Postgres compresses a row's largest value on every write (and expands it on
-- every read): rows stay as they are up to a page.
ALTER TABLE {raw}.loop SET (toast_tuple_target = 8160);

-- Moving the current payloads out of the history an earlier schema kept: each
-- payload takes the hash, first sighting and run of the earliest history row
-- equal to it, and every such row goes. Each loop row is rewritten once.
-- Payloads that have their hash are skipped, so a second apply moves nothing.
WITH found AS (
    SELECT history.entity_id AS loop_id, history.kind, history.content_hash,
        history.first_seen_at, history.run_id
    FROM {raw}.loop AS stored
    JOIN {raw}.payload_history AS history
        ON history.entity_id = stored.loop_id AND history.kind <> 'profile'
    WHERE history.payload = CASE history.kind
            WHEN 'summary' THEN stored.summary
            WHEN 'details' THEN stored.details
            ELSE stored.participants
        END
        AND CASE history.kind
            WHEN 'summary' THEN stored.summary_hash
            WHEN 'details' THEN stored.details_hash
            ELSE stored.participants_hash
        END IS NULL
), earliest AS (
    SELECT DISTINCT ON (loop_id, kind) * FROM found
    ORDER BY loop_id, kind, first_seen_at
), moved AS (
    UPDATE {raw}.loop AS stored SET
        summary_hash = coalesce(summary.content_hash, stored.summary_hash),
        summary_seen_at = coalesce(summary.first_seen_at, stored.summary_seen_at),
        summary_run_id = CASE WHEN summary.loop_id IS NULL
            THEN stored.summary_run_id ELSE summary.run_id END,
        details_hash = coalesce(details.content_hash, stored.details_hash),
        details_seen_at = coalesce(details.first_seen_at, stored.details_seen_at),
        details_run_id = CASE WHEN details.loop_id IS NULL
            THEN stored.details_run_id ELSE details.run_id END,
        participants_hash = coalesce(
            participants.content_hash, stored.participants_hash
        ),
        participants_seen_at = coalesce(
            participants.first_seen_at, stored.participants_seen_at
        ),
        participants_run_id = CASE WHEN participants.loop_id IS NULL
            THEN stored.participants_run_id ELSE participants.run_id END
    FROM (SELECT DISTINCT loop_id FROM earliest) AS touched
    LEFT JOIN earliest AS summary
        ON summary.loop_id = touched.loop_id AND summary.kind = 'summary'
    LEFT JOIN earliest AS details
        ON details.loop_id = touched.loop_id AND details.kind = 'details'
    LEFT JOIN earliest AS participants
        ON participants.loop_id = touched.loop_id
            AND participants.kind = 'participants'
    WHERE stored.loop_id = touched.loop_id
)
DELETE FROM {raw}.payload_history AS history USING found
WHERE (history.kind, history.entity_id, history.content_hash)
    = (found.kind, found.loop_id, found.content_hash);
WITH found AS (
    SELECT history.entity_id AS profile_id, history.content_hash,
        history.first_seen_at, history.run_id
    FROM {raw}.profile AS stored
    JOIN {raw}.payload_history AS history
        ON history.kind = 'profile' AND history.entity_id = stored.profile_id
    WHERE stored.payload_hash IS NULL AND history.payload = stored.payload
), moved AS (
    UPDATE {raw}.profile AS stored SET
        payload_hash = earliest.content_hash,
        payload_seen_at = earliest.first_seen_at,
        payload_run_id = earliest.run_id
    FROM (
        SELECT DISTINCT ON (profile_id) * FROM found
        ORDER BY profile_id, first_seen_at
    ) AS earliest
    WHERE stored.profile_id = earliest.profile_id
)
DELETE FROM {raw}.payload_history AS history USING found
WHERE history.kind = 'profile' AND history.entity_id = found.profile_id
    AND history.content_hash = found.content_hash;

-- A payload without a hash was written by hand, not landed by a sync: it is
-- identified by the hash of its jsonb text, first seen when its row changed.
-- STABLE as convert_to() is, so that queries inline it.
CREATE OR REPLACE FUNCTION {raw}.payload_identity(payload jsonb, content_hash bytea)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(content_hash, sha256(convert_to(payload::text, 'UTF8'))) $$;

-- Keeps what an update of loop rows replaced (see "Each payload once"). A
-- statement trigger with transition tables: one pass for a whole page. Its
-- queries are planned at each call (EXECUTE), and history is looked up by key
-- in scalar subqueries, which the planner does not turn into joins: a plan
-- made while history was small would go on reading all of it.
CREATE OR REPLACE FUNCTION {raw}.keep_replaced_loop_payloads()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    loop_ids bigint[];
    kinds text[];
    hashes bytea[];
BEGIN
    -- A page of new loops replaced nothing.
    IF NOT EXISTS (SELECT FROM replaced) THEN
        RETURN NULL;
    END IF;
    EXECUTE $query$
    WITH changed AS (
        SELECT replaced.loop_id, version.*
        FROM replaced JOIN replacing USING (loop_id)
        CROSS JOIN LATERAL (
            VALUES
                ('summary', replaced.summary, replaced.summary_hash,
                    coalesce(replaced.summary_seen_at, replaced.fetched_at),
                    replaced.summary_run_id, replacing.summary,
                    replacing.summary_hash),
                ('details', replaced.details, replaced.details_hash,
                    coalesce(replaced.details_seen_at, replaced.fetched_at),
                    replaced.details_run_id, replacing.details,
                    replacing.details_hash),
                ('participants', replaced.participants,
                    replaced.participants_hash,
                    coalesce(replaced.participants_seen_at, replaced.fetched_at),
                    replaced.participants_run_id, replacing.participants,
                    replacing.participants_hash)
        ) AS version (
            kind, payload, content_hash, first_seen_at, run_id,
            new_payload, new_hash
        )
        WHERE version.content_hash IS DISTINCT FROM version.new_hash
    ), kept AS (
        INSERT INTO {raw}.payload_history (
            kind, entity_id, content_hash, payload, first_seen_at, run_id
        )
        SELECT kind, loop_id, {raw}.payload_identity(payload, content_hash),
            payload, first_seen_at, run_id
        FROM changed
        WHERE payload IS NOT NULL
            AND (content_hash IS NOT NULL OR payload IS DISTINCT FROM new_payload)
        ON CONFLICT DO NOTHING
    )
    SELECT array_agg(loop_id), array_agg(kind), array_agg(new_hash)
    FROM changed
    WHERE (
        SELECT true FROM {raw}.payload_history AS history
        WHERE history.kind = changed.kind AND history.entity_id = changed.loop_id
            AND history.content_hash = changed.new_hash
    )
    $query$ INTO loop_ids, kinds, hashes;
    IF loop_ids IS NULL THEN
        RETURN NULL;
    END IF;
    -- Payloads back at a version history holds; updating their rows fires
    -- this trigger again, which then finds nothing changed.
    EXECUTE $query$
    WITH restored AS (
        DELETE FROM {raw}.payload_history AS history
        USING unnest($1::bigint[], $2::text[], $3::bytea[])
            AS back (loop_id, kind, content_hash)
        WHERE history.kind = back.kind AND history.entity_id = back.loop_id
            AND history.content_hash = back.content_hash
        RETURNING history.entity_id, history.kind, history.first_seen_at,
            history.run_id
    ), by_loop AS (
        SELECT entity_id AS loop_id,
            bool_or(kind = 'summary') AS summary,
            max(first_seen_at) FILTER (WHERE kind = 'summary') AS summary_seen_at,
            max(run_id) FILTER (WHERE kind = 'summary') AS summary_run_id,
            bool_or(kind = 'details') AS details,
            max(first_seen_at) FILTER (WHERE kind = 'details') AS details_seen_at,
            max(run_id) FILTER (WHERE kind = 'details') AS details_run_id,
            bool_or(kind = 'participants') AS participants,
            max(first_seen_at) FILTER (WHERE kind = 'participants')
                AS participants_seen_at,
            max(run_id) FILTER (WHERE kind = 'participants')
                AS participants_run_id
        FROM restored
        GROUP BY entity_id
    )
    UPDATE {raw}.loop AS stored SET
        summary_seen_at = CASE WHEN back.summary
            THEN back.summary_seen_at ELSE stored.summary_seen_at END,
        summary_run_id = CASE WHEN back.summary
            THEN back.summary_run_id ELSE stored.summary_run_id END,
        details_seen_at = CASE WHEN back.details
            THEN back.details_seen_at ELSE stored.details_seen_at END,
        details_run_id = CASE WHEN back.details
            THEN back.details_run_id ELSE stored.details_run_id END,
        participants_seen_at = CASE WHEN back.participants
            THEN back.participants_seen_at ELSE stored.participants_seen_at END,
        participants_run_id = CASE WHEN back.participants
            THEN back.participants_run_id ELSE stored.participants_run_id END
    FROM by_loop AS back
    WHERE stored.loop_id = back.loop_id
    $query$ USING loop_ids, kinds, hashes;
    RETURN NULL;
END
$$;

-- The same for profile rows, which hold one payload each, a few a run.
CREATE OR REPLACE FUNCTION {raw}.keep_replaced_profile_payloads()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    profile_ids bigint[];
    hashes bytea[];
BEGIN
    EXECUTE $query$
    WITH changed AS (
        SELECT replaced.profile_id, replaced.payload,
            replaced.payload_hash AS content_hash,
            coalesce(replaced.payload_seen_at, replaced.fetched_at)
                AS first_seen_at,
            replaced.payload_run_id AS run_id,
            replacing.payload AS new_payload, replacing.payload_hash AS new_hash
        FROM replaced JOIN replacing USING (profile_id)
        WHERE replaced.payload_hash IS DISTINCT FROM replacing.payload_hash
    ), kept AS (
        INSERT INTO {raw}.payload_history (
            kind, entity_id, content_hash, payload, first_seen_at, run_id
        )
        SELECT 'profile', profile_id, {raw}.payload_identity(payload, content_hash),
            payload, first_seen_at, run_id
        FROM changed
        WHERE content_hash IS NOT NULL OR payload IS DISTINCT FROM new_payload
        ON CONFLICT DO NOTHING
    )
    SELECT array_agg(profile_id), array_agg(new_hash)
    FROM changed
    WHERE (
        SELECT true FROM {raw}.payload_history AS history
        WHERE history.kind = 'profile' AND history.entity_id = changed.profile_id
            AND history.content_hash = changed.new_hash
    )
    $query$ INTO profile_ids, hashes;
    IF profile_ids IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE $query$
    WITH restored AS (
        DELETE FROM {raw}.payload_history AS history
        USING unnest($1::bigint[], $2::bytea[]) AS back (profile_id, content_hash)
        WHERE history.kind = 'profile' AND history.entity_id = back.profile_id
            AND history.content_hash = back.content_hash
        RETURNING history.entity_id, history.first_seen_at, history.run_id
    )
    UPDATE {raw}.profile AS stored SET
        payload_seen_at = restored.first_seen_at,
        payload_run_id = restored.run_id
    FROM restored
    WHERE stored.profile_id = restored.entity_id
    $query$ USING profile_ids, hashes;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS keep_replaced_payloads ON {raw}.loop;
CREATE TRIGGER keep_replaced_payloads AFTER UPDATE ON {raw}.loop
    REFERENCING OLD TABLE AS replaced NEW TABLE AS replacing
    FOR EACH STATEMENT EXECUTE FUNCTION {raw}.keep_replaced_loop_payloads();
DROP TRIGGER IF EXISTS keep_replaced_payloads ON {raw}.profile;
CREATE TRIGGER keep_replaced_payloads AFTER UPDATE ON {raw}.profile
    REFERENCING OLD TABLE AS replaced NEW TABLE AS replacing
    FOR EACH STATEMENT EXECUTE FUNCTION {raw}.keep_replaced_profile_payloads();

-- Every distinct payload ever landed, once: the current ones from their rows
-- (current is true) and the replaced ones from history. What replay and
-- anything else reading the history should read.
CREATE OR REPLACE VIEW {raw}.payload_version AS
SELECT kind, entity_id, content_hash, payload, first_seen_at, run_id,
    false AS current
FROM {raw}.payload_history
UNION ALL
SELECT version.kind, stored.loop_id,
    {raw}.payload_identity(version.payload, version.content_hash),
    version.payload, coalesce(version.first_seen_at, stored.fetched_at),
    version.run_id, true
FROM {raw}.loop AS stored
CROSS JOIN LATERAL (
    VALUES
        ('summary', stored.summary, stored.summary_hash,
            stored.summary_seen_at, stored.summary_run_id),
        ('details', stored.details, stored.details_hash,
            stored.details_seen_at, stored.details_run_id),
        ('participants', stored.participants, stored.participants_hash,
            stored.participants_seen_at, stored.participants_run_id)
) AS version (kind, payload, content_hash, first_seen_at, run_id)
WHERE version.payload IS NOT NULL
UNION ALL
SELECT 'profile', profile_id, {raw}.payload_identity(payload, payload_hash),
    payload, coalesce(payload_seen_at, fetched_at), payload_run_id, true
FROM {raw}.profile;

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
-- The request budget the run was paced to (DOTLOOP_REQUESTS_PER_MINUTE), so
-- that reporting.sync_runs can weigh its requests against it; NULL on runs
-- recorded before it was kept.
ALTER TABLE {raw}.sync_run
    ADD COLUMN IF NOT EXISTS requests_per_minute integer;
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
