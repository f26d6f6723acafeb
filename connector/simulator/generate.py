"""A seeded brokerage: offices, agents, profiles and three years of loops."""

from __future__ import annotations

import bisect
import itertools
import logging
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime

from . import names
from .brokerage import Agent, Brokerage, GeneratedLoop, Office
from .data import JsonObject, LoopListing, SimulatedData, envelope_item, envelope_list
from .timeline import plan_timeline
from .traits import LoopFlag

logger = logging.getLogger(__name__)

TRANSACTION_TYPES = (
    "PURCHASE_OFFER",
    "LISTING_FOR_SALE",
    "LISTING_FOR_LEASE",
    "LEASE_OFFER",
    "REAL_ESTATE_OTHER",
    "OTHER",
)
TRANSACTION_WEIGHTS = (42, 38, 6, 7, 4, 3)
LOOPS_PER_AGENT = 50
YEARS = 3


@dataclass(frozen=True)
class _Profile:
    profile_id: int
    name: str
    kind: str
    office: int | None = None
    agent: int | None = None
    deactivated: bool = False


def generate_brokerage(
    loops: int = 2000, seed: int = 1, *, today: date | None = None
) -> SimulatedData:
    """A brokerage with `loops` loops over the three years ending `today`.

    The same seed and day always give the same brokerage; `today` defaults
    to the current UTC date.
    """
    if loops < 0:
        raise ValueError("loops must not be negative")
    today = today or datetime.now(UTC).date()
    rng = random.Random(seed)
    brokerage = _brokerage(rng, seed, loops)
    plans = _plan_loops(rng, brokerage, loops, today)
    profiles = _profiles(rng, brokerage)
    default = _default_profile(rng, profiles)
    logger.info(
        "generated brokerage seed=%d: %d loops, %d agents, %d profiles",
        seed,
        len(plans),
        len(brokerage.agents),
        len(profiles),
    )
    return SimulatedData(
        account=envelope_item(_account(brokerage, default)),
        profiles=envelope_list(
            _profile_json(rng, brokerage, profile, profile.profile_id == default)
            for profile in profiles
        ),
        listings=_listings(profiles, plans),
    )


def _brokerage(rng: random.Random, seed: int, loops: int) -> Brokerage:
    name = rng.choice(names.BROKERAGES)
    domain = name.lower().replace(" ", "").replace("&", "") + ".example.com"
    first_id = rng.randrange(1_000_000, 9_000_000)
    office_names = rng.sample(names.OFFICE_NAMES, rng.randint(2, 4))
    taken: set[str] = set()
    offices = tuple(
        Office(label, first_id + 1 + index, _person(rng, domain, index, taken))
        for index, label in enumerate(office_names)
    )
    agent_count = max(6, round(loops / LOOPS_PER_AGENT))
    agents = tuple(
        _person(rng, domain, rng.randrange(len(offices)), taken)
        for _ in range(agent_count)
    )
    return Brokerage(seed, name, domain, agents, offices)


def _person(rng: random.Random, domain: str, office: int, taken: set[str]) -> Agent:
    first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
    local = f"{first}.{last}".lower().replace("'", "")
    for suffix in itertools.count(2):
        if local not in taken:
            break
        local = f"{first}.{last}{suffix}".lower().replace("'", "")
    taken.add(local)
    phone = f"({rng.randrange(200, 999)}) 555-{rng.randrange(10000):04d}"
    return Agent(first, last, f"{local}@{domain}", phone, office)


def _plan_loops(
    rng: random.Random, brokerage: Brokerage, count: int, today: date
) -> list[GeneratedLoop]:
    end = datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp()
    span = YEARS * 365 * 86400.0
    # Business grows: more loops are recent than old.
    offsets = sorted(rng.random() ** 0.8 for _ in range(count))
    weights = list(
        itertools.accumulate(rng.paretovariate(1.4) for _ in brokerage.agents)
    )
    by_office = _agents_by_office(brokerage)
    first_id = rng.randrange(200_000_000, 400_000_000)
    return [
        _plan_loop(
            rng,
            brokerage,
            loop_id=first_id + index * 3 + rng.randrange(3),
            created=float(int(end - span + offset * span)),
            end=end,
            agent=bisect.bisect(weights, rng.random() * weights[-1]),
            by_office=by_office,
        )
        for index, offset in enumerate(offsets)
    ]


def _agents_by_office(brokerage: Brokerage) -> list[list[int]]:
    by_office: list[list[int]] = [[] for _ in brokerage.offices]
    for index, agent in enumerate(brokerage.agents):
        by_office[agent.office].append(index)
    return by_office


def _plan_loop(
    rng: random.Random,
    brokerage: Brokerage,
    *,
    loop_id: int,
    created: float,
    end: float,
    agent: int,
    by_office: list[list[int]],
) -> GeneratedLoop:
    transaction_type = rng.choices(TRANSACTION_TYPES, TRANSACTION_WEIGHTS)[0]
    office = brokerage.agents[agent].office
    team = _team(rng, agent, by_office[office])
    listing, buying, flags = _sides(rng, transaction_type, team, len(brokerage.agents))
    timeline = plan_timeline(rng, transaction_type, created, end)
    if timeline.contract_shown:
        flags |= LoopFlag.CONTRACT_SHOWN
        if rng.random() < 0.03:
            flags |= LoopFlag.NO_CLOSING_DATE
    if rng.random() < 0.15:
        flags |= LoopFlag.NO_PROFILE_ID
    return GeneratedLoop(
        brokerage,
        loop_id,
        transaction_type,
        timeline.status,
        created,
        timeline.updated,
        office=office,
        listing_agents=listing,
        buying_agents=buying,
        price=_price(rng, transaction_type),
        days=timeline.days,
        flags=flags,
    )


def _team(rng: random.Random, agent: int, colleagues: list[int]) -> tuple[int, ...]:
    # Some loops have a co-agent from the same office on the same side.
    if len(colleagues) > 1 and rng.random() < 0.08:
        partner = rng.choice(colleagues)
        while partner == agent:
            partner = rng.choice(colleagues)
        return (agent, partner)
    return (agent,)


def _sides(
    rng: random.Random, transaction_type: str, team: tuple[int, ...], agents: int
) -> tuple[tuple[int, ...], tuple[int, ...], LoopFlag]:
    listing_side = transaction_type.startswith("LISTING") or (
        transaction_type in ("REAL_ESTATE_OTHER", "OTHER") and rng.random() < 0.5
    )
    flags = LoopFlag.NONE
    other: tuple[int, ...] = ()
    if transaction_type in ("PURCHASE_OFFER", "LISTING_FOR_SALE"):
        if rng.random() < 0.05 and agents > len(team):
            other = (_outsider(rng, team, agents),)
            flags |= LoopFlag.DUAL
        elif rng.random() < 0.015:
            flags |= LoopFlag.REFERRAL_ONLY
    return (team, other, flags) if listing_side else (other, team, flags)


def _outsider(rng: random.Random, team: tuple[int, ...], agents: int) -> int:
    while True:
        agent = rng.randrange(agents)
        if agent not in team:
            return agent


def _price(rng: random.Random, transaction_type: str) -> int:
    if transaction_type in ("LISTING_FOR_LEASE", "LEASE_OFFER"):
        return int(round(rng.uniform(1100, 5200), -1))
    if transaction_type in ("REAL_ESTATE_OTHER", "OTHER"):
        return 0
    return max(60_000, int(round(rng.lognormvariate(13.0, 0.45), -3)))


def _profiles(rng: random.Random, brokerage: Brokerage) -> list[_Profile]:
    company_id = brokerage.offices[0].profile_id - 1
    profiles = [_Profile(company_id, brokerage.name, "COMPANY")]
    for index, office in enumerate(brokerage.offices):
        label = f"{brokerage.name} - {office.name}"
        profiles.append(_Profile(office.profile_id, label, "OFFICE", office=index))
    chosen = rng.sample(range(len(brokerage.agents)), min(len(brokerage.agents), 4))
    first_id = company_id + 100
    for position, agent in enumerate(chosen):
        profiles.append(
            _Profile(
                first_id + position,
                brokerage.agents[agent].full_name,
                "INDIVIDUAL",
                agent=agent,
                deactivated=position == len(chosen) - 1,
            )
        )
    return profiles


def _default_profile(rng: random.Random, profiles: list[_Profile]) -> int | None:
    # Dotloop users may have no default profile at all.
    if rng.random() < 0.5:
        return None
    return rng.choice([p.profile_id for p in profiles if not p.deactivated])


def _profile_json(
    rng: random.Random, brokerage: Brokerage, profile: _Profile, default: bool
) -> JsonObject:
    city, state, _, zip_prefix = rng.choice(names.TOWNS)
    return {
        "id": profile.profile_id,
        "name": profile.name,
        "type": profile.kind,
        "company": brokerage.name,
        "phone": f"({rng.randrange(200, 999)}) 555-{rng.randrange(10000):04d}",
        "address": f"{rng.randrange(10, 999)} {rng.choice(names.STREET_NAMES)}",
        "city": city,
        "state": state,
        "zipCode": f"{zip_prefix}{rng.randrange(100):02d}",
        "default": default,
        "requiresTemplate": rng.random() < 0.3,
        "deactivated": profile.deactivated,
    }


def _account(brokerage: Brokerage, default: int | None) -> JsonObject:
    owner = brokerage.offices[0].broker
    account: JsonObject = {
        "id": brokerage.offices[0].profile_id * 7 % 10_000_000,
        "email": owner.email,
        "firstName": owner.first_name,
        "lastName": owner.last_name,
    }
    if default is not None:
        account["defaultProfileId"] = default
    return account


def _listings(
    profiles: list[_Profile], plans: list[GeneratedLoop]
) -> dict[int, LoopListing]:
    return {
        profile.profile_id: LoopListing(
            [plan for plan in plans if _sees(profile, plan)]
        )
        for profile in profiles
    }


def _sees(profile: _Profile, plan: GeneratedLoop) -> bool:
    if profile.office is not None:
        return plan.office == profile.office
    if profile.agent is not None:
        return (
            profile.agent in plan.listing_agents or profile.agent in plan.buying_agents
        )
    return True
