"""Pacing efficiency: worker processes sharing one Dotloop budget, over a socket.

Four processes (by default) call the simulator for a number of rate windows,
each through a DotloopClient, with three kinds of pacing:

- shared: one SharedRequestBudget of B requests per window in Redis;
- naive, whole: each process sleeps window / B before every request, as a
  worker that believes it has the budget to itself;
- naive, split: each process sleeps window * workers / B, a fixed share.

The simulator's limit is B per window too. For each kind it prints the rate
of answered requests (from the first answer to the last) divided by B per
window, and how many 429s the simulator sent. Run as
`python -m bench.bench_pacing` or `python bench/bench_pacing.py`.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.queues import Queue
from typing import Any

import redis

from connector import DotloopClient, DotloopError, RefreshTokenSource, Secret
from connector.pacing import Budget, SharedRequestBudget
from connector.simulator import Simulator, SimulatorConfig, generate_brokerage

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
KINDS = ("shared", "naive, whole", "naive, split")


@dataclass(frozen=True)
class Plan:
    """One measured run: who paces how, against which simulator, and when."""

    kind: str
    api_url: str
    token: str
    redis_url: str
    key: str
    budget: int
    window: float
    workers: int
    start_at: float  # wall clock, shared by every process
    seconds: float


@dataclass(frozen=True)
class Outcome:
    """What one kind of pacing achieved."""

    kind: str
    answered: int
    throttled: int
    ratio: float


class FixedToken:
    """An access token issued once by the parent, the same in every process."""

    def __init__(self, token: str) -> None:
        self._token = Secret(token)

    def access_token(self) -> Secret:
        return self._token

    def invalidate(self, token: Secret) -> None:
        """Nothing to renew: the benchmark ends long before the token expires."""


class FixedSleep:
    """The naive budget: a fixed sleep before each request, alone in its process."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def acquire(self) -> None:
        time.sleep(self._seconds)

    def observe(self, headers: Any) -> None:
        """A naive client does not read the rate headers."""

    def pause_for(self, seconds: float) -> None:
        time.sleep(seconds)


def budget_for(plan: Plan) -> Budget:
    """The pacing a worker of `plan` uses."""
    if plan.kind == "shared":
        client = redis.Redis.from_url(plan.redis_url)
        return SharedRequestBudget(client, plan.key, plan.budget, plan.window)
    share = plan.workers if plan.kind == "naive, split" else 1
    return FixedSleep(plan.window * share / plan.budget)


def worker(plan: Plan, answers: Queue[list[float]]) -> None:
    """Call GET /account until the plan's time is up; send back when answered."""
    logging.basicConfig(level=logging.ERROR)
    client = DotloopClient(plan.api_url, FixedToken(plan.token), budget_for(plan))
    answered = []
    time.sleep(max(0.0, plan.start_at - time.time()))
    with client:
        while time.time() < plan.start_at + plan.seconds:
            try:
                client.account()
            except DotloopError:
                continue
            answered.append(time.time())
    answers.put(answered)


def measure(simulator: Simulator, plan: Plan) -> Outcome:
    """Run the plan's workers in processes; rate from first to last answer."""
    before = simulator.stats()
    context = multiprocessing.get_context("spawn")
    answers: Queue[list[float]] = context.Queue()
    processes = [
        context.Process(target=worker, args=(plan, answers))
        for _ in range(plan.workers)
    ]
    for process in processes:
        process.start()
    times = sorted(t for _ in processes for t in answers.get())
    for process in processes:
        process.join()
    after = simulator.stats()
    throttled = after["rate_limited"] - before["rate_limited"]
    # n answers span n - 1 intervals.
    rate = (len(times) - 1) / (times[-1] - times[0])
    return Outcome(plan.kind, len(times), throttled, rate * plan.window / plan.budget)


def run(
    args: argparse.Namespace, report: Callable[[str], None] = print
) -> list[Outcome]:
    """Measure every kind of pacing against one simulator, one after another."""
    config = SimulatorConfig(
        rate_limit_per_minute=args.budget, window_seconds=args.window
    )
    outcomes = []
    with Simulator(generate_brokerage(5, seed=1), config) as simulator:
        token = _token(simulator)
        report(
            f"{args.workers} processes, budget {args.budget} per {args.window:g} s "
            f"window, {args.windows} windows each"
        )
        for kind in KINDS:
            plan = Plan(
                kind=kind,
                api_url=simulator.base_url,
                token=token,
                redis_url=args.redis_url,
                key=f"bench-{uuid.uuid4().hex}",
                budget=args.budget,
                window=args.window,
                workers=args.workers,
                start_at=time.time() + args.startup,
                seconds=args.windows * args.window,
            )
            outcome = measure(simulator, plan)
            outcomes.append(outcome)
            report(
                f"{kind:<14} achieved/B = {outcome.ratio:.3f}  "
                f"answered = {outcome.answered:>5}  429s = {outcome.throttled}"
            )
            # Let the simulator's window close before the next kind starts.
            time.sleep(args.window)
    return outcomes


def main() -> None:
    """Parse the options and print one line per kind of pacing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=20, help="B, per window")
    parser.add_argument("--window", type=float, default=1.0, help="seconds")
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--startup", type=float, default=3.0, help="seconds")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    logging.basicConfig(level=logging.ERROR)
    run(parser.parse_args())


def _token(simulator: Simulator) -> str:
    config = simulator.config
    with RefreshTokenSource(
        simulator.auth_url,
        config.client_id,
        Secret(config.client_secret),
        Secret(config.refresh_token),
    ) as tokens:
        return tokens.access_token().reveal()


if __name__ == "__main__":
    main()
