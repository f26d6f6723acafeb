"""A fixture directory of captured responses, served by the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.simulator import (
    FixtureError,
    Simulator,
    SimulatorConfig,
    load_fixtures,
)

PROFILES = [
    {"id": 10, "name": "Office", "type": "OFFICE", "default": True},
    {"id": 20, "name": "Agent", "type": "INDIVIDUAL"},
    {"id": 30, "name": "Empty", "type": "INDIVIDUAL"},
]
LOOP_A = {
    "id": 1,
    "name": "12 Oak St",
    "transactionType": "LISTING_FOR_SALE",
    "status": "SOLD",
    "created": "2025-01-05T10:00:00Z",
    "updated": "2025-03-01T10:00:00Z",
}
LOOP_B = {
    "id": 2,
    "profileId": 10,
    "name": "Smith, 4 Elm St",
    "transactionType": "PURCHASE_OFFER",
    "status": "UNDER_CONTRACT",
    "created": "2025-02-01T10:00:00Z",
    "updated": "2025-02-20T10:00:00Z",
}
NAMELESS = {"name": "an item without id", "status": "SOLD"}
DETAIL_A = {
    "data": {
        "Financials": {"Purchase/Sale Price": "$650,000"},
        "Contract Dates": {"Closing Date": "02/28/2025"},
    }
}
DETAIL_B = {"data": {"Contract Dates": {"Closing Date": "March 15, 2025"}}}
PARTICIPANTS_B = {
    "meta": {"total": 1},
    "data": [
        {"id": 5, "fullName": "Ann Lee", "email": "Ann@X.com", "role": "BUYING_AGENT"}
    ],
}


def write(path: Path, content: Any) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    path.write_bytes(raw)
    return raw


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("captured")
    # Laid out unlike the simulator's own JSON, to see it is not re-serialized.
    profiles = json.dumps(PROFILES, indent=2).encode()
    write(
        root / "profile.json", b'{"meta": {"total": 3},\n "data": ' + profiles + b"}\n"
    )
    loops_10 = {"meta": {"total": 3}, "data": [LOOP_A, NAMELESS, LOOP_B]}
    write(root / "profile/10/loop.json", loops_10)
    write(root / "profile/20/loop.json", {"meta": {"total": -1}, "data": [LOOP_B]})
    write(root / "profile/10/loop/1/detail.json", DETAIL_A)
    write(root / "profile/10/loop/1/participant.json", b"<html>oops</html>")
    write(root / "profile/10/loop/2/detail.json", DETAIL_B)
    write(root / "profile/10/loop/2/participant.json", PARTICIPANTS_B)
    return root


@pytest.fixture(scope="module")
def api(fixture_dir: Path) -> Iterator[httpx.Client]:
    data = load_fixtures(fixture_dir)
    with Simulator(data, SimulatorConfig()) as sim, httpx.Client() as http:
        token = http.post(
            f"{sim.auth_url}/token",
            data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
            auth=("sim-client", "sim-secret"),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=sim.base_url, headers=headers) as client:
            yield client


def test_profile_file_is_served_byte_for_byte(
    api: httpx.Client, fixture_dir: Path
) -> None:
    response = api.get("/profile")

    assert response.content == (fixture_dir / "profile.json").read_bytes()
    assert response.headers["content-type"] == "application/json"


def test_missing_account_file_gives_a_default_account(api: httpx.Client) -> None:
    response = api.get("/account")

    assert response.status_code == 200
    assert "id" in response.json()["data"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "created:asc"}, [1, 2, None]),
        ({"sort": "updated:desc"}, [1, 2, None]),
        ({"sort": "closing_date:asc"}, [1, 2, None]),
        ({"sort": "closing_date:desc"}, [2, 1, None]),
        ({"filter": "transaction_status=SOLD"}, [1, None]),
        ({"filter": "transaction_type=PURCHASE_OFFER"}, [2]),
        ({"filter": "updated_min=2025-02-21T00:00:00Z"}, [1]),
        ({"sort": "created:desc", "batch_size": "2"}, [2, 1]),
        ({"sort": "created:desc", "batch_size": "2", "batch_number": "2"}, [None]),
    ],
)
def test_loop_file_is_sorted_filtered_and_paged(
    api: httpx.Client, params: dict[str, str], expected: list[int | None]
) -> None:
    page = api.get("/profile/10/loop", params=params).json()

    assert [item.get("id") for item in page["data"]] == expected


def test_items_are_served_as_captured(api: httpx.Client) -> None:
    page = api.get("/profile/10/loop", params={"sort": "created:asc"}).json()

    assert page["meta"]["total"] == 3
    assert page["data"] == [LOOP_A, LOOP_B, NAMELESS]


def test_include_details_reads_detail_files_of_any_profile(api: httpx.Client) -> None:
    own = api.get("/profile/10/loop", params={"include_details": "true"}).json()
    shared = api.get("/profile/20/loop", params={"include_details": "true"}).json()

    by_id = {item.get("id"): item for item in own["data"]}
    assert by_id[1]["details"] == DETAIL_A["data"]
    assert by_id[2]["details"] == DETAIL_B["data"]
    assert "details" not in by_id[None]
    assert shared["data"] == [{**LOOP_B, "details": DETAIL_B["data"]}]


def test_a_total_of_minus_one_is_kept(api: httpx.Client) -> None:
    page = api.get("/profile/20/loop").json()

    assert page["meta"]["total"] == -1


@pytest.mark.parametrize(
    ("path", "file"),
    [
        ("/profile/10/loop/1/detail", "profile/10/loop/1/detail.json"),
        ("/profile/10/loop/1/participant", "profile/10/loop/1/participant.json"),
        ("/profile/20/loop/2/participant", "profile/10/loop/2/participant.json"),
    ],
)
def test_loop_files_are_served_byte_for_byte(
    api: httpx.Client, fixture_dir: Path, path: str, file: str
) -> None:
    response = api.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == (fixture_dir / file).read_bytes()


def test_single_loop_comes_from_the_loop_file(api: httpx.Client) -> None:
    response = api.get("/profile/20/loop/2")

    assert response.json() == {"data": LOOP_B}


@pytest.mark.parametrize(
    "path",
    [
        "/profile/40/loop",
        "/profile/10/loop/3",
        "/profile/20/loop/1",
        "/profile/30/loop/1/detail",
    ],
)
def test_unknown_profiles_and_loops_are_404(api: httpx.Client, path: str) -> None:
    assert api.get(path).status_code == 404


def test_profile_without_loop_file_has_no_loops(api: httpx.Client) -> None:
    page = api.get("/profile/30/loop").json()

    assert page == {"meta": {"total": 0}, "data": []}


def test_loop_file_that_is_not_a_list_is_served_raw(tmp_path: Path) -> None:
    raw = write(tmp_path / "profile/7/loop.json", b'{"data": [{"id": 1},')
    data = load_fixtures(tmp_path)

    with Simulator(data, SimulatorConfig()) as sim, httpx.Client() as http:
        token = http.post(
            f"{sim.auth_url}/token",
            data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
            auth=("sim-client", "sim-secret"),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        response = http.get(f"{sim.base_url}/profile/7/loop", headers=headers)
        profiles = http.get(f"{sim.base_url}/profile", headers=headers).json()

    assert response.status_code == 200
    assert response.content == raw
    assert [profile["id"] for profile in profiles["data"]] == [7]


def test_missing_fixture_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="does not exist"):
        load_fixtures(tmp_path / "absent")
