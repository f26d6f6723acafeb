"""One sync run: list every profile's loops, fetch what changed, land each page.

Requests are the scarce resource (about 50 a minute), so a run lists loops with
their details attached, newest first and from a watermark when it has one, and
asks for participants only of loops that are new or whose `updated` moved since
their participants were stored, once per run however many profiles show them.
Details a listing leaves out are fetched for changed loops only; participant
lists an earlier run could not land are fetched once more at the end.

Every page lands in one transaction together with the profile's listing
checkpoint, so a run killed at any point (even SIGKILL) resumes after the last
landed page, and a page whose connection was lost is landed again whole. How a
listing resumes and how it is known complete: sync/listing.py. The watermark
advances only after a complete listing, to the newest `updated` it saw but
never past the start of the listing, and never backwards (sync/runs.py).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from connector import (
    ClientStats,
    DotloopClient,
    InvalidResponseError,
    NotFoundError,
)
from connector.secrets import redact

from .checkpoints import Checkpoint, delete_checkpoint, load_checkpoint, save_checkpoint
from .db import Connection, apply_schema
from .landing import (
    SOURCE_LOOP_PAGE,
    LandingResult,
    land_page,
    land_participants,
    land_profiles,
    quarantine,
    stale_participants,
    stored_versions,
)
from .listing import BATCH_SIZE, ListedPage, ListingWalk, UnusablePage
from .payloads import Document, InvalidPayload, LoopItem, ParsedPage, UnusablePayload
from .runs import (
    RunCounts,
    RunDatabase,
    RunStart,
    advance_watermark,
    finish_run,
    record_counts,
    start_run,
    watermark,
)
from .settings import Settings
from .sweep import mark_gone

logger = logging.getLogger(__name__)

# Listing from a little before the watermark absorbs clock skew and loops whose
# `updated` was written late.
WATERMARK_OVERLAP = timedelta(hours=1)
# How often a long run writes its counters to its sync_run row.
COUNTS_INTERVAL_SECONDS = 5.0
# The most participant lists a run fetches again for earlier runs' failures.
REPAIR_LIMIT = 500
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
    """How a finished run went."""

    run_id: int
    status: str
    started_at: datetime
    finished_at: datetime
    counts: RunCounts
    incomplete_profiles: tuple[int, ...]


ProgressCallback = Callable[[SyncProgress], None]
Participants = dict[int, list[Any] | InvalidPayload]


def run_sync(
    settings: Settings,
    client: DotloopClient,
    *,
    trigger: str,
    progress: ProgressCallback | None = None,
) -> SyncRunResult:
    """Run one sync and record it; a failed run is recorded, then re-raised.

    Raises SyncInProgressError when another run holds the lock, and whatever
    stopped the run (a connector error, StorageError) after recording it.
    """
    with RunDatabase(settings) as database:
        apply_schema(database.conn, settings)
        run = start_run(database.conn, settings.raw_schema, trigger)
        logger.info("sync run %d started (%s)", run.run_id, trigger)
        sync = _Run(database, settings, client, run, progress)
        try:
            incomplete = sync.execute()
        except BaseException as exc:
            sync.fail(exc)
            raise
        return sync.succeed(incomplete)


class _Run:
    """The state of one run: its counters and the loops it could not fetch."""

    def __init__(
        self,
        database: RunDatabase,
        settings: Settings,
        client: DotloopClient,
        run: RunStart,
        progress: ProgressCallback | None,
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
        # Loops whose participants failed this run: not asked again through
        # another profile. Loops fetched fine are known from their stored row.
        self.failed: set[int] = set()
        self.profiles_total = 0
        self.counts_recorded_at = time.monotonic()

    def execute(self) -> tuple[int, ...]:
        """Sync every chosen profile; returns those whose listing is incomplete."""
        profile_ids = self._choose_profiles()
        self.profiles_total = len(profile_ids)
        incomplete = []
        for done, profile_id in enumerate(profile_ids):
            if not self._sync_profile(profile_id, done):
                incomplete.append(profile_id)
            self.counts.profiles += 1
        self._repair_participants(profile_ids)
        return tuple(incomplete)

    def succeed(self, incomplete: tuple[int, ...]) -> SyncRunResult:
        """Record the run as succeeded and describe it."""
        self._take_client_stats()
        finished_at = self.database.transact(
            lambda conn: finish_run(
                conn, self.schema, self.run.run_id, self.counts, status="succeeded"
            )
        )
        logger.info(
            "sync run %d succeeded: %s", self.run.run_id, _describe(self.counts)
        )
        if incomplete:
            logger.warning(
                "sync run %d left incomplete listings for profiles %s",
                self.run.run_id,
                ", ".join(map(str, incomplete)),
            )
        return SyncRunResult(
            run_id=self.run.run_id,
            status="succeeded",
            started_at=self.run.started_at,
            finished_at=finished_at,
            counts=replace(self.counts),
            incomplete_profiles=incomplete,
        )

    def fail(self, exc: BaseException) -> None:
        """Record the run as failed with the redacted error; never masks exc."""
        self._take_client_stats()
        error = redact(f"{type(exc).__name__}: {exc}")
        logger.error("sync run %d failed: %s", self.run.run_id, error)
        try:
            self.database.transact(
                lambda conn: finish_run(
                    conn,
                    self.schema,
                    self.run.run_id,
                    self.counts,
                    status="failed",
                    error=error,
                )
            )
        except Exception as record_error:
            logger.error(
                "could not record sync run %d as failed: %s",
                self.run.run_id,
                redact(str(record_error)),
            )

    def _choose_profiles(self) -> list[int]:
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
        if self.settings.dotloop.profile_ids:
            return list(self.settings.dotloop.profile_ids)
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
        parsed = self._with_details(profile_id, step.parsed, changed)
        participants, gone = self._fetch_participants(profile_id, changed)
        now = _now()

        def land(conn: Connection) -> tuple[LandingResult, int]:
            result = land_page(
                conn,
                schema=self.schema,
                run_id=self.run.run_id,
                profile_id=profile_id,
                items=parsed,
                participants_by_loop=participants,
                now=now,
            )
            removed = mark_gone(conn, self.schema, profile_id, gone, now)
            save_checkpoint(conn, self.schema, step.checkpoint)
            return result, removed

        result, removed = self.database.transact(land)
        self.counts.pages += 1
        self.counts.loops_seen += result.loops
        self.counts.loops_changed += len(changed)
        self.counts.quarantined += result.quarantined
        self.counts.loops_removed += removed
        self._page_done(step, len(changed), done)

    def _with_details(
        self, profile_id: int, parsed: ParsedPage, changed: list[int]
    ) -> ParsedPage:
        """Details of changed loops the list did not attach, one request each.

        The list attaches them when asked (include_details); an account or
        listing that does not is served by the detail endpoint instead.
        """
        wanted = set(changed)
        missing = [
            loop
            for loop in parsed.loops
            if loop.details is None and loop.loop_id in wanted
        ]
        if not missing:
            return parsed
        logger.info(
            "profile %d: %d changed loops came without details; fetching them",
            profile_id,
            len(missing),
        )
        filled = {}
        for loop in missing:
            try:
                detail = self.client.loop_detail(profile_id, loop.loop_id)
                filled[loop.loop_id] = replace(loop, details=Document.of(detail))
            except (NotFoundError, InvalidResponseError, UnusablePayload) as exc:
                # TODO: the loop lands without new details and is not asked
                # again until it changes; repair them like participants.
                logger.warning("details of loop %d not fetched: %s", loop.loop_id, exc)
        loops = [filled.get(loop.loop_id, loop) for loop in parsed.loops]
        return ParsedPage(loops, parsed.rejected)

    def _changed(self, loops: Iterable[LoopItem]) -> list[int]:
        candidates = [loop for loop in loops if loop.loop_id not in self.failed]
        ids = [loop.loop_id for loop in candidates]
        stored = self.database.transact(
            lambda conn: stored_versions(conn, self.schema, ids)
        )
        return [
            loop.loop_id
            for loop in candidates
            if stored.get(loop.loop_id) != (loop.updated_text, loop.updated_text)
        ]

    def _fetch_participants(
        self, profile_id: int, loop_ids: Iterable[int]
    ) -> tuple[Participants, list[int]]:
        """Participants of the loops; also the loops that are gone (404 twice)."""
        fetched: Participants = {}
        gone: list[int] = []
        for loop_id in loop_ids:
            try:
                fetched[loop_id] = self.client.loop_participants(profile_id, loop_id)
            except NotFoundError:
                self.failed.add(loop_id)
                if self._gone(profile_id, loop_id):
                    gone.append(loop_id)
                continue
            except InvalidResponseError as exc:
                self.failed.add(loop_id)
                fetched[loop_id] = InvalidPayload(redact(str(exc)), exc.body)
                continue
            self.counts.participants_fetched += 1
        return fetched, gone

    def _repair_participants(self, profile_ids: list[int]) -> None:
        """Fetch the participant lists an earlier run could not land.

        A list quarantined or refused when its loop was listed is otherwise
        asked for again only when the loop changes. At most REPAIR_LIMIT loops
        a run, so a broken endpoint cannot spend the whole budget.
        """
        stale = self.database.transact(
            lambda conn: stale_participants(
                conn,
                self.schema,
                profile_ids,
                skip=sorted(self.failed),
                limit=REPAIR_LIMIT,
            )
        )
        if not stale:
            return
        logger.info(
            "fetching %d participant lists missing since earlier runs", len(stale)
        )
        for start in range(0, len(stale), BATCH_SIZE):
            self._repair_batch(stale[start : start + BATCH_SIZE])

    def _repair_batch(self, stale: list[tuple[int, int, str]]) -> None:
        by_profile: dict[int, dict[int, tuple[str, list[Any] | InvalidPayload]]] = {}
        gone: dict[int, list[int]] = {}
        for loop_id, profile_id, updated in stale:
            fetched, lost = self._fetch_participants(profile_id, [loop_id])
            if loop_id in fetched:
                by_profile.setdefault(profile_id, {})[loop_id] = (
                    updated,
                    fetched[loop_id],
                )
            gone.setdefault(profile_id, []).extend(lost)
        now = _now()

        def land(conn: Connection) -> tuple[int, int]:
            quarantined = removed = 0
            for profile_id, lists in by_profile.items():
                quarantined += land_participants(
                    conn,
                    schema=self.schema,
                    run_id=self.run.run_id,
                    profile_id=profile_id,
                    fetched=lists,
                    now=now,
                ).quarantined
            for profile_id, loop_ids in gone.items():
                removed += mark_gone(conn, self.schema, profile_id, loop_ids, now)
            return quarantined, removed

        quarantined, removed = self.database.transact(land)
        self.counts.quarantined += quarantined
        self.counts.loops_removed += removed
        self._take_client_stats()

    def _gone(self, profile_id: int, loop_id: int) -> bool:
        """Whether the loop itself answers 404 too, not only its participants."""
        try:
            self.client.loop(profile_id, loop_id)
        except NotFoundError:
            logger.warning(
                "loop %d answers 404 through profile %d: marked gone",
                loop_id,
                profile_id,
            )
            return True
        except InvalidResponseError:
            pass
        logger.warning(
            "loop %d of profile %d has no participants (404); skipped",
            loop_id,
            profile_id,
        )
        return False

    def _quarantine_page(self, step: UnusablePage) -> None:
        error = step.error
        profile_id = step.checkpoint.profile_id

        def record(conn: Connection) -> None:
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
        f"{counts.requests} requests ({counts.throttled} throttled)"
    )
