"""What a run owes a later one: fetches that failed and open quarantine entries.

A loop lands even when its details or participants could not be fetched (an
error, a 404 of a loop that is still there, a response that had to be
quarantined); the fetch is recorded in `pending_fetch` and the next runs try it
again, a bounded number a run (sync/retries.py), until it lands or a listing
brings the loop again with what was missing. A quarantine entry stays open
until what it stands for lands: a loop item, a participant list, details.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from psycopg import sql

from .db import Connection, raw_tables, storage_errors

DETAILS = "details"
PARTICIPANTS = "participants"
# The quarantine source of a list item (also landing.SOURCE_LOOP_ITEM).
LOOP_ITEM = "loop_item"


@dataclass(frozen=True)
class FailedFetch:
    """A details or participants request that did not land, and why."""

    loop_id: int
    kind: str
    profile_id: int
    loop_updated: str
    error: str


@dataclass(frozen=True)
class DueFetch:
    """A pending fetch to try again, at the loop's stored version."""

    loop_id: int
    kind: str
    loop_updated: str
    attempts: int


@dataclass(frozen=True)
class QuarantinedLoop:
    """A loop whose list item is quarantined, and its open entries."""

    loop_id: int
    entry_ids: tuple[int, ...]


def record_failed(
    conn: Connection,
    schema: str,
    failures: Sequence[FailedFetch],
    *,
    run_id: int | None,
    now: datetime,
) -> None:
    """Record (or count again) fetches that failed, in the caller's transaction."""
    if not failures:
        return
    params = [
        (f.loop_id, f.kind, f.profile_id, f.loop_updated, now, now, run_id, f.error)
        for f in failures
    ]
    with storage_errors("record failed fetches"):
        conn.cursor().executemany(_statements(schema).record, params)


def clear_pending(
    conn: Connection, schema: str, kind: str, loop_ids: Collection[int]
) -> int:
    """Forget pending fetches of one kind that have landed; how many there were."""
    if not loop_ids:
        return 0
    params = {"kind": kind, "ids": sorted(loop_ids)}
    with storage_errors("clear pending fetches"):
        return max(conn.execute(_statements(schema).clear, params).rowcount, 0)


def pending_keys(conn: Connection, schema: str) -> set[tuple[int, str]]:
    """(loop id, kind) of every pending fetch: few, so a run keeps them at hand."""
    with storage_errors("read pending fetches"):
        rows = conn.execute(_statements(schema).keys).fetchall()
    return {(int(row[0]), str(row[1])) for row in rows}


def note_missing_participants(
    conn: Connection, schema: str, profile_ids: Sequence[int], now: datetime
) -> int:
    """Record the loops of these profiles whose stored participants are stale.

    Covers what an earlier version of the product left behind, or anything
    else that left a loop's participants behind its `updated`; each is owed
    through the first of the profiles that shows it.
    """
    params = {"profile_ids": list(profile_ids), "now": now}
    with storage_errors("find loops with participants missing"):
        return max(conn.execute(_statements(schema).missing, params).rowcount, 0)


def due_fetches(
    conn: Connection,
    schema: str,
    profile_id: int,
    *,
    run_id: int,
    limit: int,
    max_attempts: int,
) -> list[DueFetch]:
    """The profile's pending fetches to try now, oldest first.

    Skips what this run itself failed (it tries again next run), loops no
    longer there, and fetches that failed max_attempts times already.
    """
    params = {
        "profile_id": profile_id,
        "run_id": run_id,
        "limit": limit,
        "max_attempts": max_attempts,
    }
    with storage_errors("read due fetches"):
        conn.execute(_statements(schema).settle, params)
        rows = conn.execute(_statements(schema).due, params).fetchall()
    return [DueFetch(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


def count_pending(conn: Connection, schema: str) -> int:
    """How many fetches are pending, all profiles."""
    with storage_errors("count pending fetches"):
        row = conn.execute(_statements(schema).count).fetchone()
    return 0 if row is None else int(row[0])


def open_entries(conn: Connection, schema: str) -> dict[int, set[str]]:
    """The sources of the open quarantine entries of each loop."""
    with storage_errors("read open quarantine entries"):
        rows = conn.execute(_statements(schema).open).fetchall()
    entries: dict[int, set[str]] = {}
    for loop_id, source in rows:
        entries.setdefault(int(loop_id), set()).add(str(source))
    return entries


def quarantined_loops(
    conn: Connection,
    schema: str,
    profile_id: int,
    *,
    run_id: int,
    limit: int,
    max_retries: int,
) -> list[QuarantinedLoop]:
    """The profile's loops with an open loop item entry, longest waiting first.

    Leaves out loops this run itself quarantined: the next run asks for them.
    """
    params = {
        "profile_id": profile_id,
        "run_id": run_id,
        "limit": limit,
        "max_retries": max_retries,
    }
    with storage_errors("read quarantined loops"):
        rows = conn.execute(_statements(schema).items, params).fetchall()
    return [QuarantinedLoop(int(row[0]), tuple(row[1])) for row in rows]


def resolve_entries(
    conn: Connection,
    schema: str,
    loop_ids: Iterable[int],
    sources: Collection[str],
    *,
    run_id: int | None,
    now: datetime,
) -> int:
    """Close the open entries of these sources for loops that have now landed."""
    params = {
        "ids": sorted(set(loop_ids)),
        "sources": sorted(sources),
        "run_id": run_id,
        "now": now,
    }
    if not params["ids"]:
        return 0
    with storage_errors("resolve quarantine entries"):
        return max(conn.execute(_statements(schema).resolve, params).rowcount, 0)


def note_retry(
    conn: Connection, schema: str, entry_ids: Sequence[int], now: datetime
) -> None:
    """Count one more retry on entries whose loop is still unusable."""
    params = {"ids": list(entry_ids), "now": now}
    with storage_errors("count a quarantine retry"):
        conn.execute(_statements(schema).retried, params)


@dataclass(frozen=True)
class _Statements:
    record: sql.Composed
    clear: sql.Composed
    keys: sql.Composed
    missing: sql.Composed
    settle: sql.Composed
    due: sql.Composed
    count: sql.Composed
    open: sql.Composed
    items: sql.Composed
    resolve: sql.Composed
    retried: sql.Composed


@lru_cache(maxsize=8)
def _statements(schema: str) -> _Statements:
    tables = {**raw_tables(schema), "pending": sql.Identifier(schema, "pending_fetch")}
    return _Statements(
        **{name: sql.SQL(text).format(**tables) for name, text in _SQL.items()}
    )


_SQL = {
    "record": """
        INSERT INTO {pending} AS pending (
            loop_id, kind, profile_id, loop_updated, first_failed_at,
            last_failed_at, run_id, last_error
        ) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (loop_id, kind) DO UPDATE SET
            profile_id = excluded.profile_id,
            loop_updated = excluded.loop_updated,
            attempts = pending.attempts + 1,
            last_failed_at = excluded.last_failed_at,
            run_id = excluded.run_id,
            last_error = excluded.last_error
    """,
    "clear": """
        DELETE FROM {pending}
        WHERE kind = %(kind)s AND loop_id = ANY(%(ids)s::bigint[])
    """,
    "keys": "SELECT loop_id, kind FROM {pending}",
    "missing": """
        INSERT INTO {pending} (
            loop_id, kind, profile_id, loop_updated, attempts, first_failed_at,
            last_failed_at, last_error
        )
        SELECT stored.loop_id, 'participants', min(link.profile_id),
            stored.loop_updated, 0, %(now)s, %(now)s,
            'participants behind the loop''s updated since an earlier run'
        FROM {loop} AS stored
        JOIN {loop_profile} AS link ON link.loop_id = stored.loop_id
            AND link.profile_id = ANY(%(profile_ids)s::bigint[])
            AND link.removed_at IS NULL
        WHERE stored.removed_at IS NULL
            AND stored.loop_updated IS NOT NULL
            AND stored.participants_for_updated IS DISTINCT FROM stored.loop_updated
        GROUP BY stored.loop_id, stored.loop_updated
        ON CONFLICT (loop_id, kind) DO NOTHING
    """,
    # Fetches that need nothing any more: the loop is gone, or a listing
    # brought its participants since.
    "settle": """
        DELETE FROM {pending} AS pending
        WHERE pending.profile_id = %(profile_id)s AND NOT EXISTS (
            SELECT FROM {loop} AS stored
            WHERE stored.loop_id = pending.loop_id
                AND stored.removed_at IS NULL
                AND stored.loop_updated IS NOT NULL
                AND (
                    pending.kind = 'details'
                    OR stored.participants_for_updated
                        IS DISTINCT FROM stored.loop_updated
                )
        )
    """,
    "due": """
        SELECT pending.loop_id, pending.kind, stored.loop_updated, pending.attempts
        FROM {pending} AS pending
        JOIN {loop} AS stored ON stored.loop_id = pending.loop_id
        WHERE pending.profile_id = %(profile_id)s
            AND pending.run_id IS DISTINCT FROM %(run_id)s
            AND pending.attempts < %(max_attempts)s
        ORDER BY pending.last_failed_at, pending.loop_id, pending.kind
        LIMIT %(limit)s
    """,
    "count": "SELECT count(*) FROM {pending}",
    "open": """
        SELECT loop_id, source FROM {quarantine}
        WHERE resolved_at IS NULL AND loop_id IS NOT NULL
    """,
    "items": """
        SELECT loop_id, array_agg(quarantine_id ORDER BY quarantine_id)
        FROM {quarantine}
        WHERE resolved_at IS NULL AND loop_id IS NOT NULL
            AND source = 'loop_item' AND profile_id = %(profile_id)s
            AND retries < %(max_retries)s
        GROUP BY loop_id
        HAVING bool_and(run_id IS DISTINCT FROM %(run_id)s)
        ORDER BY min(received_at), loop_id
        LIMIT %(limit)s
    """,
    "resolve": """
        UPDATE {quarantine} SET resolved_at = %(now)s, resolved_run_id = %(run_id)s
        WHERE resolved_at IS NULL AND loop_id = ANY(%(ids)s::bigint[])
            AND source = ANY(%(sources)s::text[])
    """,
    "retried": """
        UPDATE {quarantine} SET retries = retries + 1, last_retry_at = %(now)s
        WHERE quarantine_id = ANY(%(ids)s::bigint[])
    """,
}
