"""A loop given a new `updated`, as when someone edits it while a sync runs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .data import Body, JsonObject, LoopEntry, SimulatedData, format_timestamp


class TouchedEntry:
    """A loop exactly like another one, except updated at a later moment.

    `added` are participants put on the loop since: they follow the original
    participant list when that is an envelope the simulator can extend.
    """

    def __init__(
        self,
        original: LoopEntry,
        updated: float,
        added: Sequence[JsonObject] = (),
    ) -> None:
        self.original = original
        self.added = tuple(added)
        self._updated = updated

    @property
    def loop_id(self) -> int | None:
        return self.original.loop_id

    @property
    def created(self) -> float | None:
        return self.original.created

    @property
    def updated(self) -> float | None:
        return self._updated

    @property
    def closing(self) -> float | None:
        return self.original.closing

    @property
    def transaction_type(self) -> str | None:
        return self.original.transaction_type

    @property
    def status(self) -> str | None:
        return self.original.status

    def summary(self) -> Any:
        item = self.original.summary()
        if not isinstance(item, dict):
            return item
        return {**item, "updated": format_timestamp(self._updated)}

    def detail(self) -> Body | None:
        return self.original.detail()

    def participants(self) -> Body | None:
        body = self.original.participants()
        if not self.added or not isinstance(body, dict):
            return body
        people = body.get("data")
        if not isinstance(people, list):
            return body
        return {**body, "data": [*people, *self.added]}

    def details_object(self) -> JsonObject | None:
        return self.original.details_object()


def touch_loop(
    data: SimulatedData,
    loop_id: int,
    moment: float,
    added: Sequence[JsonObject] = (),
) -> bool:
    """Update a loop at `moment` (or just after the newest loop) in every listing.

    `added` participants join the loop as part of the edit. Returns False when
    no listing holds the loop as an object to update.
    """
    when = float(max(math.floor(moment), math.floor(_newest(data)) + 1))
    touched = False
    for listing in data.listings.values():
        entry = listing.find(loop_id)
        if entry is None or not isinstance(entry.summary(), dict):
            continue
        original: LoopEntry = entry
        earlier: tuple[JsonObject, ...] = ()
        if isinstance(entry, TouchedEntry):
            original, earlier = entry.original, entry.added
        edited = TouchedEntry(original, when, (*earlier, *added))
        touched = listing.replace(edited) or touched
    return touched


def _newest(data: SimulatedData) -> float:
    return max(
        (
            entry.updated
            for listing in data.listings.values()
            for entry in listing.entries
            if entry.updated is not None
        ),
        default=0.0,
    )
