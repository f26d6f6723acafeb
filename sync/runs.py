"""Bookkeeping of sync runs: the run lock, run rows and per-profile watermarks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from types import TracebackType
from typing import Literal, TypeVar

import psycopg
from psycopg import sql

from connector.secrets import redact

from .db import Connection, connect, storage_errors
from .errors import StorageError, SyncInProgressError
from .settings import Settings

logger = logging.getLogger(__name__)

RunStatus = Literal["succeeded", "failed"]
T = TypeVar("T")

# The longest error text kept on a run row; the log has the rest.
_ERROR_LIMIT = 2000
# Reconnecting after a lost connection: a restarting Postgres takes seconds.
RECONNECT_ATTEMPTS = 6
RECONNECT_DELAY_SECONDS = 0.5


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
    loops_removed: int = 0


@dataclass(frozen=True)
class RunStart:
    """A run row just created: its id and the database time it started."""

    run_id: int
    started_at: datetime


class RunDatabase:
    """The connection a run works on, holding the lock that admits one run.

    The lock is a session lock: it ends with its connection, so a worker that
    dies mid-run never leaves the next run locked out. When the connection is
    lost (Postgres restarted, the backend terminated), transact() reconnects,
    takes the lock again and runs the interrupted unit of work again whole.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        attempts: int = RECONNECT_ATTEMPTS,
        delay: float = RECONNECT_DELAY_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.attempts = attempts
        self.delay = delay
        self.sleep = sleep
        self.key = f"dotloop-reporter:sync:{settings.raw_schema}"
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        """The current connection (a new one after a reconnect)."""
        if self._conn is None:
            raise RuntimeError("the run database is not open")
        return self._conn

    def __enter__(self) -> RunDatabase:
        self._conn = connect(self.settings)
        try:
            self._prepare()
        except BaseException:
            self._conn.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        _release(conn, self.key)
        conn.close()

    def transact(self, work: Callable[[Connection], T]) -> T:
        """Run work in one transaction, again whole after a lost connection."""
        attempt = 1
        while True:
            try:
                with self.conn.transaction():
                    return work(self.conn)
            except (StorageError, psycopg.Error) as exc:
                if not self._lost() or attempt >= self.attempts:
                    if isinstance(exc, psycopg.Error):
                        raise StorageError(
                            f"Postgres failed: {redact(str(exc))}"
                        ) from exc
                    raise
                logger.warning(
                    "lost the Postgres connection (%s); reconnecting to retry "
                    "the unit of work (attempt %d of %d)",
                    redact(str(exc)).splitlines()[0] if str(exc) else "closed",
                    attempt + 1,
                    self.attempts,
                )
            self._reconnect()
            attempt += 1

    def _lost(self) -> bool:
        conn = self.conn
        return bool(conn.broken or conn.closed)

    def _reconnect(self) -> None:
        old, self._conn = self._conn, None
        if old is not None:
            old.close()
        for attempt in range(1, self.attempts + 1):
            self.sleep(self.delay * attempt)
            try:
                self._conn = connect(self.settings)
                break
            except StorageError:
                if attempt == self.attempts:
                    raise
                logger.warning("Postgres is not reachable yet; trying again")
        self._prepare()

    def _prepare(self) -> None:
        # A commit need not wait for the disk: the checkpoint commits with
        # its page, so a commit Postgres loses in a crash loses both, and the
        # page is simply fetched and landed again.
        with storage_errors("prepare the sync session"):
            self.conn.execute("SET synchronous_commit = off")
        self._lock()

    def _lock(self) -> None:
        with storage_errors("take the sync lock"):
            row = self.conn.execute(
                "SELECT pg_try_advisory_lock(hashtext(%s))", (self.key,)
            ).fetchone()
        if not (row and row[0]):
            raise SyncInProgressError(
                f"another sync run is landing into {self.settings.raw_schema}; "
                "wait for it to finish (see `dotloop-reporter status`)"
            )


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


def advance_watermark(
    conn: Connection,
    schema: str,
    *,
    profile_id: int,
    run_id: int,
    candidate: datetime | None,
) -> None:
    """After a complete listing: move the watermark forward to candidate.

    The caller caps candidate at the start of the listing, because a loop
    updated while the listing ran may have moved to a page already read. The
    watermark never moves backwards.
    """
    params = {"profile_id": profile_id, "watermark": candidate, "run_id": run_id}
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
