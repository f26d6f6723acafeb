"""Loop list queries: parse batch, sort and filter parameters; select a page."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .data import LoopEntry, LoopListing, parse_timestamp
from .errors import RequestRejected

DEFAULT_BATCH_SIZE = 20
MAX_BATCH_SIZE = 100
DEFAULT_SORT = "updated:desc"

SORT_KEYS: dict[str, Callable[[LoopEntry], float | None]] = {
    "updated": lambda entry: entry.updated,
    "created": lambda entry: entry.created,
    "closing_date": lambda entry: entry.closing,
}
FILTER_KEYS = ("updated_min", "created_min", "transaction_type", "transaction_status")


@dataclass(frozen=True)
class LoopFilter:
    """The conditions of the `filter` parameter; None means no condition."""

    updated_min: float | None = None
    created_min: float | None = None
    transaction_types: frozenset[str] | None = None
    statuses: frozenset[str] | None = None

    def accepts(self, entry: LoopEntry) -> bool:
        """Whether a loop meets every condition (a missing value meets none)."""
        return (
            _at_least(entry.updated, self.updated_min)
            and _at_least(entry.created, self.created_min)
            and _member(entry.transaction_type, self.transaction_types)
            and _member(entry.status, self.statuses)
        )


@dataclass(frozen=True)
class LoopQuery:
    """A parsed `GET /profile/{pid}/loop` request."""

    batch_number: int = 1
    batch_size: int = DEFAULT_BATCH_SIZE
    sort_key: str = "updated"
    descending: bool = True
    filters: LoopFilter = field(default_factory=LoopFilter)
    include_details: bool = False


def parse_loop_query(params: Mapping[str, Sequence[str]]) -> LoopQuery:
    """Read the list parameters; raises RequestRejected (400) on a bad one."""
    sort_key, descending = _parse_sort(_first(params, "sort") or DEFAULT_SORT)
    return LoopQuery(
        batch_number=_parse_int(params, "batch_number", 1, minimum=1),
        batch_size=_parse_batch_size(params),
        sort_key=sort_key,
        descending=descending,
        filters=_parse_filter(_first(params, "filter") or ""),
        include_details=_parse_bool(params, "include_details"),
    )


def select_page(listing: LoopListing, query: LoopQuery) -> tuple[list[LoopEntry], int]:
    """The loops of one batch and the number of loops the filter matched."""
    matched = sorted_selection(listing, query)
    start = (query.batch_number - 1) * query.batch_size
    return list(matched[start : start + query.batch_size]), len(matched)


def sorted_selection(listing: LoopListing, query: LoopQuery) -> tuple[LoopEntry, ...]:
    """Every loop the query's filter matches, in its sort order."""
    return _select(
        listing, listing.version, query.sort_key, query.descending, query.filters
    )


@functools.lru_cache(maxsize=32)
def _select(
    listing: LoopListing,
    version: int,
    sort_key: str,
    descending: bool,
    filters: LoopFilter,
) -> tuple[LoopEntry, ...]:
    # Paging through a large listing asks the same question once per batch, so
    # the sorted selection is cached per version of the listing.
    key = SORT_KEYS[sort_key]
    matched = [entry for entry in listing.entries if filters.accepts(entry)]
    keyed = [entry for entry in matched if key(entry) is not None]
    unkeyed = [entry for entry in matched if key(entry) is None]
    keyed.sort(key=lambda entry: (key(entry), entry.loop_id or 0), reverse=descending)
    # Loops without the sort value come last whichever the direction.
    return tuple(keyed + unkeyed)


def _at_least(value: float | None, minimum: float | None) -> bool:
    return minimum is None or (value is not None and value >= minimum)


def _member(value: str | None, allowed: frozenset[str] | None) -> bool:
    return allowed is None or value in allowed


def _first(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def _parse_int(
    params: Mapping[str, Sequence[str]], name: str, default: int, *, minimum: int
) -> int:
    text = _first(params, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise _invalid(f"{name} must be an integer, not {text!r}") from None
    if value < minimum:
        raise _invalid(f"{name} must be at least {minimum}")
    return value


def _parse_batch_size(params: Mapping[str, Sequence[str]]) -> int:
    size = _parse_int(params, "batch_size", DEFAULT_BATCH_SIZE, minimum=1)
    if size > MAX_BATCH_SIZE:
        raise _invalid(f"batch_size must be at most {MAX_BATCH_SIZE}")
    return size


def _parse_bool(params: Mapping[str, Sequence[str]], name: str) -> bool:
    text = (_first(params, name) or "false").lower()
    if text not in ("true", "false"):
        raise _invalid(f"{name} must be true or false")
    return text == "true"


def _parse_sort(text: str) -> tuple[str, bool]:
    key, _, direction = text.partition(":")
    direction = direction or "asc"
    if key not in SORT_KEYS or direction not in ("asc", "desc"):
        raise _invalid(f"sort must be one of {sorted(SORT_KEYS)} with :asc or :desc")
    return key, direction == "desc"


def _parse_filter(text: str) -> LoopFilter:
    conditions: dict[str, str] = {}
    for pair in filter(None, text.split(",")):
        name, sep, value = pair.partition("=")
        if not sep or name not in FILTER_KEYS or not value:
            raise _invalid(f"filter takes key=value pairs with keys {FILTER_KEYS}")
        conditions[name] = value
    return LoopFilter(
        updated_min=_parse_moment(conditions.get("updated_min")),
        created_min=_parse_moment(conditions.get("created_min")),
        transaction_types=_parse_choices(conditions.get("transaction_type")),
        statuses=_parse_choices(conditions.get("transaction_status")),
    )


def _parse_moment(text: str | None) -> float | None:
    # ISO 8601 or epoch milliseconds: which one Dotloop expects is not documented.
    if text is None:
        return None
    if text.isdigit():
        return int(text) / 1000
    moment = parse_timestamp(text)
    if moment is None:
        raise _invalid(f"{text!r} is neither ISO 8601 nor epoch milliseconds")
    return moment


def _parse_choices(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(text.split("|"))


def _invalid(message: str) -> RequestRejected:
    return RequestRejected(400, "invalid_request", message)
