"""Retention: delete stored Dotloop data older than DOTLOOP_RETENTION_DAYS allows.

Dotloop's API terms restrict keeping copies of data beyond the approved use,
so how long copies are kept is a setting. The policy, applied by purge():

- DOTLOOP_RETENTION_DAYS unset (the default): nothing is ever deleted.
- DOTLOOP_RETENTION_DAYS=N: everything older than N days goes, namely
  - loops removed (gone from Dotloop or merged) more than N days ago: the
    loop row, its profile links and all its payload history;
  - replaced payloads (payload_history) first seen more than N days ago. The
    current ones (a live loop's summary, details and participants and each
    profile as stored now), which the reports are built from, live in their
    rows and never in payload_history, so this never deletes one;
  - quarantined payloads received more than N days ago.

Sync runs, watermarks, checkpoints and merge pointers hold ids and counts, no
Dotloop content, and are kept. The purge takes the sync lock, so it never
runs while a sync lands pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from psycopg import sql

from .db import Connection, apply_schema, raw_tables, storage_errors
from .runs import RunDatabase
from .settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted, and before when; cutoff None when nothing is due."""

    cutoff: datetime | None
    loops: int = 0
    history: int = 0
    quarantine: int = 0


def purge(settings: Settings, *, now: datetime | None = None) -> PurgeResult:
    """Delete what the retention policy no longer allows keeping (see above)."""
    days = settings.retention_days
    if days is None:
        logger.info("no retention policy (DOTLOOP_RETENTION_DAYS): nothing purged")
        return PurgeResult(cutoff=None)
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    # Alone on the schema: no sync or sweep lands while history is deleted.
    with RunDatabase(settings, exclusive=True) as database:
        apply_schema(database.conn, settings)
        result = database.transact(
            lambda conn: _purge(conn, settings.raw_schema, cutoff)
        )
    logger.info(
        "purged data older than %s: %d removed loops, %d history rows, "
        "%d quarantined payloads",
        cutoff.isoformat(timespec="seconds"),
        result.loops,
        result.history,
        result.quarantine,
    )
    return result


def _purge(conn: Connection, schema: str, cutoff: datetime) -> PurgeResult:
    statements = _statements(schema)
    params = {"cutoff": cutoff}
    with storage_errors("purge data past its retention"):
        loops = conn.execute(statements.removed_loops, params).rowcount
        history = conn.execute(statements.history, params).rowcount
        quarantine = conn.execute(statements.quarantine, params).rowcount
    return PurgeResult(cutoff, max(loops, 0), max(history, 0), max(quarantine, 0))


@dataclass(frozen=True)
class _Statements:
    removed_loops: sql.Composed
    history: sql.Composed
    quarantine: sql.Composed


@lru_cache(maxsize=8)
def _statements(schema: str) -> _Statements:
    tables = raw_tables(schema)
    return _Statements(
        removed_loops=sql.SQL(_REMOVED_LOOPS).format(**tables),
        history=sql.SQL(_HISTORY).format(**tables),
        quarantine=sql.SQL(_QUARANTINE).format(**tables),
    )


_REMOVED_LOOPS = """
WITH gone AS (
    SELECT loop_id FROM {loop} WHERE removed_at < %(cutoff)s
), links AS (
    DELETE FROM {loop_profile} USING gone WHERE {loop_profile}.loop_id = gone.loop_id
), history AS (
    DELETE FROM {payload_history} AS history USING gone
    WHERE history.kind <> 'profile' AND history.entity_id = gone.loop_id
)
DELETE FROM {loop} USING gone WHERE {loop}.loop_id = gone.loop_id
"""

_HISTORY = """
DELETE FROM {payload_history} WHERE first_seen_at < %(cutoff)s
"""

_QUARANTINE = """
DELETE FROM {quarantine} WHERE received_at < %(cutoff)s
"""
