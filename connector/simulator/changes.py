"""Edits the simulated Dotloop makes to its loops, and the events they raise.

Someone updates a loop, puts a participant on it, creates a loop or merges
two: the data changes in every listing that shows the loop, and every
listener hears a LoopEvent naming the loop and the profiles that see it, as
Dotloop's webhooks would tell them. Edits come from the admin endpoints and
from faults (rows moving between pages, merged loops); one lock keeps them
apart.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .data import Body, JsonObject, LoopEntry, SimulatedData, format_timestamp
from .touch import touch_loop

logger = logging.getLogger(__name__)

LOOP_CREATED = "LOOP_CREATED"
LOOP_UPDATED = "LOOP_UPDATED"
LOOP_MERGED = "LOOP_MERGED"
LOOP_PARTICIPANT_CREATED = "LOOP_PARTICIPANT_CREATED"
# Participant ids of people added by edits, far above the generated ones.
_FIRST_ADDED_PERSON = 9_000_000_001


@dataclass(frozen=True)
class LoopEvent:
    """One change to a loop and the profiles that see it.

    For LOOP_MERGED, loop_id is the surviving loop and merged_loop_id the one
    merged into it; participant_id names the person of a participant event.
    """

    event_type: str
    loop_id: int
    profile_ids: frozenset[int]
    merged_loop_id: int | None = None
    participant_id: int | None = None


Listener = Callable[[LoopEvent], None]


class LoopChanges:
    """Changes loops in a SimulatedData in place and tells the listeners."""

    def __init__(
        self, data: SimulatedData, clock: Callable[[], float] = time.time
    ) -> None:
        self.data = data
        self._clock = clock
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._people = itertools.count(_FIRST_ADDED_PERSON)

    def listen(self, listener: Listener) -> None:
        """Call listener with every event from now on."""
        self._listeners.append(listener)

    def update(self, loop_id: int, moment: float | None = None) -> bool:
        """Give a loop a new `updated` (LOOP_UPDATED); False when it is not listed."""
        with self._lock:
            if not touch_loop(self.data, loop_id, self._moment(moment)):
                return False
            profiles = self._profiles_listing(loop_id)
        self._emit(LoopEvent(LOOP_UPDATED, loop_id, profiles))
        return True

    def add_participant(
        self, loop_id: int, moment: float | None = None
    ) -> JsonObject | None:
        """Put a new person on a loop, the loop updated with it; None if not listed.

        Dotloop tells of both: LOOP_PARTICIPANT_CREATED and LOOP_UPDATED.
        """
        number = next(self._people)
        person: JsonObject = {
            "id": number,
            "fullName": f"Pat Newcomer {number % 1000}",
            "email": f"pat.newcomer{number % 1000}@example.com",
            "role": "OTHER",
        }
        with self._lock:
            if not touch_loop(self.data, loop_id, self._moment(moment), [person]):
                return None
            profiles = self._profiles_listing(loop_id)
        created = LoopEvent(
            LOOP_PARTICIPANT_CREATED, loop_id, profiles, participant_id=number
        )
        self._emit(created)
        self._emit(LoopEvent(LOOP_UPDATED, loop_id, profiles))
        return person

    def create(self, profile_id: int, moment: float | None = None) -> int | None:
        """A new loop shaped like one the profile lists (LOOP_CREATED); its id.

        It is listed wherever that loop is. None when the profile lists no
        loop to copy.
        """
        with self._lock:
            listing = self.data.listing(profile_id)
            template = None if listing is None else _first_object(listing.entries)
            if template is None or template.loop_id is None:
                return None
            new_id = self._next_loop_id()
            created = NewLoop(template, new_id, float(int(self._moment(moment))))
            for other in self.data.listings.values():
                if other.find(template.loop_id) is not None:
                    other.add(created)
            profiles = self._profiles_listing(new_id)
        self._emit(LoopEvent(LOOP_CREATED, new_id, profiles))
        return new_id

    def merge(self, old_id: int, new_id: int, moment: float | None = None) -> bool:
        """Merge loop old_id into new_id (LOOP_MERGED); False unless both are listed.

        The old loop leaves every listing and answers 404; the survivor is
        updated. Every profile that saw either one hears of it.
        """
        if old_id == new_id:
            raise ValueError(f"loop {old_id} cannot be merged into itself")
        with self._lock:
            seen_old = self._profiles_listing(old_id)
            seen_new = self._profiles_listing(new_id)
            if not seen_old or not seen_new:
                return False
            for listing in self.data.listings.values():
                listing.remove(old_id)
            touch_loop(self.data, new_id, self._moment(moment))
        logger.info("loop %d merged into loop %d", old_id, new_id)
        event = LoopEvent(LOOP_MERGED, new_id, seen_old | seen_new, old_id)
        self._emit(event)
        return True

    def _emit(self, event: LoopEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _moment(self, moment: float | None) -> float:
        return self._clock() if moment is None else moment

    def _profiles_listing(self, loop_id: int) -> frozenset[int]:
        return frozenset(
            profile_id
            for profile_id, listing in self.data.listings.items()
            if listing.find(loop_id) is not None
        )

    def _next_loop_id(self) -> int:
        ids = (
            entry.loop_id
            for listing in self.data.listings.values()
            for entry in listing.entries
            if entry.loop_id is not None
        )
        return max(ids, default=0) + 1


class NewLoop:
    """A loop created as a copy of another: its own id, created and updated now."""

    def __init__(self, template: LoopEntry, loop_id: int, moment: float) -> None:
        self.template = template
        self._loop_id = loop_id
        self._moment = moment

    @property
    def loop_id(self) -> int | None:
        return self._loop_id

    @property
    def created(self) -> float | None:
        return self._moment

    @property
    def updated(self) -> float | None:
        return self._moment

    @property
    def closing(self) -> float | None:
        return self.template.closing

    @property
    def transaction_type(self) -> str | None:
        return self.template.transaction_type

    @property
    def status(self) -> str | None:
        return self.template.status

    def summary(self) -> Any:
        item = self.template.summary()
        stamp = format_timestamp(self._moment)
        copied = {**item, "id": self._loop_id, "created": stamp, "updated": stamp}
        url = item.get("loopUrl")
        if isinstance(url, str):
            copied["loopUrl"] = url.replace(str(item.get("id")), str(self._loop_id))
        return copied

    def detail(self) -> Body | None:
        return self.template.detail()

    def participants(self) -> Body | None:
        return self.template.participants()

    def details_object(self) -> JsonObject | None:
        return self.template.details_object()


def _first_object(entries: Sequence[LoopEntry]) -> LoopEntry | None:
    for entry in entries:
        if entry.loop_id is not None and isinstance(entry.summary(), dict):
            return entry
    return None
