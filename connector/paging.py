"""Query parameters and pages of the Dotloop loop list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_BATCH_SIZE = 100
_RESERVED = frozenset(",|=")


@dataclass(frozen=True)
class LoopPage:
    """One page of a profile's loop list, items exactly as Dotloop sent them."""

    profile_id: int
    batch_number: int
    items: list[Any]
    total: int | None
    raw_size: int


def build_filter(filters: Mapping[str, str | Sequence[str]]) -> str:
    """The one `filter` parameter: pairs joined by ",", several values by "|".

    >>> build_filter({"updated_min": "2024-01-01T00:00:00Z"})
    'updated_min=2024-01-01T00:00:00Z'
    >>> build_filter({"transaction_type": ["PURCHASE_OFFER", "LISTING_FOR_SALE"],
    ...               "transaction_status": "SOLD"})
    'transaction_type=PURCHASE_OFFER|LISTING_FOR_SALE,transaction_status=SOLD'
    """
    return ",".join(f"{_part(k)}={_values(k, v)}" for k, v in filters.items())


def loop_list_params(
    batch_number: int,
    batch_size: int,
    sort: str,
    filters: Mapping[str, str | Sequence[str]] | None,
    include_details: bool,
) -> dict[str, str]:
    """Query parameters for one page of `GET /profile/{id}/loop`."""
    params = {
        "batch_number": str(batch_number),
        "batch_size": str(batch_size),
        "sort": sort,
    }
    if filters:
        params["filter"] = build_filter(filters)
    if include_details:
        params["include_details"] = "true"
    return params


def check_batch_size(batch_size: int) -> None:
    """Reject a batch size Dotloop would not honour."""
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(
            f"batch_size must be between 1 and {MAX_BATCH_SIZE}, not {batch_size}"
        )


def _values(key: str, value: str | Sequence[str]) -> str:
    values = [value] if isinstance(value, str) else list(value)
    if not values:
        raise ValueError(f"filter {key!r} has no values")
    return "|".join(_part(v) for v in values)


def _part(text: str) -> str:
    # The separators have no escape in Dotloop's filter syntax.
    if not isinstance(text, str) or not text or _RESERVED & set(text):
        raise ValueError(
            f"filter keys and values must be non-empty, without , | or =: {text!r}"
        )
    return text
