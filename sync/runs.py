"""Bookkeeping of sync runs: the run lock, run rows and per-profile watermarks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

import psycopg
from psycopg import sql

from connector.secrets import redact

from .db import Connection, storage_errors
from .errors import SyncInProgressError

logger = logging.getLogger(__name__)

RunStatus = Literal["succeeded", "failed"]

# The longest error text kept on a run row; the log has the rest.
_ERROR_LIMIT = 2000


@dataclass
class RunCounts:
    """The counters a run reports in its sync_run row and progress callbacks."""

    profiles: int = 0
    pages: int = 0
    loops_seen: int = 0
    loops_changed: int = 0
    participants_fetched: int = 0
    quarantined: int = 0
    requests: int = 0
    throttled: int = 0


@dataclass(frozen=True)
class RunStart:
    """A run row just created: its id and the database time it started."""

    run_id: int
    started_at: datetime


@contextmanager
def run_lock(conn: Connection, schema: str) -> Iterator[None]:
    """Hold the session lock that lets one sync run land into schema at a time.

    A session lock ends with its connection, so a worker that dies mid-run
    never leaves the next run locked out.
    """
    key = f"dotloop-reporter:sync:{schema}"
    with storage_errors("take the sync lock"):
        row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,))
        acquired = bool((row.fetchone() or (False,))[0])
    if not acquired:
        raise SyncInProgressError(
            f"another sync run is landing into {schema}; wait for it to finish "
            "(see `dotloop-reporter status`)"
        )
    try:
        yield
    finally:
        _release(conn, key)


def _release(conn: Connection, key: str) -> None:
    # A lost connection has released the lock already; what ended the run
    # matters more than this.
    try:
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
    except psycopg.Error as exc:
        logger.warning("could not release the sync lock: %s", redact(str(exc)))


def start_run(conn: Connection, schema: str, trigger: str) -> RunStart:
    """Close runs a dead process left running, then record a new running run."""
    table = sql.Identifier(schema, "sync_run")
    with storage_errors("record the start of a sync run"), conn.transaction():
        abandoned = conn.execute(
            sql.SQL(
                "UPDATE {} SET status = 'failed', finished_at = now(), "
                "error = 'interrupted: the process ended before the run finished' "
                "WHERE status = 'running'"
            ).format(table)
        ).rowcount
        row = conn.execute(
            sql.SQL(
                "INSERT INTO {} (trigger) VALUES (%s) RETURNING run_id, started_at"
            ).format(table),
            (trigger,),
        ).fetchone()
    assert row is not None
    if abandoned > 0:
        logger.warning("marked %d abandoned running sync run(s) as failed", abandoned)
    return RunStart(run_id=row[0], started_at=row[1])


def record_counts(
    conn: Connection, schema: str, run_id: int, counts: RunCounts
) -> None:
    """Store the counters so far, so a long run shows its progress."""
    with storage_errors("record sync run counts"):
        conn.execute(_update_counts(schema), {**asdict(counts), "run_id": run_id})


def finish_run(
    conn: Connection,
    schema: str,
    run_id: int,
    counts: RunCounts,
    *,
    status: RunStatus,
    error: str | None = None,
) -> datetime:
    """Store the final counters and status; returns the finishing time."""
    finish = sql.SQL(
        "UPDATE {} SET status = %(status)s, error = %(error)s, finished_at = now() "
        "WHERE run_id = %(run_id)s RETURNING finished_at"
    ).format(sql.Identifier(schema, "sync_run"))
    params = {"status": status, "error": _clip(error), "run_id": run_id}
    with storage_errors("record the end of a sync run"), conn.transaction():
        conn.execute(_update_counts(schema), {**asdict(counts), "run_id": run_id})
        row = conn.execute(finish, params).fetchone()
    assert row is not None
    finished_at: datetime = row[0]
    return finished_at


def watermark(conn: Connection, schema: str, profile_id: int) -> datetime | None:
    """The newest `updated` a complete listing of the profile has covered."""
    query = sql.SQL("SELECT watermark FROM {} WHERE profile_id = %s").format(
        sql.Identifier(schema, "profile_sync_state")
    )
    with storage_errors("read a profile watermark"):
        row = conn.execute(query, (profile_id,)).fetchone()
    return None if row is None else row[0]


def complete_listing(
    conn: Connection,
    schema: str,
    *,
    profile_id: int,
    run: RunStart,
    newest_seen: datetime | None,
) -> None:
    """After a complete listing: move the watermark forward, never past the start.

    The watermark is capped at the run's start because a loop updated while
    the listing ran may have moved to a page already read.
    """
    candidate = None if newest_seen is None else min(newest_seen, run.started_at)
    params = {"profile_id": profile_id, "watermark": candidate, "run_id": run.run_id}
    with storage_errors("advance a profile watermark"):
        conn.execute(_advance(schema), params)


def _update_counts(schema: str) -> sql.Composed:
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name))
        for name in RunCounts.__dataclass_fields__
    )
    return sql.SQL("UPDATE {} SET {} WHERE run_id = %(run_id)s").format(
        sql.Identifier(schema, "sync_run"), assignments
    )


def _advance(schema: str) -> sql.Composed:
    return sql.SQL(
        """
        INSERT INTO {state} AS state (
            profile_id, watermark, last_complete_run_id, last_success_at
        )
        VALUES (%(profile_id)s, %(watermark)s, %(run_id)s, now())
        ON CONFLICT (profile_id) DO UPDATE SET
            watermark = greatest(state.watermark, excluded.watermark),
            last_complete_run_id = excluded.last_complete_run_id,
            last_success_at = excluded.last_success_at
        """
    ).format(state=sql.Identifier(schema, "profile_sync_state"))


def _clip(error: str | None) -> str | None:
    if error is None or len(error) <= _ERROR_LIMIT:
        return error
    return error[: _ERROR_LIMIT - 1] + "…"
