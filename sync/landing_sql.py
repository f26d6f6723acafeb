"""The SQL that lands pages, participants, details, profiles and quarantine.

Kept apart from the Python that prepares what it binds (sync/landing.py):
each statement is one round trip with its arrays bound in binary.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from psycopg import sql

from .db import raw_tables


@dataclass(frozen=True)
class LandingStatements:
    """The landing statements, bound to one raw schema's tables."""

    versions: sql.Composed
    land_participants: sql.Composed
    land_details: sql.Composed
    land_loops: sql.Composed
    land_profiles: sql.Composed
    quarantine: sql.Composed


@lru_cache(maxsize=8)
def landing_statements(schema: str) -> LandingStatements:
    """The statements for `schema`, built once per schema."""
    tables = raw_tables(schema)
    return LandingStatements(
        versions=sql.SQL(_VERSIONS).format(**tables),
        land_participants=sql.SQL(_LAND_PARTICIPANTS).format(**tables),
        land_details=sql.SQL(_LAND_DETAILS).format(**tables),
        land_loops=sql.SQL(_LAND_LOOPS).format(**tables),
        land_profiles=sql.SQL(_LAND_PROFILES).format(**tables),
        quarantine=sql.SQL(_QUARANTINE).format(**tables),
    )


_VERSIONS = """
SELECT loop_id, loop_updated, participants_for_updated
FROM {loop} WHERE loop_id = ANY(%(ids)b::bigint[])
"""

# Landing speed (bench/bench_landing.py, 50,000 loops, two vCPUs, nothing else
# running): 21,000 loops a second a page after another, 23,000 to 25,800 with
# the next page prepared on a second thread (0.43 to 0.46 of a plain COPY of
# the same JSON), 25,500 to 26,600 over unchanged loops. Postgres spends some
# 24 us a loop on this statement (40 while payload_history also held every
# current payload), Python some 21 us preparing a page. With other work on the
# machine: 17,000 to 19,000.
# TODO: changed loops cost Postgres some 54 us a loop, 43 before: the trigger
# copies the replaced rows and plans its queries at each call (a cached plan
# could go on scanning history). Far from what the sync needs: requests pace it
# to a page a second at most.
# Arrays bound in binary keep a page to one round trip and each payload to one
# jsonb parse. A missing details object or participant list keeps the stored
# one. A payload is compared by hash: an unchanged one keeps when and by which
# run it was first seen, and a replaced one moves into payload_history by the
# trigger on the table (sync/schema.sql), so each is stored once.
_LAND_LOOPS = """
WITH page AS (
    SELECT
        loop_id, updated, summary::jsonb AS summary, summary_hash,
        details::jsonb AS details, details_hash,
        participants::jsonb AS participants, participants_hash
    FROM unnest(
        %(ids)b::bigint[], %(updated)b::text[],
        %(summaries)b::text[], %(summary_hashes)b::bytea[],
        %(details)b::text[], %(details_hashes)b::bytea[],
        %(participants)b::text[], %(participants_hashes)b::bytea[]
    ) AS listed (
        loop_id, updated, summary, summary_hash, details, details_hash,
        participants, participants_hash
    )
), links AS (
    INSERT INTO {loop_profile} (loop_id, profile_id, first_seen_at, last_seen_at)
    SELECT loop_id, %(profile_id)b, %(now)b, %(now)b FROM page
    ON CONFLICT (loop_id, profile_id) DO UPDATE SET
        last_seen_at = excluded.last_seen_at, removed_at = NULL
)
INSERT INTO {loop} AS stored (
    loop_id, loop_updated, first_seen_at, fetched_at,
    summary, summary_hash, summary_seen_at, summary_run_id,
    details, details_hash, details_seen_at, details_run_id,
    participants, participants_hash, participants_seen_at, participants_run_id,
    participants_for_updated
)
SELECT
    loop_id, updated, %(now)b, %(now)b,
    summary, summary_hash, %(now)b, %(run_id)b::bigint,
    details, details_hash,
    CASE WHEN details IS NOT NULL THEN %(now)b END,
    CASE WHEN details IS NOT NULL THEN %(run_id)b::bigint END,
    participants, participants_hash,
    CASE WHEN participants IS NOT NULL THEN %(now)b END,
    CASE WHEN participants IS NOT NULL THEN %(run_id)b::bigint END,
    CASE WHEN participants IS NOT NULL THEN updated END
FROM page
ON CONFLICT (loop_id) DO UPDATE SET
    loop_updated = excluded.loop_updated,
    fetched_at = excluded.fetched_at,
    removed_at = NULL,
    summary = excluded.summary,
    summary_hash = excluded.summary_hash,
    summary_seen_at = CASE WHEN stored.summary_hash = excluded.summary_hash
        THEN stored.summary_seen_at ELSE excluded.summary_seen_at END,
    summary_run_id = CASE WHEN stored.summary_hash = excluded.summary_hash
        THEN stored.summary_run_id ELSE excluded.summary_run_id END,
    details = coalesce(excluded.details, stored.details),
    details_hash = coalesce(excluded.details_hash, stored.details_hash),
    details_seen_at = CASE
        WHEN coalesce(excluded.details_hash = stored.details_hash, true)
        THEN stored.details_seen_at ELSE excluded.details_seen_at END,
    details_run_id = CASE
        WHEN coalesce(excluded.details_hash = stored.details_hash, true)
        THEN stored.details_run_id ELSE excluded.details_run_id END,
    participants = coalesce(excluded.participants, stored.participants),
    participants_hash = coalesce(
        excluded.participants_hash, stored.participants_hash
    ),
    participants_seen_at = CASE
        WHEN coalesce(excluded.participants_hash = stored.participants_hash, true)
        THEN stored.participants_seen_at ELSE excluded.participants_seen_at END,
    participants_run_id = CASE
        WHEN coalesce(excluded.participants_hash = stored.participants_hash, true)
        THEN stored.participants_run_id ELSE excluded.participants_run_id END,
    participants_for_updated = coalesce(
        excluded.participants_for_updated, stored.participants_for_updated
    )
WHERE stored.summary_hash IS DISTINCT FROM excluded.summary_hash
    OR stored.loop_updated IS DISTINCT FROM excluded.loop_updated
    OR stored.removed_at IS NOT NULL
    OR coalesce(excluded.details_hash, stored.details_hash)
        IS DISTINCT FROM stored.details_hash
    OR (
        excluded.participants_hash IS NOT NULL
        AND (excluded.participants_hash, excluded.participants_for_updated)
        IS DISTINCT FROM (stored.participants_hash, stored.participants_for_updated)
    )
"""

# Only a loop still at the version the list was asked for takes it.
_LAND_PARTICIPANTS = """
WITH fetched AS (
    SELECT * FROM unnest(
        %(ids)b::bigint[], %(updated)b::text[], %(participants)b::text[],
        %(hashes)b::bytea[]
    ) AS fetched (loop_id, updated, participants, content_hash)
)
UPDATE {loop} AS stored SET
    participants = fetched.participants::jsonb,
    participants_hash = fetched.content_hash,
    participants_seen_at = CASE
        WHEN stored.participants_hash = fetched.content_hash
        THEN stored.participants_seen_at ELSE %(now)b END,
    participants_run_id = CASE
        WHEN stored.participants_hash = fetched.content_hash
        THEN stored.participants_run_id ELSE %(run_id)b::bigint END,
    participants_for_updated = fetched.updated,
    fetched_at = %(now)b
FROM fetched
WHERE stored.loop_id = fetched.loop_id AND stored.loop_updated = fetched.updated
"""

_LAND_DETAILS = """
WITH fetched AS (
    SELECT * FROM unnest(
        %(ids)b::bigint[], %(updated)b::text[], %(details)b::text[],
        %(hashes)b::bytea[]
    ) AS fetched (loop_id, updated, details, content_hash)
)
UPDATE {loop} AS stored SET
    details = fetched.details::jsonb,
    details_hash = fetched.content_hash,
    details_seen_at = CASE WHEN stored.details_hash = fetched.content_hash
        THEN stored.details_seen_at ELSE %(now)b END,
    details_run_id = CASE WHEN stored.details_hash = fetched.content_hash
        THEN stored.details_run_id ELSE %(run_id)b::bigint END,
    fetched_at = %(now)b
FROM fetched
WHERE stored.loop_id = fetched.loop_id AND stored.loop_updated = fetched.updated
RETURNING stored.loop_id
"""

_LAND_PROFILES = """
INSERT INTO {profile} AS stored (
    profile_id, payload, payload_hash, payload_seen_at, payload_run_id,
    fetched_at
)
SELECT profile_id, payload, payload_hash, %(now)b, %(run_id)b::bigint, %(now)b
FROM unnest(
    %(ids)b::bigint[], %(hashes)b::bytea[], %(payloads)b::jsonb[]
) AS listed (profile_id, payload_hash, payload)
ON CONFLICT (profile_id) DO UPDATE SET
    payload = excluded.payload,
    payload_hash = excluded.payload_hash,
    payload_seen_at = CASE WHEN stored.payload_hash = excluded.payload_hash
        THEN stored.payload_seen_at ELSE excluded.payload_seen_at END,
    payload_run_id = CASE WHEN stored.payload_hash = excluded.payload_hash
        THEN stored.payload_run_id ELSE excluded.payload_run_id END,
    fetched_at = excluded.fetched_at
"""

_QUARANTINE = """
INSERT INTO {quarantine} (
    run_id, profile_id, loop_id, source, reason, raw, received_at
) VALUES (%s, %s, %s, %s, %s, %s, %s)
"""
