"""The request budget, run on a fake clock so nothing really waits."""

from __future__ import annotations

import logging
import threading

import pytest
from fake_dotloop import FakeClock

from connector.pacing import RequestBudget


def budget_on(clock: FakeClock, rpm: int = 60, burst: int = 1) -> RequestBudget:
    return RequestBudget(rpm, 60.0, clock=clock, sleep=clock.sleep, burst=burst)


def release_times(budget: RequestBudget, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        budget.acquire()
        times.append(clock() - 1000.0)
    return times


def test_requests_are_spread_one_interval_apart() -> None:
    clock = FakeClock()
    budget = budget_on(clock, rpm=50)

    times = release_times(budget, clock, 5)

    assert times == pytest.approx([0.0, 1.2, 2.4, 3.6, 4.8])


def test_a_burst_goes_back_to_back_then_spacing_resumes() -> None:
    clock = FakeClock()
    budget = budget_on(clock, rpm=60, burst=3)

    times = release_times(budget, clock, 6)

    assert times == pytest.approx([0.0, 0.0, 0.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize("burst", [1, 2, 5])
def test_no_window_holds_more_than_the_budget_plus_burst(burst: int) -> None:
    clock = FakeClock()
    budget = budget_on(clock, rpm=50, burst=burst)

    times = release_times(budget, clock, 300)

    busiest = max(sum(1 for t in times if s <= t < s + 60.0) for s in times)
    assert busiest <= 50 + burst - 1


def test_an_idle_spell_does_not_bank_more_than_the_burst() -> None:
    clock = FakeClock()
    budget = budget_on(clock, rpm=60, burst=2)
    budget.acquire()
    clock.now += 600.0

    times = release_times(budget, clock, 4)

    assert times == pytest.approx([600.0, 600.0, 601.0, 602.0])


def test_remaining_zero_pauses_until_the_reset_in_milliseconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    budget = budget_on(clock)
    budget.acquire()
    clock.now += 10.0

    with caplog.at_level(logging.WARNING, logger="connector.pacing"):
        budget.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1500"})
    budget.acquire()

    assert clock() - 1000.0 == pytest.approx(11.5)
    assert "pausing requests for 1.5 s" in caplog.text


def test_header_names_match_in_any_case() -> None:
    clock = FakeClock()
    budget = budget_on(clock)

    budget.observe({"x-ratelimit-remaining": "0", "X-RATELIMIT-RESET": "2000"})

    assert budget.paused_until == pytest.approx(1002.0)


def test_a_reset_longer_than_the_window_is_capped_at_the_window() -> None:
    clock = FakeClock()
    budget = budget_on(clock)

    budget.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1.7e12"})

    assert budget.paused_until == pytest.approx(1060.0)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "1500"},
        {"X-RateLimit-Remaining": "0"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "soon"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "-5"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "nan"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "inf"},
        {"X-RateLimit-Remaining": "none", "X-RateLimit-Reset": "1500"},
        {"X-RateLimit-Remaining": "", "X-RateLimit-Reset": "1500"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "\x00"},
    ],
)
def test_headers_that_do_not_say_to_wait_change_nothing(
    headers: dict[str, str],
) -> None:
    clock = FakeClock()
    budget = budget_on(clock)

    budget.observe(headers)
    times = release_times(budget, clock, 2)

    assert times == pytest.approx([0.0, 1.0])


def test_garbage_is_logged_at_debug_only(caplog: pytest.LogCaptureFixture) -> None:
    budget = budget_on(FakeClock())

    with caplog.at_level(logging.DEBUG, logger="connector.pacing"):
        budget.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "soon"})

    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "x-ratelimit-reset" in caplog.text


def test_pause_for_holds_the_next_request_back() -> None:
    clock = FakeClock()
    budget = budget_on(clock)
    budget.acquire()

    budget.pause_for(5.0)
    budget.pause_for(2.0)  # a shorter pause never cuts a longer one short
    budget.pause_for(0.0)
    budget.pause_for(-3.0)
    budget.acquire()

    assert clock() - 1000.0 == pytest.approx(5.0)


def test_a_pause_that_starts_while_waiting_voids_the_reserved_slot() -> None:
    clock = FakeClock()

    def sleep_then_hear_of_a_pause(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.sleeps) == 1:
            budget.pause_for(10.0)

    budget = RequestBudget(60, clock=clock, sleep=sleep_then_hear_of_a_pause, burst=1)
    budget.acquire()

    budget.acquire()

    assert clock.sleeps == pytest.approx([1.0, 10.0])
    assert clock() - 1000.0 == pytest.approx(11.0)


def test_threads_sharing_a_budget_get_distinct_slots() -> None:
    waits: list[float] = []
    lock = threading.Lock()

    def record(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    def worker() -> None:
        for _ in range(25):
            budget.acquire()

    # A clock that stands still: each wait is exactly the slot's distance from now.
    budget = RequestBudget(60, clock=lambda: 0.0, sleep=record, burst=1)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(waits) == pytest.approx([float(n) for n in range(1, 200)])


@pytest.mark.parametrize(
    ("rpm", "window", "burst"), [(0, 60.0, 1), (10, 0.0, 1), (10, 60.0, 0)]
)
def test_a_nonsensical_budget_is_refused(rpm: int, window: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RequestBudget(rpm, window, burst=burst)
