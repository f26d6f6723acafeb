"""`plan`: what a backfill and a nightly run will cost, before spending them.

A plan spends the profile list plus at most two requests a profile: a listing
page of size 1 (its meta.total is how many loops the profile sees) and, when
there are loops, the same filtered to the last day and the overlap hour
(how many change between nightly runs). A run costs one list page per 100
loops of each profile plus one participant request per distinct loop that is
new or changed; a loop seen through several profiles is fetched once, so the
distinct loops are those of the company profile when there is one, else of
the offices, else of every profile (an upper bound).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connector import DotloopClient, InvalidResponseError

from .engine import WATERMARK_OVERLAP
from .listing import BATCH_SIZE, SORT, format_moment
from .settings import Settings

logger = logging.getLogger(__name__)

NIGHTLY_WINDOW = timedelta(days=1) + WATERMARK_OVERLAP


@dataclass(frozen=True)
class ProfilePlan:
    """One profile: how many loops it sees and how many changed in a day."""

    profile_id: int
    name: str
    kind: str
    loops: int | None
    changed: int | None

    @property
    def known(self) -> bool:
        return self.loops is not None


@dataclass(frozen=True)
class Estimate:
    """Requests a run needs and the hours they take at the budget."""

    pages: int
    loops: int
    requests: int
    hours: float


@dataclass(frozen=True)
class Plan:
    """The cost of a backfill and of a nightly run for the connected account."""

    requests_per_minute: int
    profiles: tuple[ProfilePlan, ...]
    backfill: Estimate
    nightly: Estimate
    requests_spent: int

    def render(self) -> str:
        """The plan as lines of text for a terminal."""
        lines = [
            f"Sync plan at {self.requests_per_minute} requests a minute "
            f"({self.requests_spent} requests spent to make it)",
            "",
            f"{'profile':>12}  {'type':<11} {'loops':>9} {'changed/day':>12}  name",
        ]
        for profile in self.profiles:
            lines.append(
                f"{profile.profile_id:>12}  {profile.kind:<11} "
                f"{_count(profile.loops):>9} {_count(profile.changed):>12}  "
                f"{profile.name}"
            )
        lines += ["", _line("backfill", self.backfill), _line("nightly", self.nightly)]
        unknown = [str(p.profile_id) for p in self.profiles if not p.known]
        if unknown:
            lines.append(
                "profiles " + ", ".join(unknown) + " gave no totals and are left out"
            )
        return "\n".join(lines)


def plan_sync(
    settings: Settings, client: DotloopClient, *, now: datetime | None = None
) -> Plan:
    """Ask Dotloop how big each profile is and estimate both kinds of run."""
    spent_before = client.stats.requests
    since = (now or datetime.now(UTC)) - NIGHTLY_WINDOW
    profiles = tuple(
        _profile_plan(client, profile, since) for profile in _profiles(settings, client)
    )
    rate = settings.dotloop.requests_per_minute
    return Plan(
        requests_per_minute=rate,
        profiles=profiles,
        backfill=_estimate(profiles, [p.loops for p in profiles], rate),
        nightly=_estimate(profiles, [p.changed for p in profiles], rate),
        requests_spent=client.stats.requests - spent_before,
    )


def _profiles(settings: Settings, client: DotloopClient) -> list[dict[str, object]]:
    listed = client.profiles()
    wanted = set(settings.dotloop.profile_ids)
    if wanted:
        return [p for p in listed if p.get("id") in wanted]
    return [p for p in listed if not p.get("deactivated")]


def _profile_plan(
    client: DotloopClient, profile: dict[str, object], since: datetime
) -> ProfilePlan:
    profile_id = int(str(profile.get("id")))
    loops = _total(client, profile_id, {})
    changed = None
    if loops == 0:
        changed = 0
    elif loops is not None:
        changed = _total(client, profile_id, {"updated_min": format_moment(since)})
    return ProfilePlan(
        profile_id=profile_id,
        name=str(profile.get("name", "")),
        kind=str(profile.get("type", "")),
        loops=loops,
        changed=changed,
    )


def _total(
    client: DotloopClient, profile_id: int, filters: dict[str, str]
) -> int | None:
    """meta.total of a listing, from one page of size 1; None when not given."""
    pages = client.iter_loop_pages(
        profile_id, batch_size=1, sort=SORT, filters=filters, include_details=False
    )
    try:
        page = next(pages, None)
    except InvalidResponseError as exc:
        logger.warning("profile %d listing could not be sized: %s", profile_id, exc)
        return None
    if page is None or page.total is None or page.total < 0:
        return None
    return page.total


def _estimate(
    profiles: tuple[ProfilePlan, ...], loops: list[int | None], rate: int
) -> Estimate:
    """Pages of every profile, participants of the distinct loops, profile list."""
    known = [(p, n) for p, n in zip(profiles, loops, strict=True) if n is not None]
    pages = sum(n // BATCH_SIZE + 1 for _, n in known)
    distinct = _distinct(known)
    requests = 1 + pages + distinct
    return Estimate(pages, distinct, requests, requests / rate / 60.0)


def _distinct(known: list[tuple[ProfilePlan, int]]) -> int:
    for kinds in (("COMPANY",), ("OFFICE",)):
        sizes = [n for p, n in known if p.kind in kinds]
        if sizes:
            return max(sizes) if kinds == ("COMPANY",) else sum(sizes)
    return sum(n for _, n in known)


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _line(label: str, estimate: Estimate) -> str:
    return (
        f"{label + ':':<10} {estimate.requests:,} requests ({estimate.pages:,} list "
        f"pages, {estimate.loops:,} participant lists), about "
        f"{_hours(estimate.hours)}"
    )


def _hours(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} minutes"
    return f"{hours:.1f} hours"
