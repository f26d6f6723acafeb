"""Profiles and loops served by the simulator: paging, sorting, filtering, details."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from connector.simulator import Simulator, SimulatorConfig, generate_brokerage
from connector.simulator.data import parse_loose_date

LOOPS = 250


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    config = SimulatorConfig(rate_limit_per_minute=100_000)
    with Simulator(generate_brokerage(LOOPS, seed=5), config) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def api(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        token = http.post(
            f"{sim.auth_url}/token",
            data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
            auth=("sim-client", "sim-secret"),
        ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=sim.base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def profiles(api: httpx.Client) -> list[dict[str, Any]]:
    body = api.get("/profile").json()
    assert body["meta"]["total"] == len(body["data"])
    return list(body["data"])


@pytest.fixture(scope="module")
def company(profiles: list[dict[str, Any]]) -> int:
    (company,) = [p["id"] for p in profiles if p["type"] == "COMPANY"]
    return int(company)


def all_loops(api: httpx.Client, profile_id: int, **params: str) -> list[Any]:
    """Every loop of a profile, paging the way a client must."""
    items: list[Any] = []
    for batch in range(1, 100):
        page = api.get(
            f"/profile/{profile_id}/loop",
            params={"batch_size": "100", "batch_number": str(batch), **params},
        )
        assert page.status_code == 200, page.text
        items.extend(page.json()["data"])
        if len(page.json()["data"]) < 100:
            return items
    raise AssertionError("paging never ended")


def test_account_and_profiles(
    api: httpx.Client, profiles: list[dict[str, Any]]
) -> None:
    account = api.get("/account").json()["data"]
    kinds = [profile["type"] for profile in profiles]

    assert {"id", "email", "firstName", "lastName"} <= set(account)
    assert kinds.count("COMPANY") == 1
    assert 2 <= kinds.count("OFFICE") <= 4
    assert kinds.count("INDIVIDUAL") >= 2
    assert sum(profile["deactivated"] for profile in profiles) == 1
    assert sum(profile["default"] for profile in profiles) <= 1


def test_pages_end_with_a_short_page(api: httpx.Client, company: int) -> None:
    sizes = []
    for batch in (1, 2, 3, 4):
        page = api.get(
            f"/profile/{company}/loop",
            params={"batch_size": 100, "batch_number": batch},
        ).json()
        assert page["meta"]["total"] == LOOPS
        sizes.append(len(page["data"]))

    assert sizes == [100, 100, 50, 0]


def test_paging_returns_every_loop_once(api: httpx.Client, company: int) -> None:
    ids = [item["id"] for item in all_loops(api, company)]

    assert len(ids) == LOOPS
    assert len(set(ids)) == LOOPS


def test_batch_size_defaults_to_twenty(api: httpx.Client, company: int) -> None:
    page = api.get(f"/profile/{company}/loop").json()

    assert len(page["data"]) == 20


@pytest.mark.parametrize(
    "params",
    [
        {"batch_size": "101"},
        {"batch_size": "0"},
        {"batch_size": "ten"},
        {"batch_number": "0"},
        {"sort": "name:asc"},
        {"sort": "updated:sideways"},
        {"filter": "color=red"},
        {"filter": "updated_min"},
        {"filter": "updated_min=yesterday"},
        {"include_details": "yes"},
    ],
)
def test_bad_list_parameters_are_refused(
    api: httpx.Client, company: int, params: dict[str, str]
) -> None:
    response = api.get(f"/profile/{company}/loop", params=params)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def _closing(item: dict[str, Any]) -> date | None:
    dates = item.get("details", {}).get("Contract Dates", {})
    return parse_loose_date(dates.get("Closing Date"))


SORT_VALUES = {
    "updated": lambda item: item["updated"],
    "created": lambda item: item["created"],
    "closing_date": _closing,
}


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("key", sorted(SORT_VALUES))
def test_sort_orders_loops(
    api: httpx.Client, company: int, key: str, direction: str
) -> None:
    items = all_loops(api, company, sort=f"{key}:{direction}", include_details="true")
    values = [SORT_VALUES[key](item) for item in items]
    present = [value for value in values if value is not None]

    assert present == sorted(present, reverse=direction == "desc")
    assert values[: len(present)] == present  # loops without a value come last
    assert len(set(present)) > 10


def test_default_sort_is_newest_update_first(api: httpx.Client, company: int) -> None:
    updated = [item["updated"] for item in all_loops(api, company)]

    assert updated == sorted(updated, reverse=True)


@pytest.mark.parametrize(
    ("filter_text", "accepts"),
    [
        (
            "transaction_type=PURCHASE_OFFER|LEASE_OFFER",
            lambda item: item["transactionType"] in ("PURCHASE_OFFER", "LEASE_OFFER"),
        ),
        ("transaction_status=SOLD", lambda item: item["status"] == "SOLD"),
        (
            "transaction_type=LISTING_FOR_SALE,transaction_status=SOLD|ARCHIVED",
            lambda item: (
                item["transactionType"] == "LISTING_FOR_SALE"
                and item["status"] in ("SOLD", "ARCHIVED")
            ),
        ),
        (
            "updated_min=2025-06-01T00:00:00Z",
            lambda item: item["updated"] >= "2025-06-01T00:00:00Z",
        ),
        (
            f"created_min={int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)}",
            lambda item: item["created"] >= "2025-01-01T00:00:00Z",
        ),
    ],
)
def test_filter_selects_matching_loops(
    api: httpx.Client, company: int, filter_text: str, accepts: Any
) -> None:
    everything = all_loops(api, company)
    expected = {item["id"] for item in everything if accepts(item)}

    filtered = all_loops(api, company, filter=filter_text)
    total = api.get(f"/profile/{company}/loop", params={"filter": filter_text})

    assert {item["id"] for item in filtered} == expected
    assert len(filtered) == len(expected)
    assert total.json()["meta"]["total"] == len(expected)
    assert 0 < len(expected) < LOOPS


def test_include_details_attaches_the_detail_data(
    api: httpx.Client, company: int
) -> None:
    params = {"batch_size": "5", "include_details": "true"}
    items = api.get(f"/profile/{company}/loop", params=params).json()["data"]
    plain = api.get(f"/profile/{company}/loop", params={"batch_size": "5"}).json()

    for item in items:
        detail = api.get(f"/profile/{company}/loop/{item['id']}/detail").json()
        assert item["details"] == detail["data"]
    assert [item["id"] for item in items] == [item["id"] for item in plain["data"]]
    assert all("details" not in item for item in plain["data"])


def test_single_loop_detail_and_participants(api: httpx.Client, company: int) -> None:
    listed = api.get(f"/profile/{company}/loop", params={"batch_size": "1"})
    item = listed.json()["data"][0]
    base = f"/profile/{company}/loop/{item['id']}"

    loop = api.get(base).json()
    detail = api.get(f"{base}/detail").json()
    participants = api.get(f"{base}/participant").json()

    assert loop == {"data": item}
    assert isinstance(detail["data"], dict)
    assert participants["meta"]["total"] == len(participants["data"]) > 0
    for person in participants["data"]:
        assert {"id", "fullName", "role"} <= set(person)


def test_office_profiles_split_the_company_loops(
    api: httpx.Client, profiles: list[dict[str, Any]], company: int
) -> None:
    offices = [p["id"] for p in profiles if p["type"] == "OFFICE"]
    by_office = {
        office: {i["id"] for i in all_loops(api, office)} for office in offices
    }
    every = {item["id"] for item in all_loops(api, company)}

    assert set().union(*by_office.values()) == every
    assert sum(len(ids) for ids in by_office.values()) == len(every)
    first, second = offices[:2]
    outsider = next(iter(by_office[second]))
    response = api.get(f"/profile/{first}/loop/{outsider}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/profile/1/loop",
        "/profile/1/loop/1",
        "/profile/{company}/loop/1",
        "/profile/{company}/loop/1/detail",
        "/profile/{company}/loop/1/participant",
        "/profile/{company}/contact",
        "/profile/abc/loop",
    ],
)
def test_unknown_resources_are_404(api: httpx.Client, company: int, path: str) -> None:
    response = api.get(path.format(company=company))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
