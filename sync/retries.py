"""Second chances: quarantined loops asked for by id, failed fetches again.

After a profile's listing, while the run still holds its lease, the run
spends a bounded share of its budget on what earlier runs could not land for
that profile:

- Loop items that were quarantined (no usable `updated`, a details section
  that is not an object...). Once the watermark has passed such a loop, no
  incremental listing shows it again unless it changes, so the run asks for it
  by id (the loop, its details, its participants if new or changed) and lands
  it like a listed loop, which resolves its entries. A loop still unusable
  counts one more retry on its entries; after MAX_ITEM_RETRIES runs it is left
  to a webhook, an edit or the sweep.
- Pending fetches (sync/pending.py): details and participant lists that did
  not land, each tried once a run until it lands, the loop changes (its
  listing then brings them) or MAX_FETCH_ATTEMPTS runs have failed.

At most ITEM_LIMIT loops and FETCH_LIMIT fetches a run, so a broken endpoint
cannot spend the whole budget.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from connector import InvalidResponseError, NotFoundError

from .db import Connection
from .fetching import FetchedDetails, FetchedParticipants, LoopFetcher
from .landing import (
    SOURCE_DETAILS,
    SOURCE_LOOP_ITEM,
    SOURCE_PARTICIPANTS,
    land_details,
    land_participants,
    stored_versions,
)
from .payloads import ParsedPage, UnusablePayload, parse_item
from .pending import (
    DETAILS,
    PARTICIPANTS,
    DueFetch,
    FailedFetch,
    QuarantinedLoop,
    due_fetches,
    note_missing_participants,
    note_retry,
    quarantined_loops,
    record_failed,
    resolve_entries,
)
from .sweep import mark_gone
from .writer import Landed, LoopWriter, all_failures

logger = logging.getLogger(__name__)

ITEM_LIMIT = 100
FETCH_LIMIT = 500
MAX_ITEM_RETRIES = 5
MAX_FETCH_ATTEMPTS = 10
# Pending fetches landed per transaction.
FETCH_BATCH = 50

# What landing retried fetches did: landed, refused (loop -> quarantine
# source), failed again, loops found gone, quarantine entries resolved.
_Retried = tuple[Landed, dict[int, str], list[FailedFetch], int, int]


class Retries:
    """The second chances of one run, profile by profile, within its limits."""

    def __init__(self, fetcher: LoopFetcher, writer: LoopWriter) -> None:
        self.fetcher = fetcher
        self.writer = writer
        self.database = writer.database
        self.schema = writer.schema
        self.run_id = writer.run_id
        self.leases = writer.leases
        self.owed = writer.owed
        self.counts = writer.counts

    def begin(self, profile_ids: list[int]) -> None:
        """Before the listings: note participant lists left stale, to fetch again."""
        noted = self.database.transact(
            lambda conn: note_missing_participants(
                conn, self.schema, profile_ids, _now()
            )
        )
        if noted:
            logger.info("%d participant lists are owed since earlier runs", noted)

    def run(self, profile_id: int) -> None:
        """Retry the profile's quarantined loops, then its pending fetches."""
        items = self._quarantined(profile_id)
        for entry in items:
            self._retry_item(profile_id, entry)
        due = self._due(profile_id)
        for start in range(0, len(due), FETCH_BATCH):
            self._retry_fetches(profile_id, due[start : start + FETCH_BATCH])
        if items or due:
            logger.info(
                "profile %d: asked again for %d quarantined loop(s) and %d "
                "pending fetch(es)",
                profile_id,
                len(items),
                len(due),
            )

    def _quarantined(self, profile_id: int) -> list[QuarantinedLoop]:
        left = ITEM_LIMIT - self.counts.quarantine_retried
        if left <= 0:
            return []
        return self.database.transact(
            lambda conn: quarantined_loops(
                conn,
                self.schema,
                profile_id,
                run_id=self.run_id,
                limit=left,
                max_retries=MAX_ITEM_RETRIES,
            )
        )

    def _due(self, profile_id: int) -> list[DueFetch]:
        left = FETCH_LIMIT - self.counts.fetches_retried
        if left <= 0:
            return []

        def due(conn: Connection) -> list[DueFetch]:
            return due_fetches(
                conn,
                self.schema,
                profile_id,
                run_id=self.run_id,
                limit=left,
                max_attempts=MAX_FETCH_ATTEMPTS,
            )

        return self.database.transact(due)

    def _retry_item(self, profile_id: int, entry: QuarantinedLoop) -> None:
        self.counts.quarantine_retried += 1
        loop_id = entry.loop_id
        try:
            summary = self.fetcher.loop(profile_id, loop_id)
            loop = parse_item(summary)
        except NotFoundError:
            self._item_gone(profile_id, loop_id)
            return
        except (InvalidResponseError, UnusablePayload) as exc:
            logger.warning("quarantined loop %d is still unusable (%s)", loop_id, exc)
            self.database.transact(
                lambda conn: note_retry(conn, self.schema, entry.entry_ids, _now())
            )
            return
        version = {loop_id: loop.updated_text}
        details = FetchedDetails()
        if loop.details is None:
            details = self.fetcher.details(profile_id, version)
        stored = self.database.transact(
            lambda conn: stored_versions(conn, self.schema, [loop_id])
        )
        people = FetchedParticipants()
        if stored.get(loop_id) != (loop.updated_text, loop.updated_text):
            people = self.fetcher.participants(profile_id, version)
        self.writer.land(profile_id, ParsedPage([loop], []), details, people)
        logger.info("quarantined loop %d of profile %d landed", loop_id, profile_id)

    def _item_gone(self, profile_id: int, loop_id: int) -> None:
        now = _now()

        def gone(conn: Connection) -> tuple[int, int]:
            self.leases.check(conn, profile_id)
            removed = mark_gone(conn, self.schema, profile_id, [loop_id], now)
            resolved = resolve_entries(
                conn,
                self.schema,
                [loop_id],
                (SOURCE_LOOP_ITEM,),
                run_id=self.run_id,
                now=now,
            )
            return removed, resolved

        removed, resolved = self.database.transact(gone)
        self.counts.loops_removed += removed
        self.counts.quarantine_resolved += resolved
        self.owed.forget(Landed(summaries=frozenset({loop_id})))
        logger.warning(
            "quarantined loop %d answers 404 through profile %d: marked gone",
            loop_id,
            profile_id,
        )

    def _retry_fetches(self, profile_id: int, due: list[DueFetch]) -> None:
        self.counts.fetches_retried += len(due)
        versions = {
            kind: {d.loop_id: d.loop_updated for d in due if d.kind == kind}
            for kind in (DETAILS, PARTICIPANTS)
        }
        details = self.fetcher.details(profile_id, versions[DETAILS])
        people = self.fetcher.participants(profile_id, versions[PARTICIPANTS])
        now = _now()

        def land(conn: Connection) -> _Retried:
            self.leases.check(conn, profile_id)
            refused = dict(self._land_people(conn, profile_id, versions, people, now))
            refused.update(self._land_details(conn, profile_id, versions, details, now))
            landed = _landed(details, people, refused)
            failures = all_failures(
                profile_id, details, people, refused, versions[PARTICIPANTS]
            )
            record_failed(conn, self.schema, failures, run_id=self.run_id, now=now)
            removed = mark_gone(conn, self.schema, profile_id, people.gone, now)
            resolved = self.owed.settle(
                conn, self.schema, landed, run_id=self.run_id, now=now
            )
            return landed, refused, failures, removed, resolved

        landed, refused, failures, removed, resolved = self.database.transact(land)
        self.owed.forget(landed)
        self.owed.owe(failures, refused)
        self.counts.quarantined += len(refused)
        self.counts.loops_removed += removed
        self.counts.quarantine_resolved += resolved

    def _land_people(
        self,
        conn: Connection,
        profile_id: int,
        versions: dict[str, dict[int, str]],
        people: FetchedParticipants,
        now: datetime,
    ) -> Mapping[int, str]:
        result = land_participants(
            conn,
            schema=self.schema,
            run_id=self.run_id,
            profile_id=profile_id,
            fetched={
                loop_id: (versions[PARTICIPANTS][loop_id], value)
                for loop_id, value in people.lists.items()
            },
            now=now,
        )
        return result.quarantined_loops

    def _land_details(
        self,
        conn: Connection,
        profile_id: int,
        versions: dict[str, dict[int, str]],
        details: FetchedDetails,
        now: datetime,
    ) -> dict[int, str]:
        land_details(
            conn,
            schema=self.schema,
            run_id=self.run_id,
            fetched={
                loop_id: (versions[DETAILS][loop_id], document)
                for loop_id, document in details.documents.items()
            },
            now=now,
        )
        self.writer.quarantine_details(conn, profile_id, details, now)
        return {loop_id: SOURCE_DETAILS for loop_id in details.invalid}


def _landed(
    details: FetchedDetails, people: FetchedParticipants, refused: Mapping[int, str]
) -> Landed:
    usable = {
        loop_id
        for loop_id, value in people.lists.items()
        if isinstance(value, list) and refused.get(loop_id) != SOURCE_PARTICIPANTS
    }
    return Landed(details=frozenset(details.documents), participants=frozenset(usable))


def _now() -> datetime:
    return datetime.now(UTC)
