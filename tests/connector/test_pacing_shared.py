"""Both request budgets against one contract, and the Redis one's sharing.

The Redis budget runs its real script in the test Redis, on a fake clock
passed in place of Redis's own, so nothing really waits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from fake_dotloop import FakeClock, closed_port

from connector import TransportError
from connector.pacing import (
    REDIS_PREFIX,
    Budget,
    RequestBudget,
    SharedRequestBudget,
    build_budget,
)
from connector.secrets import Secret

MakeBudget = Callable[[FakeClock, int], Budget]


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def shared(client: redis.Redis, key: str) -> MakeBudget:
    def make(clock: FakeClock, rpm: int) -> Budget:
        return SharedRequestBudget(
            client, key, rpm, 60.0, clock=clock, sleep=clock.sleep
        )

    return make


@pytest.fixture(params=["in-process", "redis"])
def make_budget(request: pytest.FixtureRequest) -> MakeBudget:
    if request.param == "in-process":
        return lambda clock, rpm: RequestBudget(
            rpm, 60.0, clock=clock, sleep=clock.sleep, burst=1
        )
    client: redis.Redis = request.getfixturevalue("redis_client")
    return shared(client, uuid.uuid4().hex)


def release_times(budget: Budget, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        budget.acquire()
        times.append(clock() - 1000.0)
    return times


def test_requests_are_spread_one_interval_apart(make_budget: MakeBudget) -> None:
    clock = FakeClock()

    times = release_times(make_budget(clock, 50), clock, 5)

    assert times == pytest.approx([0.0, 1.2, 2.4, 3.6, 4.8])


def test_an_idle_spell_banks_nothing(make_budget: MakeBudget) -> None:
    clock = FakeClock()
    budget = make_budget(clock, 60)
    budget.acquire()
    clock.now += 600.0

    times = release_times(budget, clock, 3)

    assert times == pytest.approx([600.0, 601.0, 602.0])


def test_pause_for_holds_the_next_request_back(make_budget: MakeBudget) -> None:
    clock = FakeClock()
    budget = make_budget(clock, 60)
    budget.acquire()

    budget.pause_for(5.0)
    budget.pause_for(2.0)  # a shorter pause never cuts a longer one short
    budget.pause_for(0.0)
    budget.pause_for(-3.0)
    budget.acquire()

    assert clock() - 1000.0 == pytest.approx(5.0)


def test_remaining_zero_pauses_until_the_reset(make_budget: MakeBudget) -> None:
    clock = FakeClock()
    budget = make_budget(clock, 60)
    budget.acquire()
    clock.now += 10.0

    budget.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1500"})
    budget.acquire()

    assert clock() - 1000.0 == pytest.approx(11.5)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "1500"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "soon"},
        {"X-RateLimit-Remaining": "zero", "X-RateLimit-Reset": "1500"},
    ],
)
def test_headers_that_do_not_say_to_wait_change_nothing(
    make_budget: MakeBudget, headers: dict[str, str]
) -> None:
    clock = FakeClock()
    budget = make_budget(clock, 60)

    budget.observe(headers)
    times = release_times(budget, clock, 2)

    assert times == pytest.approx([0.0, 1.0])


class HookedClock(FakeClock):
    """A fake clock that runs `hook` once, right after the next sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.hook: Callable[[], None] | None = None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()


def test_a_pause_heard_while_waiting_holds_the_waiting_caller(
    make_budget: MakeBudget,
) -> None:
    clock = HookedClock()
    budget = make_budget(clock, 60)
    budget.acquire()
    clock.hook = lambda: budget.pause_for(10.0)

    budget.acquire()
    budget.acquire()

    assert clock.sleeps == pytest.approx([1.0, 10.0, 1.0])
    assert clock() - 1000.0 == pytest.approx(12.0)


def test_budgets_with_one_key_share_one_schedule(redis_client: redis.Redis) -> None:
    clock = FakeClock()
    make = shared(redis_client, "brokerage-1")
    first, second = make(clock, 60), make(clock, 60)
    other = shared(redis_client, "brokerage-2")(clock, 60)

    first.acquire()
    second.acquire()
    first.acquire()
    other.acquire()  # another user's budget: no wait

    assert clock.sleeps == pytest.approx([1.0, 1.0])
    assert clock() - 1000.0 == pytest.approx(2.0)


def test_a_pause_heard_by_one_worker_holds_back_another(
    redis_client: redis.Redis,
) -> None:
    clock = FakeClock()
    make = shared(redis_client, "brokerage-1")
    heard, other = make(clock, 60), make(clock, 60)

    heard.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7000"})
    other.acquire()

    assert clock() - 1000.0 == pytest.approx(7.0)


def test_the_schedule_expires_when_idle(redis_client: redis.Redis) -> None:
    budget = SharedRequestBudget(redis_client, "idle", 60, 60.0)

    budget.acquire()

    ttl_ms = redis_client.pttl(REDIS_PREFIX + "idle")
    assert 0 < ttl_ms <= 62_000


def test_an_unreachable_redis_is_a_transport_error_naming_redis_url() -> None:
    url = Secret(f"redis://:hunter2@127.0.0.1:{closed_port()}/0")
    budget = build_budget(50, redis_url=url, key="x")

    with pytest.raises(TransportError) as caught:
        budget.acquire()

    assert "REDIS_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_build_budget_shares_through_redis_only_when_given_one(
    redis_url: str,
) -> None:
    assert isinstance(build_budget(50), RequestBudget)
    remote = build_budget(50, redis_url=Secret(redis_url), key="k")
    assert isinstance(remote, SharedRequestBudget)
    assert remote.key == REDIS_PREFIX + "k"
    assert remote.interval == pytest.approx(1.2)
