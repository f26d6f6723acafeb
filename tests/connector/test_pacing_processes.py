"""Worker processes sharing one Redis budget keep to it at the simulator."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue

import pytest
import redis

from connector import DotloopClient, RefreshTokenSource, Secret
from connector.pacing import SharedRequestBudget
from connector.simulator import Simulator, SimulatorConfig, generate_brokerage

BUDGET = 6
WINDOW = 1.0
WORKERS = 4
CALLS = 6  # per worker: four windows' worth in all


@dataclass(frozen=True)
class Job:
    """What one worker process does."""

    api_url: str
    token: str
    redis_url: str
    key: str
    start_at: float


class IssuedToken:
    """The access token the test issued, used as is by every process."""

    def __init__(self, token: str) -> None:
        self._token = Secret(token)

    def access_token(self) -> Secret:
        return self._token

    def invalidate(self, token: Secret) -> None:
        """The token outlives the test; there is nothing to renew."""


def work(job: Job, results: Queue[tuple[int, int]]) -> None:
    """Send CALLS requests through the shared budget; report requests and 429s."""
    budget = SharedRequestBudget(
        redis.Redis.from_url(job.redis_url), job.key, BUDGET, WINDOW
    )
    client = DotloopClient(job.api_url, IssuedToken(job.token), budget)
    time.sleep(max(0.0, job.start_at - time.time()))
    with client:
        for _ in range(CALLS):
            client.account()
    results.put((client.stats.requests, client.stats.throttled))


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    config = SimulatorConfig(rate_limit_per_minute=BUDGET, window_seconds=WINDOW)
    with Simulator(generate_brokerage(5, seed=2), config) as running:
        yield running


def issue_token(simulator: Simulator) -> str:
    config = simulator.config
    with RefreshTokenSource(
        simulator.auth_url,
        config.client_id,
        Secret(config.client_secret),
        Secret(config.refresh_token),
    ) as tokens:
        return tokens.access_token().reveal()


def test_four_processes_never_exceed_the_shared_budget(
    simulator: Simulator, redis_url: str
) -> None:
    context = multiprocessing.get_context("spawn")
    results: Queue[tuple[int, int]] = context.Queue()
    job = Job(
        simulator.base_url,
        issue_token(simulator),
        redis_url,
        f"test-{uuid.uuid4().hex}",
        start_at=time.time() + 1.5,
    )
    processes = [
        context.Process(target=work, args=(job, results)) for _ in range(WORKERS)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=10)

    stats = simulator.stats()
    assert [process.exitcode for process in processes] == [0] * WORKERS
    assert reports == [(CALLS, 0)] * WORKERS
    assert stats["requests_by_endpoint"]["GET /account"] == WORKERS * CALLS
    assert stats["busiest_window"]["requests"] <= BUDGET
    assert stats["rate_limited"] == 0
