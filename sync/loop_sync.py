"""One loop synced alone, as a webhook asks, under its profile's lease.

A webhook names a loop and the profile that saw it change. A worker fetches
the loop's summary, details and participants through that profile and lands
them exactly as a listing with its details would. It does so as a short run
of its own (trigger "webhook") holding the profile's lease, like any sync:
a full sync of the profile may hold a page it listed before the edit, and
that page landing after the loop sync would put the old version back. So a
loop sync whose profile another run holds fetches nothing and reports
"busy", and the queue tries it again later (sync/tasks.py); the edit is not
lost, and meanwhile later events of the loop join the waiting sync
(sync/queued_loops.py). Other profiles that saw the same edit get their
link to the loop when their leases are free, else from their own listing.

merge_loops() is the other task a webhook queues: one statement, no fetch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connector import DotloopClient, InvalidResponseError, NotFoundError
from connector.secrets import redact

from .db import Connection, apply_schema, connect
from .errors import SyncInProgressError
from .landing import LandingResult, land_page
from .leases import ProfileLeases, profile_holder
from .payloads import InvalidPayload
from .queued_loops import QueuedLoops, UnsharedQueuedLoops
from .runs import RunCounts, RunDatabase, RunStatus, start_run
from .settings import Settings
from .sweep import mark_gone, mark_merged

logger = logging.getLogger(__name__)

TRIGGER = "webhook"
LANDED = "landed"
QUARANTINED = "quarantined"
REMOVED = "removed"
BUSY = "busy"

Participants = list[Any] | InvalidPayload


def sync_loop(
    settings: Settings,
    client: DotloopClient,
    profile_id: int,
    loop_id: int,
    queued: QueuedLoops | None = None,
) -> str:
    """Fetch one loop (summary, details, participants) and land it.

    Returns "landed", "quarantined", "removed" (the loop answered 404 through
    this profile and is unlinked from it) or "busy": another run holds the
    profile, or a purge the schema; nothing was fetched, so queue it again.
    """
    waiting = UnsharedQueuedLoops() if queued is None else queued
    try:
        with RunDatabase(settings) as database:
            apply_schema(database.conn, settings)
            holder = database.transact(
                lambda conn: profile_holder(conn, settings.raw_schema, profile_id)
            )
            if holder is not None:
                raise SyncInProgressError(holder.describe())
            others = sorted(waiting.profiles(loop_id) - {profile_id})
            run = _LoopRun(database, settings, client)
            return run.sync([profile_id, *others], loop_id, waiting)
    except SyncInProgressError as exc:
        waiting.keep(loop_id)
        logger.info("webhook sync of loop %d put off: %s", loop_id, exc)
        return BUSY


class _LoopRun:
    """The run of one loop: its sync_run row, leases and counters."""

    def __init__(
        self, database: RunDatabase, settings: Settings, client: DotloopClient
    ) -> None:
        self.database = database
        self.schema = settings.raw_schema
        self.client = client
        self.run = start_run(
            database.conn,
            self.schema,
            TRIGGER,
            requests_per_minute=settings.dotloop.requests_per_minute,
        )
        self.leases = ProfileLeases(database, self.schema, self.run.run_id)
        self.counts = RunCounts(loops_seen=1)
        self.stats_at_start = client.stats

    def sync(self, profile_ids: list[int], loop_id: int, waiting: QueuedLoops) -> str:
        """Take the leases, fetch through the first profile, land; record the run.

        Raises SyncInProgressError when the first profile is busy (the run
        is recorded as skipped).
        """
        try:
            held = self._take_leases(profile_ids)
            # Fetching starts now: an event from here on queues a new sync.
            waiting.take(loop_id)
            outcome = self._fetch_and_land(held, loop_id)
        except SyncInProgressError as exc:
            self._finish("skipped", str(exc))
            raise
        except BaseException as exc:
            self._finish("failed", redact(f"{type(exc).__name__}: {exc}"))
            raise
        self._finish("succeeded")
        logger.info(
            "webhook sync of loop %d (profile %d): %s", loop_id, held[0], outcome
        )
        return outcome

    def _take_leases(self, profile_ids: Sequence[int]) -> list[int]:
        # TODO: a lease guards a profile, not a loop. A run syncing another
        # profile that shows the loop (one whose lease is busy here, or one
        # that sent no event) may land a page it listed before the edit just
        # after this sync lands the loop, putting the older version back
        # until its next listing. Full syncs of two such profiles race the
        # same way; landing a loop only at a newer `updated` would close it.
        first, *others = profile_ids
        holder = self.leases.take(first)
        if holder is not None:
            raise SyncInProgressError(holder.describe())
        held = [first]
        for profile_id in others:
            holder = self.leases.take(profile_id)
            if holder is None:
                held.append(profile_id)
            else:
                logger.info("loop link left to the listing: %s", holder.describe())
        self.counts.profiles = len(held)
        return held

    def _fetch_and_land(self, held: list[int], loop_id: int) -> str:
        profile_id = held[0]
        try:
            summary = self.client.loop(profile_id, loop_id)
        except NotFoundError:
            return self._remove(profile_id, loop_id)
        item = list_item(summary, _details(self.client, profile_id, loop_id))
        participants = _participants(self.client, profile_id, loop_id)
        fetched = {} if participants is None else {loop_id: participants}
        result = self.database.transact(
            lambda conn: self._land(conn, held, item, fetched)
        )
        self.counts.participants_fetched = int(isinstance(participants, list))
        self.counts.loops_changed = int(result.written > 0)
        self.counts.quarantined = result.quarantined
        return QUARANTINED if result.quarantined else LANDED

    def _land(
        self,
        conn: Connection,
        held: list[int],
        item: Any,
        fetched: Mapping[int, Participants],
    ) -> LandingResult:
        """Land the loop through its profile, then link it to the others."""
        now = _now()
        first, *others = held
        self.leases.check(conn, first)
        result = self._land_one(conn, first, item, fetched, now)
        if result.quarantined:
            return result
        for profile_id in others:
            self.leases.check(conn, profile_id)
            # The loop row is already current: this writes the link only.
            self._land_one(conn, profile_id, item, {}, now)
        return result

    def _land_one(
        self,
        conn: Connection,
        profile_id: int,
        item: Any,
        fetched: Mapping[int, Participants],
        now: datetime,
    ) -> LandingResult:
        return land_page(
            conn,
            schema=self.schema,
            run_id=self.run.run_id,
            profile_id=profile_id,
            items=[item],
            participants_by_loop=fetched,
            now=now,
        )

    def _remove(self, profile_id: int, loop_id: int) -> str:
        now = _now()

        def mark(conn: Connection) -> int:
            self.leases.check(conn, profile_id)
            return mark_gone(conn, self.schema, profile_id, [loop_id], now)

        self.counts.loops_removed = self.database.transact(mark)
        logger.info("loop %d answered 404 through profile %d", loop_id, profile_id)
        return REMOVED

    def _finish(self, status: RunStatus, error: str | None = None) -> None:
        """Record the run's end (which frees its leases); never masks an error."""
        stats = self.client.stats
        self.counts.requests = stats.requests - self.stats_at_start.requests
        self.counts.throttled = stats.throttled - self.stats_at_start.throttled
        if error is None:
            self.database.finish(self.run.run_id, self.counts, status)
        else:
            self.database.finish_unsuccessful(
                self.run.run_id, self.counts, status, error
            )


def list_item(summary: dict[str, Any], details: dict[str, Any] | None) -> Any:
    """The loop as a listing with include_details sends it: summary and details.

    Without details (the endpoint failed) the item is a bare summary, as from
    a listing without them, and the stored details stay.

    >>> list_item({"id": 7, "updated": "u"}, {"Financials": {}})
    {'id': 7, 'updated': 'u', 'details': {'Financials': {}}}
    """
    # TODO: Dotloop's documented examples give GET /loop/{id} the list item's
    # fields, and the simulator serves one object to both; were a captured
    # answer to differ, map it here, or webhook syncs and listings would store
    # alternating summaries.
    item = {key: value for key, value in summary.items() if key != "details"}
    if details is not None:
        item["details"] = details
    return item


def _details(
    client: DotloopClient, profile_id: int, loop_id: int
) -> dict[str, Any] | None:
    # The summary answered, so the loop exists: missing details are no removal.
    try:
        return client.loop_detail(profile_id, loop_id)
    except (NotFoundError, InvalidResponseError) as exc:
        logger.warning("details of loop %d not fetched: %s", loop_id, exc)
        return None


def _participants(
    client: DotloopClient, profile_id: int, loop_id: int
) -> Participants | None:
    """The loop's participants; an unreadable list to quarantine; None if 404."""
    try:
        return client.loop_participants(profile_id, loop_id)
    except NotFoundError as exc:
        logger.warning("participants of loop %d not fetched: %s", loop_id, exc)
        return None
    except InvalidResponseError as exc:
        return InvalidPayload(redact(str(exc)), exc.body)


def merge_loops(settings: Settings, old_id: int, new_id: int) -> None:
    """Record a LOOP_MERGED event: old_id now lives on as new_id."""
    with connect(settings) as conn:
        apply_schema(conn, settings)
        mark_merged(conn, settings, old_id, new_id)


def _now() -> datetime:
    return datetime.now(UTC)
