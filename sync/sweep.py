"""Deletes and merges: loops that left their listings, answered 404, or merged.

Dotloop sends no event when a loop is deleted or a user loses access to it;
such a loop shows up only as absence from a complete listing or as 404. The
periodic sweep lists every profile's loops in the cheapest form there is (the
API has no ids-only mode, so: no `include_details`, 100 a page, sorted by
`created`, which never changes, so edits do not move loops between pages) and
marks what a complete listing no longer shows. Nothing is deleted: the loop
and its history stay, with `removed_at` saying since when it is gone, first
per profile (`loop_profile.removed_at`), then for the loop once no profile
shows it. A loop listed or landed again is no longer removed, and a stored
loop the sweep finds in a profile it was not linked to (moved to another
office without an edit, so no incremental run saw it) gets its link.

A sweep counts as complete when it read as many distinct loops as the first
page's meta.total; without a total nothing is marked. A loop deleted from the
part already read while another is created could hide a skipped loop from the
count; the skipped loop is then marked removed until the next sweep or sync
lists it again.

A merge (the LOOP_MERGED webhook) calls mark_merged(): the old id points at
its successor in `loop_merge` and is marked removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from psycopg import sql

from connector import DotloopClient, InvalidResponseError, NotFoundError

from .db import Connection, apply_schema, storage_errors
from .leases import ProfileLeases
from .payloads import UnusablePayload, parse_id
from .runs import RunCounts, RunDatabase, finish_run, start_run
from .settings import Settings

logger = logging.getLogger(__name__)

SWEEP_SORT = "created:asc"
SWEEP_BATCH_SIZE = 100


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: the profiles it could and could not list completely."""

    run_id: int
    complete_profiles: tuple[int, ...]
    incomplete_profiles: tuple[int, ...]
    loops_removed: int
    loops_restored: int
    requests: int


@dataclass(frozen=True)
class ProfileListing:
    """The ids one sweep listing read, and whether it read them all."""

    profile_id: int
    loop_ids: frozenset[int]
    pages: int
    complete: bool


def sweep(
    settings: Settings, client: DotloopClient, *, profile_ids: Iterable[int] = ()
) -> SweepResult:
    """List every profile's loop ids and mark the ones no longer listed as removed.

    profile_ids limits the sweep; by default it covers the profiles a sync
    covers. Recorded as a sync run with trigger "sweep".
    """
    requests_before = client.stats.requests
    with RunDatabase(settings) as database:
        apply_schema(database.conn, settings)
        run = start_run(
            database.conn,
            settings.raw_schema,
            "sweep",
            requests_per_minute=settings.dotloop.requests_per_minute,
        )
        counts = RunCounts()
        complete: list[int] = []
        incomplete: list[int] = []
        restored = 0
        # A sync landing a profile while its sweep marks it could see a new
        # loop marked removed: one of the two at a time, by the profile lease.
        leases = ProfileLeases(database, settings.raw_schema, run.run_id)
        try:
            for profile_id in list(profile_ids) or sweep_profiles(settings, client):
                holder = leases.take(profile_id)
                if holder is not None:
                    logger.warning("sweep %d skips: %s", run.run_id, holder.describe())
                    incomplete.append(profile_id)
                    continue
                try:
                    listing = list_loop_ids(client, profile_id)
                    counts.profiles += 1
                    counts.pages += listing.pages
                    counts.loops_seen += len(listing.loop_ids)
                    if not listing.complete:
                        incomplete.append(profile_id)
                        continue
                    removed, back = database.transact(
                        _marker(settings.raw_schema, listing, _now(), leases)
                    )
                finally:
                    leases.release(profile_id)
                counts.loops_removed += removed
                restored += back
                complete.append(profile_id)
        except BaseException as exc:
            counts.requests = client.stats.requests - requests_before
            finish_run(
                database.conn,
                settings.raw_schema,
                run.run_id,
                counts,
                status="failed",
                error=f"{type(exc).__name__}: {exc}",
            )
            raise
        counts.requests = client.stats.requests - requests_before
        finish_run(
            database.conn, settings.raw_schema, run.run_id, counts, status="succeeded"
        )
    logger.info(
        "sweep %d: %d profiles listed completely, %d not; %d loops removed, "
        "%d back, %d requests",
        run.run_id,
        len(complete),
        len(incomplete),
        counts.loops_removed,
        restored,
        counts.requests,
    )
    return SweepResult(
        run_id=run.run_id,
        complete_profiles=tuple(complete),
        incomplete_profiles=tuple(incomplete),
        loops_removed=counts.loops_removed,
        loops_restored=restored,
        requests=counts.requests,
    )


def sweep_profiles(settings: Settings, client: DotloopClient) -> list[int]:
    """The configured profiles, else every active profile the user has."""
    if settings.dotloop.profile_ids:
        return list(settings.dotloop.profile_ids)
    return [
        int(profile["id"])
        for profile in client.profiles()
        if not profile.get("deactivated") and _has_id(profile)
    ]


def list_loop_ids(client: DotloopClient, profile_id: int) -> ProfileListing:
    """Every loop id of a profile, in as few and as small pages as the API allows."""
    ids: set[int] = set()
    expected: int | None = None
    pages = 0
    try:
        for page in client.iter_loop_pages(
            profile_id,
            batch_size=SWEEP_BATCH_SIZE,
            sort=SWEEP_SORT,
            include_details=False,
        ):
            if pages == 0:
                expected = page.total if page.total is not None else -1
            pages += 1
            ids.update(_ids(page.items))
    except (InvalidResponseError, NotFoundError) as exc:
        logger.warning("sweep of profile %d stopped: %s", profile_id, exc)
        return ProfileListing(profile_id, frozenset(ids), pages, complete=False)
    complete = expected is not None and expected >= 0 and len(ids) >= expected
    if not complete:
        logger.warning(
            "sweep of profile %d read %d loops of %s; nothing marked",
            profile_id,
            len(ids),
            "an unknown number" if expected is None or expected < 0 else expected,
        )
    return ProfileListing(profile_id, frozenset(ids), pages, complete)


def mark_absent(
    conn: Connection, schema: str, listing: ProfileListing, now: datetime
) -> tuple[int, int]:
    """Link the listed loops to the profile; mark the links not listed removed.

    Returns (loops newly removed, loops listed again after being removed).
    """
    statements = _statements(schema)
    params = {
        "profile_id": listing.profile_id,
        "ids": sorted(listing.loop_ids),
        "now": now,
    }
    with storage_errors("mark loops absent from a sweep"):
        conn.execute(statements.link_listed, params)
        restored = conn.execute(statements.restore, params).rowcount
        conn.execute(statements.unlink_absent, params)
        removed = conn.execute(statements.remove_unlinked, params).rowcount
        conn.execute(statements.swept, params)
    return max(removed, 0), max(restored, 0)


def mark_gone(
    conn: Connection,
    schema: str,
    profile_id: int,
    loop_ids: Iterable[int],
    now: datetime,
) -> int:
    """Mark loops that answered 404 through a profile as gone from it.

    A loop no other profile shows any more is removed; returns how many were.
    """
    params = {"profile_id": profile_id, "ids": sorted(set(loop_ids)), "now": now}
    if not params["ids"]:
        return 0
    statements = _statements(schema)
    with storage_errors("mark loops that answered 404"):
        conn.execute(statements.unlink, params)
        removed = conn.execute(statements.remove_unlinked, params).rowcount
    return max(removed, 0)


def mark_merged(
    conn: Connection,
    settings: Settings,
    old_id: int,
    new_id: int,
    *,
    now: datetime | None = None,
) -> None:
    """Record that loop old_id was merged into new_id (LOOP_MERGED), idempotently.

    The old loop is marked removed, its history kept; the new one is picked up
    by the next sync like any updated loop.
    """
    if old_id == new_id:
        raise ValueError(f"loop {old_id} cannot be merged into itself")
    statements = _statements(settings.raw_schema)
    params = {"old": old_id, "new": new_id, "now": now or _now()}
    with storage_errors("record a loop merge"), conn.transaction():
        conn.execute(statements.merge, params)
        conn.execute(statements.merged_away, params)
    logger.info("loop %d merged into loop %d", old_id, new_id)


def _marker(
    schema: str, listing: ProfileListing, now: datetime, leases: ProfileLeases
) -> Callable[[Connection], tuple[int, int]]:
    def mark(conn: Connection) -> tuple[int, int]:
        leases.check(conn, listing.profile_id)
        return mark_absent(conn, schema, listing, now)

    return mark


def _ids(items: Iterable[object]) -> set[int]:
    found: set[int] = set()
    for item in items:
        if isinstance(item, dict):
            try:
                found.add(parse_id(item.get("id")))
            except UnusablePayload:
                continue
    return found


def _has_id(profile: dict[str, object]) -> bool:
    try:
        parse_id(profile.get("id"))
    except UnusablePayload:
        return False
    return True


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Statements:
    link_listed: sql.Composed
    restore: sql.Composed
    unlink_absent: sql.Composed
    unlink: sql.Composed
    remove_unlinked: sql.Composed
    swept: sql.Composed
    merge: sql.Composed
    merged_away: sql.Composed


@lru_cache(maxsize=8)
def _statements(schema: str) -> _Statements:
    names = ("loop", "loop_profile", "loop_merge", "profile_sync_state")
    tables = {name: sql.Identifier(schema, name) for name in names}
    return _Statements(
        **{name: sql.SQL(text).format(**tables) for name, text in _SQL.items()}
    )


_SQL = {
    # Every listed loop that is stored is linked to the profile, live.
    "link_listed": """
        INSERT INTO {loop_profile} AS link (
            loop_id, profile_id, first_seen_at, last_seen_at
        )
        SELECT stored.loop_id, %(profile_id)s, %(now)s, %(now)s
        FROM {loop} AS stored
        JOIN unnest(%(ids)s::bigint[]) AS listed (loop_id) USING (loop_id)
        ON CONFLICT (loop_id, profile_id) DO UPDATE SET
            last_seen_at = excluded.last_seen_at, removed_at = NULL
    """,
    # A removed loop with a live link again is back; fetched_at moves as when
    # a sync lands it again, so whatever follows changed loops sees it.
    "restore": """
        UPDATE {loop} AS stored SET removed_at = NULL, fetched_at = %(now)s
        WHERE stored.removed_at IS NOT NULL
            AND EXISTS (
                SELECT 1 FROM {loop_profile} AS link
                WHERE link.loop_id = stored.loop_id
                    AND link.profile_id = %(profile_id)s
                    AND link.removed_at IS NULL
            )
    """,
    "unlink_absent": """
        UPDATE {loop_profile} AS link SET removed_at = %(now)s
        WHERE link.profile_id = %(profile_id)s AND link.removed_at IS NULL
            AND NOT EXISTS (
                SELECT 1 FROM unnest(%(ids)s::bigint[]) AS listed (loop_id)
                WHERE listed.loop_id = link.loop_id
            )
    """,
    "unlink": """
        UPDATE {loop_profile} SET removed_at = %(now)s
        WHERE profile_id = %(profile_id)s AND removed_at IS NULL
            AND loop_id = ANY(%(ids)s::bigint[])
    """,
    # A loop is removed once none of its links is live.
    "remove_unlinked": """
        UPDATE {loop} AS stored SET removed_at = %(now)s
        WHERE stored.removed_at IS NULL
            AND EXISTS (
                SELECT 1 FROM {loop_profile} AS link
                WHERE link.loop_id = stored.loop_id
                    AND link.profile_id = %(profile_id)s
                    AND link.removed_at IS NOT NULL
            )
            AND NOT EXISTS (
                SELECT 1 FROM {loop_profile} AS link
                WHERE link.loop_id = stored.loop_id AND link.removed_at IS NULL
            )
    """,
    "swept": """
        INSERT INTO {profile_sync_state} (profile_id, last_sweep_at)
        VALUES (%(profile_id)s, %(now)s)
        ON CONFLICT (profile_id) DO UPDATE SET last_sweep_at = excluded.last_sweep_at
    """,
    "merge": """
        INSERT INTO {loop_merge} (loop_id, merged_into, merged_at)
        VALUES (%(old)s, %(new)s, %(now)s)
        ON CONFLICT (loop_id) DO UPDATE SET merged_into = excluded.merged_into
    """,
    "merged_away": """
        WITH links AS (
            UPDATE {loop_profile} SET removed_at = coalesce(removed_at, %(now)s)
            WHERE loop_id = %(old)s
        )
        UPDATE {loop} SET removed_at = coalesce(removed_at, %(now)s)
        WHERE loop_id = %(old)s
    """,
}
