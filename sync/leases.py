"""One sync per profile at a time: profile leases held by live runs.

A run takes a profile's lease before it lists the profile and gives it back
when it is done with it; another run that wants the profile meanwhile is told
which run has it, and skips it. A lease belongs to its run, and a run is alive
while the Postgres session it works on exists and its own lease on life has
not expired (sync/runs.py, RUN_IS_ALIVE). So a worker killed outright frees
its profiles as soon as Postgres notices the closed connection, and a worker
that hangs with its session open frees them once the lease expires.

Every unit of work that lands a profile's data calls check() in its own
transaction: it renews the run on the current session and proves the run
still holds the profile, taking the lease row's lock so a takeover waits for
the page to commit. A run that lost its lease (it hung past the expiry and
another run took the profile over) therefore lands nothing more for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import psycopg
from psycopg import sql

from .db import Connection, storage_errors
from .errors import SyncInProgressError
from .runs import LEASE_SECONDS, RUN_IS_ALIVE, RunDatabase, renew_run

logger = logging.getLogger(__name__)

# A run renews between requests once this share of its lease has passed.
RENEW_SHARE = 0.25
# How long taking a lease waits for a run that is landing a page of it.
_WAIT_FOR_A_PAGE = "SET LOCAL lock_timeout = '5s'"


@dataclass(frozen=True)
class Holder:
    """The live run that holds a profile another run asked for."""

    profile_id: int
    run_id: int
    trigger: str
    started_at: datetime

    def describe(self) -> str:
        """One line for logs and errors."""
        return (
            f"profile {self.profile_id} is being synced by run {self.run_id} "
            f"({self.trigger}, started {self.started_at.astimezone(UTC):%H:%M:%SZ})"
        )


class ProfileLeases:
    """The profile leases of one run: taken, checked, kept alive, released."""

    def __init__(
        self,
        database: RunDatabase,
        schema: str,
        run_id: int,
        *,
        seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.schema = schema
        self.run_id = run_id
        self.seconds = seconds
        self._clock = clock
        self._renewed = clock()

    def take(self, profile_id: int) -> Holder | None:
        """Take the profile's lease; None once taken, else the run that has it."""
        holder = self.database.transact(lambda conn: self._take(conn, profile_id))
        while holder is _RETRY:
            holder = self.database.transact(lambda conn: self._take(conn, profile_id))
        if holder is None:
            logger.info("run %d holds profile %d", self.run_id, profile_id)
        return holder

    def _take(self, conn: Connection, profile_id: int) -> Holder | None:
        statements = _statements(self.schema)
        params = {"profile_id": profile_id, "run_id": self.run_id}
        with storage_errors("take a profile lease"):
            # A run landing a page holds the lease row: wait for its commit,
            # but not for a session stuck mid-page.
            conn.execute(_WAIT_FOR_A_PAGE)
            try:
                with conn.transaction():
                    taken = conn.execute(statements.take, params).fetchone()
            except psycopg.errors.LockNotAvailable:
                row = conn.execute(statements.any_holder, params).fetchone()
                return None if row is None else Holder(profile_id, *row)
            if taken is not None:
                return None
            row = conn.execute(statements.holder, params).fetchone()
        # The holder ended between the two statements: the lease is free now.
        return _RETRY if row is None else Holder(profile_id, *row)

    def check(self, conn: Connection, profile_id: int) -> None:
        """Inside a unit of work: renew the run, and fail if it lost the profile.

        Raises SyncInProgressError when another run took the profile over (or
        closed this run as abandoned); the caller's transaction then rolls
        back and lands nothing.
        """
        self._renew(conn)
        params = {"profile_id": profile_id, "run_id": self.run_id}
        with storage_errors("check a profile lease"):
            row = conn.execute(_statements(self.schema).check, params).fetchone()
        if row is None:
            raise SyncInProgressError(
                f"run {self.run_id} lost profile {profile_id} to another run "
                "after its lease expired"
            )

    def keep_alive(self) -> None:
        """Renew the run between requests once a share of its lease has passed."""
        if self._clock() - self._renewed < self.seconds * RENEW_SHARE:
            return
        self.database.transact(self._renew)

    def release(self, profile_id: int) -> None:
        """Give the profile back; a failure is logged (the run's end frees it)."""
        params = {"profile_id": profile_id, "run_id": self.run_id}
        try:
            self.database.transact(
                lambda conn: conn.execute(_statements(self.schema).release, params)
            )
        except Exception as exc:
            logger.warning(
                "run %d could not release profile %d: %s", self.run_id, profile_id, exc
            )

    def _renew(self, conn: Connection) -> None:
        if not renew_run(conn, self.schema, self.run_id, self.seconds):
            raise SyncInProgressError(
                f"run {self.run_id} was closed as abandoned by another run"
            )
        self._renewed = self._clock()


def profile_holder(conn: Connection, schema: str, profile_id: int) -> Holder | None:
    """The live run holding the profile, if any; a look that takes nothing.

    What it sees may change at once: only take() decides. It spares a caller
    that would give up on a busy profile the cost of starting a run.
    """
    params = {"profile_id": profile_id}
    with storage_errors("look up a profile lease"):
        row = conn.execute(_statements(schema).holder, params).fetchone()
    return None if row is None else Holder(profile_id, *row)


# take() found the lease held, then its holder gone: it tries again.
_RETRY = Holder(0, 0, "", datetime.min.replace(tzinfo=UTC))


@dataclass(frozen=True)
class _Statements:
    take: sql.Composed
    holder: sql.Composed
    any_holder: sql.Composed
    check: sql.Composed
    release: sql.Composed


@lru_cache(maxsize=8)
def _statements(schema: str) -> _Statements:
    tables = {
        "lease": sql.Identifier(schema, "profile_lease"),
        "sync_run": sql.Identifier(schema, "sync_run"),
        "alive": sql.SQL(RUN_IS_ALIVE),
    }
    return _Statements(
        **{name: sql.SQL(text).format(**tables) for name, text in _SQL.items()}
    )


_SQL = {
    # A lease is free when its run is this one or no longer alive. Two runs
    # inserting the same new lease: the second waits on the first's key and
    # then sees its live run.
    "take": """
        INSERT INTO {lease} AS lease (profile_id, run_id, acquired_at, renewed_at)
        VALUES (%(profile_id)s, %(run_id)s, now(), now())
        ON CONFLICT (profile_id) DO UPDATE SET
            run_id = excluded.run_id,
            acquired_at = excluded.acquired_at,
            renewed_at = excluded.renewed_at
        WHERE lease.run_id = excluded.run_id OR NOT EXISTS (
            SELECT FROM {sync_run} AS run WHERE run.run_id = lease.run_id AND {alive}
        )
        RETURNING lease.run_id
    """,
    "holder": """
        SELECT run.run_id, run.trigger, run.started_at
        FROM {lease} AS lease JOIN {sync_run} AS run USING (run_id)
        WHERE lease.profile_id = %(profile_id)s AND {alive}
    """,
    "any_holder": """
        SELECT run.run_id, run.trigger, run.started_at
        FROM {lease} AS lease JOIN {sync_run} AS run USING (run_id)
        WHERE lease.profile_id = %(profile_id)s
    """,
    "check": """
        UPDATE {lease} SET renewed_at = now()
        WHERE profile_id = %(profile_id)s AND run_id = %(run_id)s
        RETURNING profile_id
    """,
    "release": """
        DELETE FROM {lease} WHERE profile_id = %(profile_id)s AND run_id = %(run_id)s
    """,
}
