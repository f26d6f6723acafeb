"""A brokerage of N generated loops, written straight into the raw tables.

Shaped like the API's payloads and a real brokerage's mix: sales and leases,
four years of closings growing year on year, deals under contract closing in
the coming months, co-agents, cooperating agents of other brokerages on the
far side (both splits filled, so only the roster keeps their side out),
referrals, free-typed values in several spellings and a few unreadable ones.
Every loop is linked to the company profile and to its office's profile.
The roster, offices, teams and plans go to the config tables.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from psycopg import sql

from sync.brokerage import Brokerage, Office, Plan, RosterAgent, Team
from sync.settings import Settings

COMPANY_PROFILE = 99
OFFICE_PROFILES = (100, 101, 102, 103, 104)
TYPES = [
    "PURCHASE_OFFER",
    "LISTING_FOR_SALE",
    "LEASE_OFFER",
    "LISTING_FOR_LEASE",
    "OTHER",
]
TYPE_WEIGHTS = [45, 40, 7, 5, 3]
PRICES = ["${:,}.00", "{:,}", "{}", "$ {:,}"]
RATES = ["3%", "3", "0.03", "2.5 %", "2.5%"]
DATES = ["%m/%d/%Y", "%Y-%m-%d", "%B %d, %Y"]
PLANS = (
    Plan("Standard 70/30", Decimal(70), Decimal(395), Decimal(18000)),
    Plan("Senior 80/20", Decimal(80), Decimal(250), Decimal(12000)),
    Plan("Rookie 60/40", Decimal(60), Decimal(150)),
    Plan("Flat Fee 100", Decimal(100), Decimal(495)),
)


def roster(agents: int, seed: int = 7) -> Brokerage:
    """Offices per profile, a team per ten agents for most, plans, anniversaries."""
    rng = random.Random(seed)
    offices = tuple(
        Office(f"Office {index + 1}", (pid,))
        for index, pid in enumerate(OFFICE_PROFILES)
    )
    teams = tuple(
        Team(f"Team {number}", offices[number % len(offices)].name)
        for number in range(agents // 10)
    )
    people = []
    for number in range(agents):
        office = offices[number % len(offices)].name
        team = teams[number // 10].name if teams and number % 10 < 6 else None
        plan = rng.choice(PLANS).name if rng.random() < 0.85 else None
        anniversary = date(rng.randrange(2010, 2024), rng.randrange(1, 13), 1)
        people.append(
            RosterAgent(agent_email(number), None, team, office, plan, anniversary)
        )
    return Brokerage(offices, teams, PLANS, tuple(people))


def agent_email(number: int) -> str:
    return f"agent{number}@brokerage.example"


def copy_loops(conn: Any, settings: Settings, loops: int, agents: int) -> None:
    """COPY the loops, their participants and profile links into raw."""
    rng = random.Random(7)
    loop_copy = sql.SQL(
        "COPY {} (loop_id, summary, details, participants, loop_updated, "
        "first_seen_at, fetched_at) FROM STDIN"
    ).format(sql.Identifier(settings.raw_schema, "loop"))
    link_copy = sql.SQL(
        "COPY {} (loop_id, profile_id, first_seen_at, last_seen_at) FROM STDIN"
    ).format(sql.Identifier(settings.raw_schema, "loop_profile"))
    seen = "2020-01-01T00:00:00Z"
    offices: list[int] = []
    with conn.cursor() as cursor:
        with cursor.copy(loop_copy) as copy:
            for loop_id, profile, *payloads in generate(rng, loops, agents):
                offices.append(profile)
                copy.write_row((loop_id, *payloads, None, seen, seen))
        with cursor.copy(link_copy) as copy:
            for loop_id, profile in enumerate(offices, start=1):
                copy.write_row((loop_id, COMPANY_PROFILE, seen, seen))
                copy.write_row((loop_id, profile, seen, seen))


def generate(
    rng: random.Random, loops: int, agents: int
) -> Iterator[tuple[int, int, str, str, str]]:
    """(loop_id, office profile, summary, details, participants) as JSON text."""
    today = date.today()
    for loop_id in range(1, loops + 1):
        kind = rng.choices(TYPES, TYPE_WEIGHTS)[0]
        agent = rng.randrange(agents)
        profile = OFFICE_PROFILES[agent % len(OFFICE_PROFILES)]
        # More recent years hold more deals; some close in the months ahead.
        closing = today - timedelta(days=int(1460 * rng.random() ** 1.3) - 120)
        status = _status(rng, kind, closing > today)
        summary = {
            "id": loop_id,
            "name": f"{rng.randrange(1, 9999)} Main St, Springfield",
            "transactionType": kind,
            "status": status,
            "created": f"{closing.year - 1}-06-01T00:00:00Z",
            "updated": f"{min(closing, today).isoformat()}T12:00:00Z",
            "loopUrl": f"https://www.dotloop.com/loop/{loop_id}/view",
        }
        if rng.random() < 0.9:
            summary["profileId"] = profile
        outside = kind in ("PURCHASE_OFFER", "LISTING_FOR_SALE") and rng.random() < 0.3
        details = _details(rng, kind, closing, outside)
        people = _participants(rng, kind, agent, agents, outside)
        yield (
            loop_id,
            profile,
            json.dumps(summary),
            json.dumps(details),
            json.dumps(people),
        )


def _status(rng: random.Random, kind: str, future: bool) -> str:
    lease = "LEASE" in kind
    if kind == "OTHER":
        return "DONE"
    if future:
        return rng.choice(["UNDER_CONTRACT"] * 4 + ["ACTIVE_LISTING", "PRE_OFFER"])
    closed = "LEASED" if lease else "SOLD"
    # A few past deals still wait under contract (a closing that slipped).
    return rng.choices([closed, "ARCHIVED", "UNDER_CONTRACT"], [85, 12, 3])[0]


def _details(
    rng: random.Random, kind: str, closing: date, outside: bool
) -> dict[str, Any]:
    price = rng.randrange(150, 2000) * 1000
    if "LEASE" in kind:
        rent = rng.randrange(12, 60) * 100
        financials = {
            "Rent": f"${rent:,}",
            "Rent Commission Amount": f"{rent:,}.00",
        }
    else:
        financials = {
            "Purchase/Sale Price": rng.choice(PRICES).format(price),
            "Sale Commission Rate": rng.choice(RATES),
        }
        if outside or rng.random() < 0.1:
            financials["Sale Commission Split % - Buy Side"] = "50"
            financials["Sale Commission Split % - Sell Side"] = rng.choice(
                ["50", "50 %"]
            )
        if rng.random() < 0.01:
            financials["Purchase/Sale Price"] = rng.choice(["TBD", "about 450k"])
    contract = closing - timedelta(days=rng.randrange(25, 60))
    dates = {
        "Contract Agreement Date": contract.isoformat(),
        "Closing Date": closing.strftime(rng.choice(DATES)),
    }
    if rng.random() < 0.01:
        dates["Closing Date"] = rng.choice(["", "TBD", "02/30/2025"])
    details: dict[str, Any] = {
        "Property Address": {"City": "Springfield", "State/Prov": "IL"},
        "Financials": financials,
        "Contract Dates": dates,
    }
    if kind.startswith("LISTING"):
        listed = contract - timedelta(days=rng.randrange(5, 150))
        details["Listing Information"] = {"Listing Date": listed.strftime("%m/%d/%Y")}
    if rng.random() < 0.08:
        details["Referral"] = {"Referral %": rng.choice(["25%", "25", "0.3"])}
    return details


def _participants(
    rng: random.Random, kind: str, agent: int, agents: int, outside: bool
) -> list[dict[str, Any]]:
    ours, theirs = "LISTING_AGENT", "BUYING_AGENT"
    if kind in ("PURCHASE_OFFER", "LEASE_OFFER"):
        ours, theirs = theirs, ours
    people = [
        {"id": 1, "fullName": "Client Person", "role": "BUYER"},
        _agent(agent, ours, 2),
    ]
    if rng.random() < 0.08:
        people.append(_agent(rng.randrange(agents), ours, 3))
    if outside:
        people.append(
            {
                "id": 4,
                "fullName": "Coop Agent",
                "email": f"coop{rng.randrange(5000)}@elsewhere.example",
                "role": theirs,
            }
        )
    elif rng.random() < 0.05:
        # Both sides in-house: dual agency that counts twice.
        people.append(_agent(rng.randrange(agents), theirs, 4))
    if rng.random() < 0.02:
        people.append({"id": 5, "fullName": "No Email", "role": ours})
    return people


def _agent(number: int, role: str, pid: int) -> dict[str, Any]:
    return {
        "id": pid,
        "fullName": f"Agent {number}",
        "email": agent_email(number).upper() if pid == 3 else agent_email(number),
        "role": role,
    }
