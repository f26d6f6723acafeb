"""A loop's life: listing, contract and closing days, its status and last update.

Days are date ordinals; 0 means the loop never reached that step. Events on or
after the end day have not happened yet, which is how recent loops come out
active or under contract while older ones are sold or archived.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

LISTING_TYPES = ("LISTING_FOR_SALE", "LISTING_FOR_LEASE")
LEASE_TYPES = ("LISTING_FOR_LEASE", "LEASE_OFFER")
OTHER_TYPES = ("REAL_ESTATE_OTHER", "OTHER")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC).toordinal()
_DAY = 86400.0


@dataclass(frozen=True)
class Timeline:
    """What happened to a loop up to the end of the generated period."""

    status: str
    updated: float
    days: tuple[int, int, int]  # listing, contract, closing
    contract_shown: bool


def plan_timeline(
    rng: random.Random, transaction_type: str, created: float, end: float
) -> Timeline:
    """Dates, status and last update of a loop created at `created`."""
    created_day = _day_of(created)
    end_day = _day_of(end)
    if transaction_type in OTHER_TYPES:
        return _other_timeline(rng, created, created_day, end_day, end)
    listing, contract, closing = _milestones(rng, transaction_type, created_day)
    contracted = 0 < contract < end_day
    status = _status(rng, transaction_type, created_day, contract, closing, end_day)
    last_event = _last_event(rng, status, created_day, contract, closing, end_day)
    return Timeline(
        status=status,
        updated=_moment(rng, last_event, created, end),
        days=(listing, contract if contracted else 0, closing if contracted else 0),
        contract_shown=contracted,
    )


def _milestones(
    rng: random.Random, transaction_type: str, created_day: int
) -> tuple[int, int, int]:
    lease = transaction_type in LEASE_TYPES
    if transaction_type in LISTING_TYPES:
        listing = created_day + rng.randrange(0, 8)
        gets_contract = rng.random() < 0.78
        contract = listing + (rng.randrange(2, 45) if lease else rng.randrange(4, 90))
    else:
        listing = 0
        gets_contract = rng.random() < (0.8 if lease else 0.72)
        contract = created_day + rng.randrange(0, 21)
    if not gets_contract:
        return listing, 0, 0
    closing = contract + (rng.randrange(5, 30) if lease else rng.randrange(21, 55))
    return listing, contract, closing


def _status(
    rng: random.Random,
    transaction_type: str,
    created_day: int,
    contract: int,
    closing: int,
    end_day: int,
) -> str:
    closed = "LEASED" if transaction_type in LEASE_TYPES else "SOLD"
    if 0 < closing < end_day:
        return _pick(rng, (closed, 86), ("ARCHIVED", 12), ("UNDER_CONTRACT", 2))
    if 0 < contract < end_day:
        return _pick(rng, ("UNDER_CONTRACT", 95), ("ARCHIVED", 5))
    open_status = _open_status(rng, transaction_type)
    lifetime = 150 if transaction_type in LISTING_TYPES else 30
    if contract or end_day - created_day < lifetime:
        return open_status
    return _pick(rng, ("ARCHIVED", 88), (open_status, 12))


def _open_status(rng: random.Random, transaction_type: str) -> str:
    if transaction_type in LISTING_TYPES:
        return _pick(
            rng, ("ACTIVE_LISTING", 75), ("PRE_LISTING", 15), ("PRIVATE_LISTING", 10)
        )
    return "PRE_OFFER"


def _last_event(
    rng: random.Random,
    status: str,
    created_day: int,
    contract: int,
    closing: int,
    end_day: int,
) -> int:
    if 0 < closing < end_day:
        return closing + rng.randrange(0, 15)
    if 0 < contract < end_day:
        return contract + rng.randrange(0, max(1, end_day - contract))
    if status == "ARCHIVED":
        return created_day + rng.randrange(30, 200)
    return created_day + rng.randrange(0, max(1, min(end_day - created_day, 60)))


def _other_timeline(
    rng: random.Random, created: float, created_day: int, end_day: int, end: float
) -> Timeline:
    age = end_day - created_day
    if age < 10:
        status = "NEW"
    elif age < 60:
        status = _pick(rng, ("IN_PROGRESS", 80), ("DONE", 20))
    else:
        status = _pick(rng, ("DONE", 65), ("ARCHIVED", 30), ("IN_PROGRESS", 5))
    last_event = created_day + rng.randrange(0, max(1, min(age, 90)))
    return Timeline(status, _moment(rng, last_event, created, end), (0, 0, 0), False)


def _pick(rng: random.Random, *choices: tuple[str, int]) -> str:
    values = [value for value, _ in choices]
    return rng.choices(values, [weight for _, weight in choices])[0]


def _day_of(moment: float) -> int:
    return _EPOCH + int(moment // _DAY)


def _moment(rng: random.Random, day: int, created: float, end: float) -> float:
    # Working hours, never before the loop existed nor after the period ends.
    day = min(day, _day_of(end - 1) - rng.randrange(0, 3))
    seconds = (day - _EPOCH) * _DAY + rng.randrange(13 * 3600, 23 * 3600)
    return float(int(max(created, min(seconds, end - 1))))
