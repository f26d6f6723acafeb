"""The generated brokerage: deterministic for a seed, and as untidy as real data."""

from __future__ import annotations

import doctest
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from connector.simulator import SimulatedData, data, formats, generate_brokerage
from connector.simulator.data import RawBody

TODAY = date(2026, 3, 5)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
AGENT_ROLES = ("LISTING_AGENT", "BUYING_AGENT", "TENANT_AGENT")


def body(value: Any) -> Any:
    """A served body as JSON, whether stored raw or as an object."""
    return json.loads(value.content) if isinstance(value, RawBody) else value


def dump(generated: SimulatedData) -> str:
    """Everything a brokerage serves, as one JSON text."""
    loops = {
        profile_id: [
            [entry.summary(), entry.detail(), entry.participants()]
            for entry in listing.entries
        ]
        for profile_id, listing in generated.listings.items()
    }
    served = [body(generated.account), body(generated.profiles), loops]
    return json.dumps(served, sort_keys=True)


@pytest.fixture(scope="module")
def brokerage() -> SimulatedData:
    return generate_brokerage(2000, seed=11, today=TODAY)


@pytest.fixture(scope="module")
def loops(brokerage: SimulatedData) -> list[dict[str, Any]]:
    """Every loop of the company profile with its details and participants."""
    profiles = body(brokerage.profiles)["data"]
    (company,) = [p["id"] for p in profiles if p["type"] == "COMPANY"]
    return [
        {
            **entry.summary(),
            "details": entry.details_object(),
            "participants": body(entry.participants())["data"],
        }
        for entry in brokerage.listings[company].entries
    ]


def test_same_seed_gives_the_same_brokerage() -> None:
    first = generate_brokerage(300, seed=3, today=TODAY)
    second = generate_brokerage(300, seed=3, today=TODAY)

    assert dump(first) == dump(second)


def test_other_seed_gives_another_brokerage() -> None:
    first = generate_brokerage(300, seed=3, today=TODAY)
    other = generate_brokerage(300, seed=4, today=TODAY)

    assert dump(first) != dump(other)


def test_loops_span_three_years_up_to_today() -> None:
    today = datetime.now(UTC).date()
    generated = generate_brokerage(500, seed=8)
    entries = next(iter(generated.listings.values())).entries
    start = datetime(today.year, today.month, today.day, tzinfo=UTC)

    created = [entry.created or 0 for entry in entries]
    updated = [entry.updated or 0 for entry in entries]

    assert max(updated) < start.timestamp()
    assert max(created) > (start - timedelta(days=30)).timestamp()
    assert min(created) >= (start - timedelta(days=3 * 365)).timestamp()
    assert min(created) < (start - timedelta(days=2 * 365)).timestamp()


def test_profiles_follow_a_brokerage_shape(brokerage: SimulatedData) -> None:
    profiles = body(brokerage.profiles)["data"]
    kinds = Counter(profile["type"] for profile in profiles)
    sizes = {p["id"]: len(brokerage.listings[p["id"]]) for p in profiles}

    assert kinds["COMPANY"] == 1
    assert 2 <= kinds["OFFICE"] <= 4
    assert kinds["INDIVIDUAL"] >= 2
    assert sum(profile["deactivated"] for profile in profiles) == 1
    assert sum(profile["default"] for profile in profiles) <= 1
    company = next(p["id"] for p in profiles if p["type"] == "COMPANY")
    assert sizes[company] == 2000
    offices = [p["id"] for p in profiles if p["type"] == "OFFICE"]
    assert sum(sizes[office] for office in offices) == 2000


def test_about_forty_agents_for_two_thousand_loops(loops: list[dict[str, Any]]) -> None:
    agents = {
        person["email"].casefold()
        for loop in loops
        for person in loop["participants"]
        if person["role"] in AGENT_ROLES and ".example.com" in person["email"]
    }

    assert 30 <= len(agents) <= 50


def test_types_and_statuses_are_spread_realistically(
    loops: list[dict[str, Any]],
) -> None:
    types = Counter(loop["transactionType"] for loop in loops)
    cutoff = datetime(2025, 3, 5, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = Counter(loop["status"] for loop in loops if loop["created"] < cutoff)
    recent = [loop for loop in loops if loop["created"] >= "2026-02-05"]

    assert len(types) == 6
    assert types["PURCHASE_OFFER"] + types["LISTING_FOR_SALE"] > 0.7 * len(loops)
    finished = old["SOLD"] + old["LEASED"] + old["ARCHIVED"] + old["DONE"]
    assert finished > 0.9 * old.total()
    assert old["SOLD"] > old["ARCHIVED"]
    open_statuses = {"UNDER_CONTRACT", "ACTIVE_LISTING", "PRE_OFFER", "PRE_LISTING"}
    assert sum(loop["status"] in open_statuses for loop in recent) > len(recent) / 2


def test_summaries_look_like_the_api(loops: list[dict[str, Any]]) -> None:
    for loop in loops:
        assert TIMESTAMP.match(loop["created"])
        assert TIMESTAMP.match(loop["updated"])
        assert loop["created"] <= loop["updated"]
        assert loop["loopUrl"].endswith(f"viewId={loop['id']}")
    without_profile = sum("profileId" not in loop for loop in loops)
    assert 0 < without_profile < len(loops) / 3


def test_details_hold_free_typed_strings(loops: list[dict[str, Any]]) -> None:
    values: dict[str, list[str]] = defaultdict(list)
    for loop in loops:
        for section in loop["details"].values():
            for label, value in section.items():
                assert isinstance(value, str)
                values[label].append(value)

    prices = values["Purchase/Sale Price"]
    assert any(p.startswith("$") for p in prices)
    assert any("," in p and not p.startswith("$") for p in prices)
    assert any(p in ("", "n/a", "N/A", "0") for p in prices)
    rates = values["Sale Commission Rate"]
    assert any(r.endswith("%") for r in rates) and any(r.isdigit() for r in rates)
    closings = values["Closing Date"]
    assert any(re.fullmatch(r"\d\d/\d\d/\d{4}", c) for c in closings)
    assert any(re.fullmatch(r"[A-Z][a-z]+ \d\d, \d{4}", c) for c in closings)
    for label in (
        "Sale Commission Total",
        "Sale Commission Split $ - Buy Side",
        "Earnest Money Amount",
        "Rent",
        "Rent Commission Amount",
        "Listing Date",
        "Original Price",
        "Referral %",
        "Referral Source",
    ):
        assert values[label], label


def test_sections_and_fields_are_sometimes_missing(
    loops: list[dict[str, Any]],
) -> None:
    sales = [loop for loop in loops if loop["transactionType"] == "LISTING_FOR_SALE"]
    sold = [loop for loop in sales if loop["status"] == "SOLD"]

    assert any("Financials" not in loop["details"] for loop in sales)
    assert any("Property Address" not in loop["details"] for loop in loops)
    assert any(
        "Closing Date" not in loop["details"].get("Contract Dates", {}) for loop in sold
    )


def test_agent_mixes_co_agents_and_dual_agency(loops: list[dict[str, Any]]) -> None:
    def agents(loop: dict[str, Any], role: str) -> list[dict[str, Any]]:
        return [
            person
            for person in loop["participants"]
            if person["role"] == role and ".example.com" in person["email"].lower()
        ]

    co_listed = [loop for loop in loops if len(agents(loop, "LISTING_AGENT")) == 2]
    dual = [
        loop
        for loop in loops
        if agents(loop, "LISTING_AGENT") and agents(loop, "BUYING_AGENT")
    ]
    splits = (
        "Sale Commission Split % - Buy Side",
        "Sale Commission Split % - Sell Side",
    )

    assert co_listed
    assert dual
    assert all(
        all(key in loop["details"].get("Financials", {}) for key in splits)
        for loop in dual
        if "Financials" in loop["details"]
    )


def test_roles_casing_and_extras_vary(loops: list[dict[str, Any]]) -> None:
    roles = Counter(p["role"] for loop in loops for p in loop["participants"])
    spellings: dict[str, set[str]] = defaultdict(set)
    extra_keys = set()
    for loop in loops:
        for person in loop["participants"]:
            extra_keys.update(set(person) - {"id", "fullName", "email", "role"})
            if person["role"] in AGENT_ROLES and person.get("email"):
                spellings[person["email"].casefold()].add(person["email"])

    expected = {
        "BUYER",
        "SELLER",
        "ESCROW_TITLE_REP",
        "LOAN_OFFICER",
        "MANAGING_BROKER",
    }
    assert expected | set(AGENT_ROLES) <= set(roles)
    assert any(len(forms) > 1 for forms in spellings.values())
    assert {"Phone", "phone", "PHONE"} <= extra_keys


def test_participants_hold_one_role_per_person(loops: list[dict[str, Any]]) -> None:
    for loop in loops:
        people = [person["id"] for person in loop["participants"]]
        assert len(people) == len(set(people))


def test_negative_loop_count_is_refused() -> None:
    with pytest.raises(ValueError, match="loops"):
        generate_brokerage(-1)


@pytest.mark.parametrize("module", [data, formats], ids=lambda m: m.__name__)
def test_examples_in_docstrings(module: ModuleType) -> None:
    result = doctest.testmod(module)

    assert result.attempted > 0
    assert result.failed == 0
