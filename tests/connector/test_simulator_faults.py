"""Faults the simulator injects on request, seen over a socket, and their counts."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from connector.simulator.cli import add_arguments, build_simulator, fault_config_from
from connector.simulator.faults import FaultConfig, build_faults

CONFIG = SimulatorConfig(rate_limit_per_minute=100_000)


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def serve(
    faults: FaultConfig,
    data: SimulatedData | None = None,
    *,
    clock: FakeClock | None = None,
    config: SimulatorConfig = CONFIG,
) -> Simulator:
    data = data or generate_brokerage(60, seed=3)
    ticking = clock or FakeClock()
    built = build_faults(faults, data, clock=ticking)
    return Simulator(data, config, faults=built, clock=ticking).start()


def api_client(simulator: Simulator, timeout: float = 10.0) -> httpx.Client:
    """An httpx client holding a fresh access token for the simulated user."""
    token = httpx.post(
        f"{simulator.auth_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
        auth=("sim-client", "sim-secret"),
    ).json()["access_token"]
    return httpx.Client(
        base_url=simulator.base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )


@pytest.fixture
def running() -> Iterator[list[Simulator]]:
    started: list[Simulator] = []
    yield started
    for simulator in started:
        simulator.stop()


def start(running: list[Simulator], faults: FaultConfig, **kwargs: Any) -> Simulator:
    simulator = serve(faults, **kwargs)
    running.append(simulator)
    return simulator


def is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def test_every_call_gets_a_5xx_at_rate_one(running: list[Simulator]) -> None:
    sim = start(running, FaultConfig(server_error_rate=1.0))

    with api_client(sim) as api:
        statuses = {api.get("/account").status_code for _ in range(30)}

    stats = sim.stats()
    assert statuses <= {500, 502, 503, 504}
    assert len(statuses) > 1
    assert stats["faults_injected"] == {"server_error": 30}
    assert sum(stats["responses_by_status"].get(str(s), 0) for s in statuses) == 30


def test_a_non_json_body_is_a_maintenance_page_or_cut_short(
    running: list[Simulator],
) -> None:
    sim = start(running, FaultConfig(non_json_rate=1.0))

    with api_client(sim) as api:
        answers = [api.get("/profile") for _ in range(20)]

    assert {answer.status_code for answer in answers} == {200}
    assert not any(is_json(answer.content) for answer in answers)
    kinds = {answer.headers["content-type"] for answer in answers}
    assert kinds == {"text/html", "application/json"}
    assert sim.stats()["faults_injected"] == {"non_json": 20}


@pytest.mark.parametrize("retry_after", [False, True])
def test_a_429_storm_lasts_its_seconds_with_rate_headers(
    running: list[Simulator], retry_after: bool
) -> None:
    clock = FakeClock()
    faults = FaultConfig(
        storm_rate=1.0, storm_seconds=2.5, storm_retry_after=retry_after
    )
    sim = start(running, faults, clock=clock)

    with api_client(sim) as api:
        first = api.get("/account")
        clock.now += 1.0
        second = api.get("/account")

    assert (first.status_code, second.status_code) == (429, 429)
    assert second.headers["X-RateLimit-Remaining"] == "0"
    assert second.headers["X-RateLimit-Reset"] == "1500"
    assert second.headers["X-RateLimit-Limit"] == str(CONFIG.rate_limit_per_minute)
    assert second.headers.get("Retry-After") == ("2" if retry_after else None)
    assert sim.stats()["faults_injected"] == {"rate_limit_storm": 2}


def test_a_storm_ends_and_the_next_one_starts_at_random(
    running: list[Simulator],
) -> None:
    clock = FakeClock()
    sim = start(running, FaultConfig(storm_rate=0.2, storm_seconds=1.0), clock=clock)

    statuses = []
    with api_client(sim) as api:
        for _ in range(200):
            statuses.append(api.get("/account").status_code)
            clock.now += 0.25

    runs = "".join("x" if status == 429 else "." for status in statuses).split(".")
    storms = [len(run) for run in runs if run]
    assert len(storms) > 3
    assert 200 in statuses
    # A storm of 1 s seen every 0.25 s is four 429s in a row (or a storm
    # starting right as one ends, eight).
    assert {length % 4 for length in storms} == {0}


def test_a_hung_call_outlives_the_client_then_answers_or_drops(
    running: list[Simulator],
) -> None:
    sim = start(running, FaultConfig(timeout_rate=1.0, timeout_seconds=0.2))

    outcomes = []
    with api_client(sim, timeout=0.05) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("/account")
    with api_client(sim, timeout=5.0) as patient:
        for _ in range(6):
            try:
                outcomes.append(patient.get("/account").status_code)
            except httpx.RemoteProtocolError:
                outcomes.append(0)

    stats = sim.stats()
    faults = stats["faults_injected"]
    assert set(outcomes) == {0, 200}
    # The impatient call was answered or dropped too, after its caller left.
    assert faults["timeout_dropped"] + faults["timeout_answered"] == 7
    assert faults["timeout_dropped"] >= outcomes.count(0)
    assert stats["responses_by_status"]["dropped"] == faults["timeout_dropped"]


def outcomes_for(seed: int) -> list[int]:
    sim = serve(FaultConfig(seed=seed, server_error_rate=0.3, non_json_rate=0.3))
    try:
        with api_client(sim) as api:
            answers = [api.get("/account") for _ in range(40)]
    finally:
        sim.stop()
    return [a.status_code if is_json(a.content) else -a.status_code for a in answers]


def test_the_same_seed_gives_the_same_faults_on_the_same_calls() -> None:
    first, again, other = outcomes_for(5), outcomes_for(5), outcomes_for(6)

    assert first == again
    assert first != other
    assert {200, -200} <= set(first)


def test_faults_leave_oauth_and_stats_alone(running: list[Simulator]) -> None:
    sim = start(running, FaultConfig(server_error_rate=1.0, non_json_rate=1.0))

    with api_client(sim) as api:
        api.get("/account")
    stats = httpx.get(sim.stats_url)

    assert stats.status_code == 200
    assert stats.json()["token_refreshes"] == 1
    assert stats.json()["responses_by_status"]["200"] == 1


def company_pages(api: httpx.Client, profile_id: int, size: int) -> list[list[Any]]:
    pages = []
    for number in (1, 2, 3):
        params = {"batch_number": number, "batch_size": size, "sort": "updated:desc"}
        response = api.get(f"/profile/{profile_id}/loop", params=params)
        pages.append(response.json()["data"])
    return pages


def test_a_loop_moves_while_the_listing_is_paged(running: list[Simulator]) -> None:
    data = generate_brokerage(60, seed=8)
    company = max(data.listings, key=lambda pid: len(data.listings[pid]))
    sim = start(running, FaultConfig(shift_rate=1.0), data=data)

    with api_client(sim) as api:
        pages = company_pages(api, company, 20)
        again = company_pages(api, company, 20)

    first_pass = [item["id"] for page in pages for item in page]
    second_pass = [item["id"] for page in again for item in page]
    moved = set(second_pass) - set(first_pass)
    # Two shifts (pages 2 and 3): each repeats a row and hides the moved loop.
    assert len(first_pass) - len(set(first_pass)) == 2
    assert len(moved) == 2
    # Fresh first pages start with the moved loops, newest of all.
    assert {item["id"] for item in again[0][:2]} >= moved
    newest = max(item["updated"] for item in again[0])
    assert newest == again[0][0]["updated"]
    assert sim.stats()["faults_injected"] == {"shift_between_pages": 4}


def test_a_moved_loop_shows_its_new_updated_everywhere(
    running: list[Simulator],
) -> None:
    data = generate_brokerage(60, seed=8)
    company = max(data.listings, key=lambda pid: len(data.listings[pid]))
    before = {e.loop_id: e.summary()["updated"] for e in data.listings[company].entries}
    sim = start(running, FaultConfig(shift_rate=1.0), data=data)

    with api_client(sim) as api:
        company_pages(api, company, 30)
        now = {
            e.loop_id: e.summary()["updated"] for e in data.listings[company].entries
        }
        moved = [loop_id for loop_id in before if now[loop_id] != before[loop_id]]
        single = api.get(f"/profile/{company}/loop/{moved[0]}").json()["data"]
        listed = [
            item["updated"]
            for pid in data.listings
            for item in api.get(
                f"/profile/{pid}/loop", params={"batch_size": 100}
            ).json()["data"]
            if item["id"] == moved[0]
        ]

    # Of pages 1 to 3 of 30 loops, only page 2 had loops still to come.
    assert len(moved) == 1
    assert single["updated"] == now[moved[0]] > max(before.values())
    assert len(listed) > 1
    assert set(listed) == {single["updated"]}


def test_the_busiest_window_counts_refused_calls_too(
    running: list[Simulator],
) -> None:
    clock = FakeClock()
    config = SimulatorConfig(rate_limit_per_minute=3, window_seconds=10.0)
    sim = start(running, FaultConfig(), clock=clock, config=config)

    with api_client(sim) as api:
        statuses = [api.get("/account").status_code for _ in range(5)]

    assert statuses.count(429) == 2
    assert sim.stats()["busiest_window"] == {
        "requests": 5,
        "limit": 3,
        "window_seconds": 10.0,
    }


def test_fault_options_reach_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--seed=9",
            "--fault-5xx-rate=0.1",
            "--fault-timeout-rate=0.2",
            "--fault-timeout-seconds=4",
            "--fault-429-burst=0.05",
            "--fault-429-seconds=3",
            "--fault-retry-after",
            "--fault-non-json-rate=0.3",
            "--shift-between-pages=0.5",
        ]
    )

    assert fault_config_from(args) == FaultConfig(
        seed=9,
        server_error_rate=0.1,
        timeout_rate=0.2,
        timeout_seconds=4,
        storm_rate=0.05,
        storm_seconds=3,
        storm_retry_after=True,
        non_json_rate=0.3,
        shift_rate=0.5,
    )
    assert not FaultConfig().active
    assert fault_config_from(args).active


def test_the_cli_simulator_injects_the_faults_asked_for() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--port=0", "--loops=5", "--fault-5xx-rate=1"])

    with build_simulator(args) as sim, api_client(sim) as api:
        status = api.get("/account").status_code

    assert status >= 500
