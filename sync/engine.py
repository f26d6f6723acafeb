"""One sync run: list every profile's loops, fetch what changed, land each page.

Requests are the scarce resource (about 50 a minute), so a run lists loops with
their details attached, newest first and from a watermark when it has one, and
asks for participants only of loops that are new or whose `updated` moved since
their participants were stored, once per run however many profiles show them.
Details a listing leaves out are fetched for changed loops only.

Every page lands in one transaction together with the profile's listing
checkpoint, so a run killed at any point (even SIGKILL) resumes after the last
landed page, and a page whose connection was lost is landed again whole. How a
listing resumes and how it is known complete: sync/listing.py. The watermark
advances only after a complete listing, to the newest `updated` it saw but
never past the start of the listing, and never backwards (sync/runs.py).

One run syncs a profile at a time, under the profile's lease (sync/leases.py):
a profile another live run holds is skipped and reported busy, so runs of
different profiles, or of different Dotloop accounts each within its own
request budget, go on side by side. Fetches that fail and loop items that are
quarantined are recorded, and later runs try them again after the profile's
listing, within limits (sync/retries.py).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from connector import ClientStats, DotloopClient, NotFoundError
from connector.secrets import redact

from .checkpoints import Checkpoint, delete_checkpoint, load_checkpoint, save_checkpoint
from .db import Connection, apply_schema
from .errors import SyncInProgressError
from .fetching import LoopFetcher
from .landing import (
    SOURCE_LOOP_PAGE,
    land_profiles,
    quarantine,
    stored_versions,
)
from .leases import Holder, ProfileLeases
from .listing import BATCH_SIZE, ListedPage, ListingWalk, UnusablePage
from .payloads import InvalidPayload, LoopItem
from .pending import count_pending
from .retries import Retries
from .runs import (
    LEASE_SECONDS,
    RunCounts,
    RunDatabase,
    RunStart,
    advance_watermark,
    record_counts,
    start_run,
    watermark,
)
from .settings import Settings
from .writer import LoopWriter, Owed

logger = logging.getLogger(__name__)

# Listing from a little before the watermark absorbs clock skew and loops whose
# `updated` was written late.
WATERMARK_OVERLAP = timedelta(hours=1)
# How often a long run writes its counters to its sync_run row.
COUNTS_INTERVAL_SECONDS = 5.0
# Profiles that see the most loops first: the brokerage's numbers fill in
# before the individual agents' profiles, whose loops are mostly stored by then.
_PROFILE_ORDER = {"COMPANY": 0, "OFFICE": 1}


@dataclass(frozen=True)
class SyncProgress:
    """Where a run stands, sent to the progress callback after every page.

    listing_loops counts the loops the profile's listing has landed, earlier
    interrupted runs included; eta_seconds estimates what the listing still
    needs at the request budget (or the pace so far, if slower).
    """

    run_id: int
    profile_id: int | None
    profiles_done: int
    profiles_total: int
    listing_total: int | None
    counts: RunCounts
    listing_loops: int = 0
    eta_seconds: float | None = None


@dataclass(frozen=True)
class SyncRunResult:
    """How a finished run went; busy profiles were being synced by another run."""

    run_id: int
    status: str
    started_at: datetime
    finished_at: datetime
    counts: RunCounts
    incomplete_profiles: tuple[int, ...]
    busy_profiles: tuple[int, ...] = ()


@dataclass
class _Outcome:
    """The profiles a run could not sync completely, and those others held."""

    incomplete: list[int] = field(default_factory=list)
    busy: list[Holder] = field(default_factory=list)


ProgressCallback = Callable[[SyncProgress], None]


def run_sync(
    settings: Settings,
    client: DotloopClient,
    *,
    trigger: str,
    progress: ProgressCallback | None = None,
    profile_ids: Sequence[int] = (),
    lease_seconds: float = LEASE_SECONDS,
) -> SyncRunResult:
    """Run one sync and record it; a failed run is recorded, then re-raised.

    profile_ids limits the run (by default: DOTLOOP_PROFILE_IDS, else every
    active profile). Raises SyncInProgressError when a purge holds the schema
    or every chosen profile is being synced by another run (the run is then
    recorded as skipped), and whatever stopped the run (a connector error,
    StorageError) after recording it.
    """
    with RunDatabase(settings) as database:
        apply_schema(database.conn, settings)
        run = start_run(
            database.conn,
            settings.raw_schema,
            trigger,
            requests_per_minute=settings.dotloop.requests_per_minute,
            lease_seconds=lease_seconds,
        )
        logger.info("sync run %d started (%s)", run.run_id, trigger)
        sync = _Run(database, settings, client, run, progress, lease_seconds)
        try:
            outcome = sync.execute(tuple(profile_ids))
        except BaseException as exc:
            sync.fail(exc)
            raise
        if outcome.busy and len(outcome.busy) == sync.profiles_total:
            sync.skip(outcome.busy)
        return sync.succeed(outcome)


class _Run:
    """The state of one run: its counters, leases and what it owes later runs."""

    def __init__(
        self,
        database: RunDatabase,
        settings: Settings,
        client: DotloopClient,
        run: RunStart,
        progress: ProgressCallback | None,
        lease_seconds: float,
    ) -> None:
        self.database = database
        self.schema = settings.raw_schema
        self.settings = settings
        self.client = client
        self.run = run
        self.progress = progress
        self.counts = RunCounts()
        self.stats_at_start = client.stats
        self.started = time.monotonic()
        self.leases = ProfileLeases(
            database, self.schema, run.run_id, seconds=lease_seconds
        )
        self.fetcher = LoopFetcher(client, self.counts, between=self.leases.keep_alive)
        self.owed = Owed()
        self.writer = LoopWriter(
            database,
            self.schema,
            run.run_id,
            leases=self.leases,
            owed=self.owed,
            counts=self.counts,
        )
        self.retries = Retries(self.fetcher, self.writer)
        self.profiles_total = 0
        self.counts_recorded_at = time.monotonic()

    def execute(self, profile_ids: tuple[int, ...]) -> _Outcome:
        """Sync every chosen profile whose lease this run gets."""
        chosen = self._choose_profiles(profile_ids)
        self.profiles_total = len(chosen)
        self.retries.begin(chosen)
        self.database.transact(lambda conn: self.owed.load(conn, self.schema))
        outcome = _Outcome()
        for done, profile_id in enumerate(chosen):
            holder = self.leases.take(profile_id)
            if holder is not None:
                logger.warning("run %d skips: %s", self.run.run_id, holder.describe())
                outcome.busy.append(holder)
                self.counts.profiles_busy += 1
                continue
            try:
                if not self._sync_profile(profile_id, done):
                    outcome.incomplete.append(profile_id)
            except SyncInProgressError as exc:
                # The lease expired while the run hung, and another took over.
                logger.error("run %d: %s", self.run.run_id, exc)
                outcome.incomplete.append(profile_id)
                self.counts.profiles_busy += 1
            finally:
                self.leases.release(profile_id)
            self.counts.profiles += 1
        self.counts.fetches_pending = self.database.transact(
            lambda conn: count_pending(conn, self.schema)
        )
        return outcome

    def succeed(self, outcome: _Outcome) -> SyncRunResult:
        """Record the run as succeeded and describe it."""
        self._take_client_stats()
        finished_at, status = self.database.finish(
            self.run.run_id, self.counts, "succeeded"
        )
        logger.info(
            "sync run %d %s: %s", self.run.run_id, status, _describe(self.counts)
        )
        if outcome.incomplete:
            logger.warning(
                "sync run %d left incomplete listings for profiles %s",
                self.run.run_id,
                ", ".join(map(str, outcome.incomplete)),
            )
        return SyncRunResult(
            run_id=self.run.run_id,
            status=status,
            started_at=self.run.started_at,
            finished_at=finished_at,
            counts=replace(self.counts),
            incomplete_profiles=tuple(outcome.incomplete),
            busy_profiles=tuple(holder.profile_id for holder in outcome.busy),
        )

    def skip(self, busy: list[Holder]) -> None:
        """Record a run whose every profile was busy as skipped; raise to say so."""
        self._take_client_stats()
        reason = "; ".join(holder.describe() for holder in busy)
        self.database.finish(self.run.run_id, self.counts, "skipped", reason)
        logger.warning("sync run %d skipped: %s", self.run.run_id, reason)
        raise SyncInProgressError(f"sync run {self.run.run_id} skipped: {reason}")

    def fail(self, exc: BaseException) -> None:
        """Record the run as failed with the redacted error; never masks exc."""
        self._take_client_stats()
        error = redact(f"{type(exc).__name__}: {exc}")
        logger.error("sync run %d failed: %s", self.run.run_id, error)
        self.database.finish_unsuccessful(self.run.run_id, self.counts, "failed", error)

    def _choose_profiles(self, configured: tuple[int, ...]) -> list[int]:
        listed = self.client.profiles()
        landed = self.database.transact(
            lambda conn: land_profiles(
                conn,
                schema=self.schema,
                run_id=self.run.run_id,
                profiles=listed,
                now=_now(),
            )
        )
        self.counts.quarantined += landed.quarantined
        if configured or self.settings.dotloop.profile_ids:
            return list(configured or self.settings.dotloop.profile_ids)
        active = [p for p in landed.profiles if not p.get("deactivated")]
        active.sort(key=lambda p: _PROFILE_ORDER.get(str(p.get("type")), 2))
        return [int(p["id"]) for p in active]

    def _sync_profile(self, profile_id: int, done: int) -> bool:
        walk = ListingWalk(self.client, self._checkpoint(profile_id))
        try:
            for step in walk:
                if isinstance(step, UnusablePage):
                    self._quarantine_page(step)
                else:
                    self._sync_page(step, done)
        except NotFoundError as exc:
            logger.warning("profile %d is gone, listing skipped: %s", profile_id, exc)
            self.database.transact(
                lambda conn: delete_checkpoint(conn, self.schema, profile_id)
            )
            return False
        complete = walk.complete()
        self.database.transact(
            lambda conn: self._close_listing(conn, walk.checkpoint, complete)
        )
        self.retries.run(profile_id)
        return complete

    def _checkpoint(self, profile_id: int) -> Checkpoint:
        """The listing to go on with: the one under way, or a new one."""
        stored = self.database.transact(
            lambda conn: load_checkpoint(conn, self.schema, profile_id)
        )
        if stored is not None:
            logger.info(
                "profile %d: resuming the %s begun by run %s (%d loops landed)",
                profile_id,
                "backfill" if stored.is_backfill else "incremental listing",
                stored.run_id,
                stored.loops_landed,
            )
            return stored
        since = self.database.transact(
            lambda conn: watermark(conn, self.schema, profile_id)
        )
        return Checkpoint(
            profile_id=profile_id,
            since=None if since is None else since - WATERMARK_OVERLAP,
            started_at=self.run.started_at,
            run_id=self.run.run_id,
        )

    def _close_listing(
        self, conn: Connection, checkpoint: Checkpoint, complete: bool
    ) -> None:
        self.leases.check(conn, checkpoint.profile_id)
        delete_checkpoint(conn, self.schema, checkpoint.profile_id)
        if not complete:
            return
        newest = checkpoint.newest
        advance_watermark(
            conn,
            self.schema,
            profile_id=checkpoint.profile_id,
            run_id=self.run.run_id,
            candidate=None if newest is None else min(newest, checkpoint.started_at),
        )

    def _sync_page(self, step: ListedPage, done: int) -> None:
        profile_id = step.page.profile_id
        changed = self._changed(step.parsed.loops)
        versions = {
            loop.loop_id: loop.updated_text
            for loop in step.parsed.loops
            if loop.loop_id in changed
        }
        undetailed = {
            loop.loop_id: loop.updated_text
            for loop in step.parsed.loops
            if loop.details is None and loop.loop_id in changed
        }
        if undetailed:
            # The list attaches details when asked (include_details); an
            # account or listing that does not is served one loop at a time.
            logger.info(
                "profile %d: %d changed loops came without details; fetching them",
                profile_id,
                len(undetailed),
            )
        details = self.fetcher.details(profile_id, undetailed)
        people = self.fetcher.participants(profile_id, versions)
        self.writer.land(profile_id, step.parsed, details, people, step.checkpoint)
        self.counts.pages += 1
        self.counts.loops_seen += len(step.parsed.loops)
        self.counts.loops_changed += len(changed)
        self._page_done(step, len(changed), done)

    def _changed(self, loops: Iterable[LoopItem]) -> set[int]:
        """Loops new or moved since their participants were stored.

        Loops whose participants failed this run (through another profile)
        are left out: they are pending, and the next run asks again.
        """
        failed = self.fetcher.failed
        candidates = [loop for loop in loops if loop.loop_id not in failed]
        ids = [loop.loop_id for loop in candidates]
        stored = self.database.transact(
            lambda conn: stored_versions(conn, self.schema, ids)
        )
        return {
            loop.loop_id
            for loop in candidates
            if stored.get(loop.loop_id) != (loop.updated_text, loop.updated_text)
        }

    def _quarantine_page(self, step: UnusablePage) -> None:
        error = step.error
        profile_id = step.checkpoint.profile_id

        def record(conn: Connection) -> None:
            self.leases.check(conn, profile_id)
            quarantine(
                conn,
                schema=self.schema,
                run_id=self.run.run_id,
                profile_id=profile_id,
                loop_id=None,
                source=SOURCE_LOOP_PAGE,
                payload=InvalidPayload(redact(str(error)), error.body),
                now=_now(),
            )
            save_checkpoint(conn, self.schema, step.checkpoint)

        self.database.transact(record)
        self.counts.quarantined += 1
        logger.warning(
            "profile %d batch %d was unusable; the listing goes on but is incomplete",
            profile_id,
            step.batch_number,
        )

    def _page_done(self, step: ListedPage, changed: int, done: int) -> None:
        self._take_client_stats()
        if time.monotonic() - self.counts_recorded_at >= COUNTS_INTERVAL_SECONDS:
            self.database.transact(
                lambda conn: record_counts(
                    conn, self.schema, self.run.run_id, self.counts
                )
            )
            self.counts_recorded_at = time.monotonic()
        page, parsed = step.page, step.parsed
        logger.info(
            "run %d profile %d page %d: %d loops, %d changed, %d rejected "
            "(%d requests so far)",
            self.run.run_id,
            page.profile_id,
            page.batch_number,
            len(parsed.loops),
            changed,
            len(parsed.rejected),
            self.counts.requests,
        )
        if self.progress is not None:
            self.progress(
                SyncProgress(
                    run_id=self.run.run_id,
                    profile_id=page.profile_id,
                    profiles_done=done,
                    profiles_total=self.profiles_total,
                    listing_total=page.total,
                    counts=replace(self.counts),
                    listing_loops=step.checkpoint.loops_landed,
                    eta_seconds=self._eta(step.checkpoint),
                )
            )

    def _eta(self, checkpoint: Checkpoint) -> float | None:
        """Seconds the listing still needs, at the budget or the pace so far."""
        total = checkpoint.listing_total
        if total is None:
            return None
        left = max(total - checkpoint.loops_landed, 0)
        counts = self.counts
        # The share of listed loops that cost a participant request so far.
        share = counts.loops_changed / counts.loops_seen if counts.loops_seen else 1.0
        requests_left = math.ceil(left / BATCH_SIZE) + left * share
        per_second = self.settings.dotloop.requests_per_minute / 60.0
        elapsed = time.monotonic() - self.started
        if counts.requests and elapsed > 0:
            per_second = min(per_second, counts.requests / elapsed)
        return requests_left / per_second

    def _take_client_stats(self) -> None:
        now: ClientStats = self.client.stats
        self.counts.requests = now.requests - self.stats_at_start.requests
        self.counts.throttled = now.throttled - self.stats_at_start.throttled


def _now() -> datetime:
    return datetime.now(UTC)


def _describe(counts: RunCounts) -> str:
    return (
        f"{counts.pages} pages, {counts.loops_seen} loops seen, "
        f"{counts.loops_changed} changed, {counts.participants_fetched} "
        f"participant lists, {counts.quarantined} quarantined, "
        f"{counts.loops_removed} removed, "
        f"{counts.quarantine_retried} quarantined loops and "
        f"{counts.fetches_retried} pending fetches tried again "
        f"({counts.quarantine_resolved} resolved, {counts.fetches_pending} "
        f"fetches still pending), {counts.profiles_busy} profiles busy, "
        f"{counts.requests} requests ({counts.throttled} throttled)"
    )
