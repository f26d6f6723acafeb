"""What a simulator serves: the account, profiles and each profile's loops."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

# A body the simulator serializes itself (always a JSON object: an envelope).
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class RawBody:
    """A response body served byte for byte, such as a captured fixture file."""

    content: bytes

    def parse(self) -> Any:
        """The body as JSON, or None when it is not valid JSON."""
        try:
            return json.loads(self.content)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None


Body = RawBody | JsonObject


class LoopEntry(Protocol):
    """One loop as a listing sees it: the keys it sorts and filters on, and bodies.

    Timestamps are epoch seconds; None means the loop has no usable value.
    """

    @property
    def loop_id(self) -> int | None: ...
    @property
    def created(self) -> float | None: ...
    @property
    def updated(self) -> float | None: ...
    @property
    def closing(self) -> float | None: ...
    @property
    def transaction_type(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...

    def summary(self) -> Any:
        """The list item as the API returns it, without `details`."""

    def detail(self) -> Body | None:
        """The detail endpoint's body; None when the loop has none (404)."""

    def participants(self) -> Body | None:
        """The participant endpoint's body; None when the loop has none (404)."""

    def details_object(self) -> JsonObject | None:
        """The `data` of the detail body, attached by include_details; or None."""


class LoopListing:
    """The loops one profile sees, in their stored order.

    `version` grows whenever a loop is replaced, so cached selections of an
    older version are never served again.
    """

    def __init__(
        self,
        entries: Sequence[LoopEntry],
        *,
        raw: RawBody | None = None,
        hide_total: bool = False,
    ) -> None:
        self.entries = entries
        self.raw = raw
        self.hide_total = hide_total
        self.version = 0
        self._by_id: dict[int, LoopEntry] = {}
        for entry in entries:
            if entry.loop_id is not None:
                self._by_id.setdefault(entry.loop_id, entry)

    def find(self, loop_id: int) -> LoopEntry | None:
        """The loop with this id, if the profile sees it."""
        return self._by_id.get(loop_id)

    def replace(self, entry: LoopEntry) -> bool:
        """Put `entry` in place of the loop with its id; False when not listed."""
        old = None if entry.loop_id is None else self.find(entry.loop_id)
        if old is None or entry.loop_id is None:
            return False
        # Readers on other threads see the old tuple or the new one, never a mix.
        self.entries = tuple(entry if e is old else e for e in self.entries)
        self._by_id[entry.loop_id] = entry
        self.version += 1
        return True

    def add(self, entry: LoopEntry) -> bool:
        """List a new loop; False when its id is missing or already listed."""
        if entry.loop_id is None or self.find(entry.loop_id) is not None:
            return False
        self.entries = (*self.entries, entry)
        self._by_id[entry.loop_id] = entry
        self.version += 1
        return True

    def remove(self, loop_id: int) -> bool:
        """Stop listing a loop (it answers 404 from now on); False when not listed."""
        if self._by_id.pop(loop_id, None) is None:
            return False
        self.entries = tuple(e for e in self.entries if e.loop_id != loop_id)
        self.version += 1
        return True

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class SimulatedData:
    """Everything one simulated Dotloop user can read."""

    account: Body
    profiles: Body
    listings: Mapping[int, LoopListing]

    def listing(self, profile_id: int) -> LoopListing | None:
        """The loops of a profile; None for a profile the user does not have."""
        return self.listings.get(profile_id)

    def profile_ids(self) -> list[int]:
        """Every profile the user has, in id order."""
        return sorted(self.listings)


def envelope_list(items: Iterable[Any], total: int | None = None) -> JsonObject:
    """The list envelope `{"meta": {"total": N}, "data": [...]}`."""
    data = list(items)
    return {"meta": {"total": len(data) if total is None else total}, "data": data}


def envelope_item(item: Any) -> JsonObject:
    """The single-item envelope `{"data": {...}}`."""
    return {"data": item}


def parse_loop_id(value: Any) -> int | None:
    """A loop or profile id from JSON: an int or a string of digits.

    >>> parse_loop_id("42"), parse_loop_id(7), parse_loop_id(None), parse_loop_id(True)
    (42, 7, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_timestamp(value: Any) -> float | None:
    """Epoch seconds from an ISO 8601 timestamp; naive times are UTC.

    >>> parse_timestamp("1970-01-02T00:00:00Z"), parse_timestamp("soon")
    (86400.0, None)
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def parse_loose_date(value: Any) -> date | None:
    """A detail date as people type it: `03/05/2026` or `March 05, 2026`.

    >>> parse_loose_date("3/5/2026"), parse_loose_date("March 05, 2026")
    (datetime.date(2026, 3, 5), datetime.date(2026, 3, 5))
    >>> parse_loose_date("TBD") is None
    True
    """
    if not isinstance(value, str):
        return None
    match = _NUMERIC_DATE.match(value)
    try:
        if match:
            month, day, year = (int(part) for part in match.groups())
            return date(year, month, day)
        return datetime.strptime(value.strip(), "%B %d, %Y").date()
    except ValueError:
        return None


def date_timestamp(day: date) -> float:
    """Epoch seconds of midnight UTC on a day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def format_timestamp(seconds: float) -> str:
    """ISO 8601 UTC to the second, the way Dotloop writes `created`/`updated`.

    >>> format_timestamp(86400)
    '1970-01-02T00:00:00Z'
    """
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
