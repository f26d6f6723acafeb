"""Landing what a run fetched, with the bookkeeping, in one transaction.

A page (or loops asked for by id) lands together with everything that goes
with it: responses to quarantine, loops found gone, fetches that failed (for a
later run to try again), pending fetches and quarantine entries that what
landed settles, and the listing checkpoint. The lease check comes first, so a
run that lost the profile lands nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from .checkpoints import Checkpoint, save_checkpoint
from .db import Connection
from .fetching import FetchedDetails, FetchedParticipants
from .landing import (
    SOURCE_DETAILS,
    SOURCE_LOOP_ITEM,
    SOURCE_PARTICIPANTS,
    LandingResult,
    land_prepared,
    prepare_page,
    quarantine,
)
from .leases import ProfileLeases
from .payloads import InvalidPayload, LoopItem, ParsedPage
from .pending import (
    DETAILS,
    PARTICIPANTS,
    FailedFetch,
    clear_pending,
    open_entries,
    pending_keys,
    record_failed,
    resolve_entries,
)
from .runs import RunCounts, RunDatabase
from .sweep import mark_gone


@dataclass(frozen=True)
class Landed:
    """The loops a unit of work landed a summary, details or participants of."""

    summaries: frozenset[int] = frozenset()
    details: frozenset[int] = frozenset()
    participants: frozenset[int] = frozenset()

    def fetched(self) -> tuple[tuple[str, frozenset[int]], ...]:
        """(pending fetch kind, loop ids) of what landed."""
        return ((DETAILS, self.details), (PARTICIPANTS, self.participants))

    def sources(self) -> tuple[tuple[str, frozenset[int]], ...]:
        """(quarantine source, loop ids) of what landed."""
        return (
            (SOURCE_LOOP_ITEM, self.summaries),
            (SOURCE_DETAILS, self.details),
            (SOURCE_PARTICIPANTS, self.participants),
        )


class Owed:
    """The pending fetches and open quarantine entries a run knows of.

    Loaded once a run (they are few), so that landing a page costs a
    statement only when the page holds a loop that is owed something.
    """

    def __init__(self) -> None:
        self.pending: set[tuple[int, str]] = set()
        self.entries: dict[int, set[str]] = {}

    def load(self, conn: Connection, schema: str) -> None:
        """Take what the database says is owed now."""
        self.pending = pending_keys(conn, schema)
        self.entries = open_entries(conn, schema)

    def settle(
        self,
        conn: Connection,
        schema: str,
        landed: Landed,
        *,
        run_id: int,
        now: datetime,
    ) -> int:
        """In the landing transaction: clear what landed; returns entries resolved."""
        for kind, ids in landed.fetched():
            clear_pending(conn, schema, kind, self._pending(kind, ids))
        resolved = 0
        for source, ids in landed.sources():
            open_ids = [i for i in ids if source in self.entries.get(i, ())]
            resolved += resolve_entries(
                conn, schema, open_ids, (source,), run_id=run_id, now=now
            )
        return resolved

    def forget(self, landed: Landed) -> None:
        """After the landing committed: nothing is owed for what it landed."""
        for kind, ids in landed.fetched():
            self.pending.difference_update((i, kind) for i in ids)
        for source, ids in landed.sources():
            for loop_id in ids:
                self.entries.get(loop_id, set()).discard(source)

    def owe(self, failures: Iterable[FailedFetch], quarantined: dict[int, str]) -> None:
        """Remember fetches that failed and entries quarantined (loop -> source)."""
        self.pending.update((f.loop_id, f.kind) for f in failures)
        for loop_id, source in quarantined.items():
            self.entries.setdefault(loop_id, set()).add(source)

    def _pending(self, kind: str, ids: Collection[int]) -> list[int]:
        return [i for i in ids if (i, kind) in self.pending]


class LoopWriter:
    """Lands fetched loops for one run, keeping its counts and what it owes."""

    def __init__(
        self,
        database: RunDatabase,
        schema: str,
        run_id: int,
        *,
        leases: ProfileLeases,
        owed: Owed,
        counts: RunCounts,
    ) -> None:
        self.database = database
        self.schema = schema
        self.run_id = run_id
        self.leases = leases
        self.owed = owed
        self.counts = counts

    def land(
        self,
        profile_id: int,
        parsed: ParsedPage,
        details: FetchedDetails,
        people: FetchedParticipants,
        checkpoint: Checkpoint | None = None,
    ) -> LandingResult:
        """Land the loops with their details and participants, all or nothing."""
        now = datetime.now(UTC)
        loops = [
            replace(loop, details=details.documents[loop.loop_id])
            if loop.loop_id in details.documents
            else loop
            for loop in parsed.loops
        ]
        prepared = prepare_page(
            profile_id=profile_id,
            run_id=self.run_id,
            items=ParsedPage(loops, parsed.rejected),
            participants_by_loop=people.lists,
            now=now,
        )
        versions = {loop.loop_id: loop.updated_text for loop in loops}
        refused = prepared.quarantined_loops()
        failures = all_failures(profile_id, details, people, refused, versions)
        landed = _landed(loops, people, refused)
        refused.update(dict.fromkeys(details.invalid, SOURCE_DETAILS))

        def land(conn: Connection) -> tuple[LandingResult, int, int]:
            self.leases.check(conn, profile_id)
            result = land_prepared(conn, self.schema, prepared)
            self.quarantine_details(conn, profile_id, details, now)
            removed = mark_gone(conn, self.schema, profile_id, people.gone, now)
            record_failed(conn, self.schema, failures, run_id=self.run_id, now=now)
            resolved = self.owed.settle(
                conn, self.schema, landed, run_id=self.run_id, now=now
            )
            if checkpoint is not None:
                save_checkpoint(conn, self.schema, checkpoint)
            return result, removed, resolved

        result, removed, resolved = self.database.transact(land)
        self.owed.forget(landed)
        self.owed.owe(failures, refused)
        self.counts.quarantined += result.quarantined + len(details.invalid)
        self.counts.loops_removed += removed
        self.counts.quarantine_resolved += resolved
        return result

    def quarantine_details(
        self,
        conn: Connection,
        profile_id: int,
        details: FetchedDetails,
        now: datetime,
    ) -> None:
        """Keep the detail responses that could not be used, in conn's transaction."""
        for loop_id, bad in details.invalid.items():
            quarantine(
                conn,
                schema=self.schema,
                run_id=self.run_id,
                profile_id=profile_id,
                loop_id=loop_id,
                source=SOURCE_DETAILS,
                payload=bad,
                now=now,
            )


def all_failures(
    profile_id: int,
    details: FetchedDetails,
    people: FetchedParticipants,
    refused: dict[int, str],
    versions: dict[int, str],
) -> list[FailedFetch]:
    """Every fetch that will not land, participant lists refused included."""
    failures = details.failures + people.failures
    known = {(f.loop_id, f.kind) for f in failures}
    failures += [
        FailedFetch(loop_id, PARTICIPANTS, profile_id, versions[loop_id], "unusable")
        for loop_id, source in refused.items()
        if source == SOURCE_PARTICIPANTS
        and loop_id in versions
        and (loop_id, PARTICIPANTS) not in known
    ]
    return failures


def _landed(
    loops: list[LoopItem], people: FetchedParticipants, refused: dict[int, str]
) -> Landed:
    return Landed(
        summaries=frozenset(loop.loop_id for loop in loops),
        details=frozenset(loop.loop_id for loop in loops if loop.details is not None),
        participants=frozenset(
            loop_id
            for loop_id, value in people.lists.items()
            if not isinstance(value, InvalidPayload)
            and refused.get(loop_id) != SOURCE_PARTICIPANTS
        ),
    )
