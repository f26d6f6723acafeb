"""The simulator's webhook subscription endpoints over a socket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from webhook_receiver import api_client, subscription_body

from connector.simulator import Simulator, SimulatorConfig, generate_brokerage

URL = "http://127.0.0.1:8090/webhooks/dotloop"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimulatorConfig(rate_limit_per_minute=100_000)
    with Simulator(generate_brokerage(30, seed=4), config) as simulator:
        yield simulator


@pytest.fixture
def api(sim: Simulator) -> Iterator[httpx.Client]:
    with api_client(sim) as client:
        yield client


@pytest.fixture
def profile_id(api: httpx.Client) -> int:
    return int(api.get("/profile").json()["data"][0]["id"])


def user_id(api: httpx.Client) -> int:
    return int(api.get("/account").json()["data"]["id"])


def create(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post("/subscription", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()["data"]
    return created


def test_a_subscription_is_created_read_changed_and_deleted(
    api: httpx.Client, profile_id: int
) -> None:
    created = create(api, subscription_body(URL, profile_id))

    assert created == {
        "id": created["id"],
        "targetType": "PROFILE",
        "targetId": profile_id,
        "url": URL,
        "eventTypes": ["LOOP_UPDATED", "LOOP_MERGED"],
        "enabled": True,
        "externalId": "tests",
    }
    path = f"/subscription/{created['id']}"
    assert api.get(path).json()["data"] == created
    changed = api.patch(path, json={"enabled": False, "eventTypes": ["LOOP_CREATED"]})
    assert changed.status_code == 200
    assert changed.json()["data"] == {
        **created,
        "enabled": False,
        "eventTypes": ["LOOP_CREATED"],
    }
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404


def test_the_signing_key_is_never_sent_back(api: httpx.Client, profile_id: int) -> None:
    created = create(api, subscription_body(URL, profile_id, signingKey="k-9f3c"))

    answers = [
        api.get(f"/subscription/{created['id']}"),
        api.get("/subscription"),
        api.patch(f"/subscription/{created['id']}", json={"signingKey": "k-2"}),
    ]

    assert all(a.status_code == 200 for a in answers)
    assert not any("k-9f3c" in a.text or "k-2" in a.text for a in answers)
    assert not any("signingKey" in a.text for a in answers)


def test_the_list_pages_by_cursor_and_filters_on_enabled(
    api: httpx.Client, profile_id: int
) -> None:
    ids = [create(api, subscription_body(URL, profile_id))["id"] for _ in range(45)]
    for disabled in ids[:5]:
        api.patch(f"/subscription/{disabled}", json={"enabled": False})

    pages: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    while True:
        body = api.get("/subscription", params=params).json()
        pages.append(body)
        if "nextCursor" not in body["meta"]:
            break
        params = {"next_cursor": body["meta"]["nextCursor"]}
    enabled = api.get("/subscription", params={"enabled": "true"}).json()

    assert [len(page["data"]) for page in pages] == [20, 20, 5]
    assert [s["id"] for page in pages for s in page["data"]] == ids
    assert {page["meta"]["total"] for page in pages} == {45}
    assert enabled["meta"]["total"] == 40
    assert ids[0] not in {s["id"] for s in enabled["data"]}


def test_several_subscriptions_for_one_target_and_url_are_allowed(
    api: httpx.Client, profile_id: int
) -> None:
    # Dotloop does not refuse them, so a client must not count on it.
    first = create(api, subscription_body(URL, profile_id))
    second = create(api, subscription_body(URL, profile_id))

    assert first["id"] != second["id"]
    assert api.get("/subscription").json()["meta"]["total"] == 2


def test_a_user_target_takes_contact_events(api: httpx.Client) -> None:
    body = subscription_body(
        URL, user_id(api), targetType="USER", eventTypes=["CONTACT_CREATED"]
    )

    assert create(api, body)["targetType"] == "USER"


# (what is wrong, the fields that make it so)
BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("no url", {"url": None}),
    ("url not on this machine", {"url": "https://hooks.example.com/dotloop"}),
    ("url not http", {"url": "ftp://127.0.0.1/x"}),
    ("unknown target type", {"targetType": "OFFICE"}),
    ("target id not a number", {"targetId": "first"}),
    ("profile the user lacks", {"targetId": 1}),
    ("no event types", {"eventTypes": []}),
    ("event types not a list", {"eventTypes": "LOOP_UPDATED"}),
    ("unknown event type", {"eventTypes": ["LOOP_DELETED"]}),
    ("contact event on a profile", {"eventTypes": ["CONTACT_CREATED"]}),
    ("enabled not a boolean", {"enabled": "yes"}),
    ("empty signing key", {"signingKey": ""}),
    ("external id not a string", {"externalId": 5}),
]


@pytest.mark.parametrize(("case", "fields"), BAD_BODIES)
def test_a_bad_subscription_is_refused_with_400(
    api: httpx.Client, profile_id: int, case: str, fields: dict[str, Any]
) -> None:
    merged = {**subscription_body(URL, profile_id), **fields}
    body = {key: value for key, value in merged.items() if value is not None}

    answer = api.post("/subscription", json=body)

    assert answer.status_code == 400, case
    assert answer.json()["error"] == "invalid_request"
    assert api.get("/subscription").json()["meta"]["total"] == 0


@pytest.mark.parametrize("content", [b"", b"{not json", b"[1, 2]", b'"LOOP_UPDATED"'])
def test_a_body_that_is_not_a_json_object_is_refused(
    api: httpx.Client, content: bytes
) -> None:
    answer = api.post(
        "/subscription", content=content, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 400


@pytest.mark.parametrize(
    "fields",
    [{"targetType": "USER"}, {"targetId": 1}, {"eventTypes": ["NOPE"]}, {"url": ""}],
)
def test_a_bad_change_is_refused_and_changes_nothing(
    api: httpx.Client, profile_id: int, fields: dict[str, Any]
) -> None:
    created = create(api, subscription_body(URL, profile_id))
    path = f"/subscription/{created['id']}"

    answer = api.patch(path, json=fields)

    assert answer.status_code == 400
    assert api.get(path).json()["data"] == created


def test_a_bad_cursor_or_filter_is_refused(api: httpx.Client) -> None:
    assert api.get("/subscription", params={"next_cursor": "x"}).status_code == 400
    assert api.get("/subscription", params={"enabled": "maybe"}).status_code == 400


def test_subscriptions_need_a_token_and_count_against_the_limit(
    sim: Simulator, api: httpx.Client
) -> None:
    anonymous = httpx.get(f"{sim.base_url}/subscription", timeout=10)
    answered = api.get("/subscription")

    assert anonymous.status_code == 401
    assert "X-RateLimit-Remaining" in answered.headers
    assert sim.stats()["requests_by_endpoint"]["GET /subscription"] == 2
