"""The simulator's rate limit headers and 429s, and its request statistics."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connector.simulator import Simulator, SimulatorConfig, generate_brokerage

LIMIT = 5
WINDOW = 2.0
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[Simulator]:
    config = SimulatorConfig(rate_limit_per_minute=LIMIT, window_seconds=WINDOW)
    with Simulator(generate_brokerage(40, seed=4), config, clock=clock) as simulator:
        yield simulator


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def api(sim: Simulator, http: httpx.Client) -> Iterator[httpx.Client]:
    token = http.post(
        f"{sim.auth_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
        auth=("sim-client", "sim-secret"),
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=sim.base_url, headers=headers, timeout=10) as client:
        yield client


def rate(response: httpx.Response) -> tuple[int, int, int]:
    limit, remaining, reset = (int(response.headers[name]) for name in RATE_HEADERS)
    return limit, remaining, reset


def test_every_api_response_carries_the_rate_headers(
    api: httpx.Client, clock: FakeClock
) -> None:
    seen = []
    for path in ("/account", "/profile", "/profile/1/loop"):
        seen.append(rate(api.get(path)))
        clock.now += 0.25

    assert seen == [(LIMIT, 4, 2000), (LIMIT, 3, 1750), (LIMIT, 2, 1500)]


def test_over_the_limit_answers_429_until_the_window_resets(
    api: httpx.Client, clock: FakeClock
) -> None:
    statuses = [api.get("/account").status_code for _ in range(LIMIT)]
    clock.now += 1.5
    refused = api.get("/account")
    clock.now += 0.5
    again = api.get("/account")

    assert statuses == [200] * LIMIT
    assert refused.status_code == 429
    assert rate(refused) == (LIMIT, 0, 500)
    assert again.status_code == 200
    assert rate(again) == (LIMIT, LIMIT - 1, 2000)


def test_window_length_follows_the_configuration(clock: FakeClock) -> None:
    config = SimulatorConfig(rate_limit_per_minute=2, window_seconds=60)
    with (
        Simulator(generate_brokerage(5, seed=1), config, clock=clock) as sim,
        httpx.Client(timeout=10) as http,
    ):
        token = http.post(
            f"{sim.auth_url}/token",
            data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
            auth=("sim-client", "sim-secret"),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        first = http.get(f"{sim.base_url}/profile", headers=headers)
        clock.now += 59.5
        codes = [http.get(f"{sim.base_url}/profile", headers=headers) for _ in "ab"]

    assert rate(first) == (2, 1, 60000)
    assert [response.status_code for response in codes] == [200, 429]
    assert rate(codes[1]) == (2, 0, 500)


def test_oauth_and_stats_are_not_rate_limited(
    sim: Simulator, api: httpx.Client, http: httpx.Client
) -> None:
    for _ in range(LIMIT + 1):
        api.get("/account")

    stats = [http.get(sim.stats_url) for _ in range(LIMIT + 2)]
    token = http.post(
        f"{sim.auth_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
        auth=("sim-client", "sim-secret"),
    )

    assert {response.status_code for response in stats} == {200}
    assert token.status_code == 200
    assert "X-RateLimit-Limit" not in token.headers


def test_stats_count_requests_statuses_429s_and_refreshes(
    sim: Simulator, api: httpx.Client, http: httpx.Client
) -> None:
    company = api.get("/profile").json()["data"][0]["id"]
    api.get(f"/profile/{company}/loop")
    api.get(f"/profile/{company}/loop", params={"batch_number": 2})
    api.get("/profile/1/loop")
    api.get("/account")
    api.get("/account")
    http.get(f"{sim.base_url}/account")
    http.get(f"{sim.base_url}/nowhere")

    stats = http.get(sim.stats_url).json()

    assert stats == sim.stats()
    assert stats["requests_by_endpoint"] == {
        "GET /account": 3,
        "GET /profile": 1,
        "GET /profile/{pid}/loop": 3,
        "POST /oauth/token": 1,
        "(unmatched)": 1,
    }
    assert stats["responses_by_status"] == {"200": 5, "401": 2, "404": 1, "429": 1}
    assert stats["total_requests"] == 9
    assert stats["rate_limited"] == 1
    assert stats["token_refreshes"] == 1
