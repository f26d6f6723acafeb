"""Bookkeeping of sync runs: the schema lock, run rows and per-profile watermarks.

Syncs and sweeps share the raw schema (one per profile at a time, through the
leases of sync/leases.py); a purge takes it alone. A running run is alive
while the Postgres session it last worked on exists and its lease has not
expired; a run row left "running" by a run that is not alive is closed as
interrupted by the next run that starts.
"""

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

RunStatus = Literal["succeeded", "failed", "skipped"]
T = TypeVar("T")

# The longest error text kept on a run row; the log has the rest.
_ERROR_LIMIT = 2000
# Reconnecting after a lost connection: a restarting Postgres takes seconds.
RECONNECT_ATTEMPTS = 6
RECONNECT_DELAY_SECONDS = 0.5
# How long a run stays alive without renewing its lease. It renews with every
# landed page and between requests, so this only has to outlast the longest
# single request (budget wait, retries and backoff: some six minutes).
LEASE_SECONDS = 600.0

# SQL: the run row `run` is alive. A session that ended (the worker died) ends
# it at once; a lease not renewed in time ends it too (the worker hangs, or
# its host vanished without closing the session). backend_start is NULL for
# sessions of other roles that the reader may not inspect: taken as alive.
# Behind a transaction-pooling proxy a run's session is not its own; a run
# then found dead while alive only loses its profiles at its next page.
RUN_IS_ALIVE = """
    run.status = 'running' AND run.expires_at > now()
    AND run.backend_pid IS NOT NULL
    AND EXISTS (
        SELECT FROM pg_stat_get_activity(run.backend_pid) AS backend
        WHERE backend.backend_start = run.backend_started
            OR backend.backend_start IS NULL
    )
"""


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
    quarantine_retried: int = 0
    quarantine_resolved: int = 0
    fetches_retried: int = 0
    fetches_pending: int = 0
    profiles_busy: int = 0


@dataclass(frozen=True)
class RunStart:
    """A run row just created: its id and the database time it started."""

    run_id: int
    started_at: datetime


class RunDatabase:
    """The connection a run works on, holding the schema lock.

    Syncs and sweeps hold the lock shared, a purge alone (exclusive=True). It
    is a session lock: it ends with its connection, so a worker that dies
    never leaves the schema locked. When the connection is lost (Postgres
    restarted, the backend terminated), transact() reconnects, takes the lock
    again and runs the interrupted unit of work again whole; a unit that lost
    a deadlock or a serialization conflict is run again too.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        exclusive: bool = False,
        attempts: int = RECONNECT_ATTEMPTS,
        delay: float = RECONNECT_DELAY_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.exclusive = exclusive
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
        _release(conn, self.key, self.exclusive)
        conn.close()

    def finish(
        self,
        run_id: int,
        counts: RunCounts,
        status: RunStatus,
        error: str | None = None,
    ) -> tuple[datetime, str]:
        """Record a run's end in a transaction of its own (frees its leases)."""
        schema = self.settings.raw_schema
        return self.transact(
            lambda conn: finish_run(
                conn, schema, run_id, counts, status=status, error=error
            )
        )

    def finish_unsuccessful(
        self, run_id: int, counts: RunCounts, status: RunStatus, error: str
    ) -> None:
        """Record a run that did not succeed; never masks what ended it.

        The caller is about to raise or report the run's own error, so a
        failure to record it is logged instead of raised over that error.
        """
        try:
            self.finish(run_id, counts, status, error)
        except Exception as exc:
            logger.error(
                "could not record sync run %d as %s: %s",
                run_id,
                status,
                redact(str(exc)),
            )

    def transact(self, work: Callable[[Connection], T]) -> T:
        """Run work in one transaction, again whole after a lost connection."""
        attempt = 1
        while True:
            try:
                with self.conn.transaction():
                    return work(self.conn)
            except (StorageError, psycopg.Error) as exc:
                if _lost_a_conflict(exc) and attempt < self.attempts:
                    # Two runs landing loops that both their profiles show.
                    logger.warning(
                        "a unit of work lost a lock conflict; running it again "
                        "(attempt %d of %d)",
                        attempt + 1,
                        self.attempts,
                    )
                    attempt += 1
                    continue
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
        take = (
            "pg_try_advisory_lock" if self.exclusive else "pg_try_advisory_lock_shared"
        )
        with storage_errors("take the schema lock"):
            row = self.conn.execute(
                sql.SQL("SELECT {}(hashtext(%s))").format(sql.Identifier(take)),
                (self.key,),
            ).fetchone()
        if not (row and row[0]):
            holder = "a purge" if not self.exclusive else "a sync run or sweep"
            raise SyncInProgressError(
                f"{holder} is working on {self.settings.raw_schema}; wait for it "
                "to finish (see `dotloop-reporter status`)"
            )


def _release(conn: Connection, key: str, exclusive: bool) -> None:
    # A lost connection has released the lock already; what ended the run
    # matters more than this.
    unlock = "pg_advisory_unlock" if exclusive else "pg_advisory_unlock_shared"
    try:
        conn.execute(
            sql.SQL("SELECT {}(hashtext(%s))").format(sql.Identifier(unlock)), (key,)
        )
    except psycopg.Error as exc:
        logger.warning("could not release the schema lock: %s", redact(str(exc)))


def _lost_a_conflict(exc: BaseException) -> bool:
    cause = exc if isinstance(exc, psycopg.Error) else exc.__cause__
    return isinstance(
        cause, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure
    )


def start_run(
    conn: Connection,
    schema: str,
    trigger: str,
    *,
    requests_per_minute: int | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> RunStart:
    """Close runs that are no longer alive, then record a new running run.

    requests_per_minute is the budget the run's client is paced to, kept on
    the row for reporting.sync_runs (None: not known).
    """
    params = {
        "trigger": trigger,
        "seconds": lease_seconds,
        "requests_per_minute": requests_per_minute,
    }
    with storage_errors("record the start of a sync run"), conn.transaction():
        abandoned = conn.execute(_abandon(schema)).rowcount
        row = conn.execute(_start(schema), params).fetchone()
    assert row is not None
    if abandoned > 0:
        logger.warning("marked %d abandoned running sync run(s) as failed", abandoned)
    return RunStart(run_id=row[0], started_at=row[1])


def renew_run(conn: Connection, schema: str, run_id: int, lease_seconds: float) -> bool:
    """Keep the run alive for lease_seconds more, on this session; False if closed.

    A run another run closed as abandoned (it looked dead: its session gone or
    its lease expired) stays closed.
    """
    params = {"run_id": run_id, "seconds": lease_seconds}
    with storage_errors("renew a sync run's lease"):
        return conn.execute(_renew(schema), params).fetchone() is not None


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
) -> tuple[datetime, str]:
    """Store the final counters and status, free its leases; when, and the status.

    A run closed meanwhile as abandoned keeps that status (another run may
    have taken its profiles over since); its counters are still stored.
    """
    params = {"status": status, "error": _clip(error), "run_id": run_id}
    with storage_errors("record the end of a sync run"), conn.transaction():
        conn.execute(_update_counts(schema), {**asdict(counts), "run_id": run_id})
        row = conn.execute(_finish(schema), params).fetchone()
    assert row is not None
    finished_at: datetime = row[0]
    if row[1] != status:
        logger.warning(
            "sync run %d was closed as %s by another run before it finished",
            run_id,
            row[1],
        )
    return finished_at, str(row[1])


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


def _abandon(schema: str) -> sql.Composed:
    return sql.SQL(
        "UPDATE {} AS run SET status = 'failed', finished_at = now(), "
        "error = 'interrupted: the process ended before the run finished' "
        "WHERE run.status = 'running' AND NOT ({})"
    ).format(sql.Identifier(schema, "sync_run"), sql.SQL(RUN_IS_ALIVE))


# The session's own identity, so that others can tell when it is gone, and
# the end of the lease.
_PID = sql.SQL("pg_backend_pid()")
_BACKEND_STARTED = sql.SQL(
    "(SELECT backend_start FROM pg_stat_get_activity(pg_backend_pid()))"
)
_EXPIRES = sql.SQL("now() + make_interval(secs => %(seconds)s)")


def _start(schema: str) -> sql.Composed:
    return sql.SQL(
        "INSERT INTO {} (trigger, requests_per_minute, backend_pid, "
        "backend_started, expires_at) "
        "VALUES (%(trigger)s, %(requests_per_minute)s, {}, {}, {}) "
        "RETURNING run_id, started_at"
    ).format(sql.Identifier(schema, "sync_run"), _PID, _BACKEND_STARTED, _EXPIRES)


def _renew(schema: str) -> sql.Composed:
    return sql.SQL(
        "UPDATE {} SET backend_pid = {}, backend_started = {}, expires_at = {} "
        "WHERE run_id = %(run_id)s AND status = 'running' RETURNING run_id"
    ).format(sql.Identifier(schema, "sync_run"), _PID, _BACKEND_STARTED, _EXPIRES)


def _finish(schema: str) -> sql.Composed:
    return sql.SQL(
        """
        WITH leases AS (
            DELETE FROM {lease} WHERE run_id = %(run_id)s
        ), finished AS (
            UPDATE {table} SET
                status = %(status)s, error = %(error)s, finished_at = now(),
                expires_at = NULL
            WHERE run_id = %(run_id)s AND status = 'running'
            RETURNING finished_at, status
        )
        SELECT finished_at, status FROM finished
        UNION ALL
        SELECT finished_at, status FROM {table}
        WHERE run_id = %(run_id)s AND NOT EXISTS (SELECT FROM finished)
        """
    ).format(
        table=sql.Identifier(schema, "sync_run"),
        lease=sql.Identifier(schema, "profile_lease"),
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
