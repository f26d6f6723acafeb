"""Requests a sync spends against the simulator, over the theoretical minimum.

The minimum of a run is the profile list, one list page per 100 loops of each
profile (at least one), and one participant request per distinct loop that
is new or changed. Figures:

- a full backfill of N loops;
- the same backfill stopped after random pages and resumed, five times;
- a nightly run after 2% of the loops changed (edited in the last hours).

    .venv/bin/python bench/bench_sync_requests.py [--loops 20000]
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import time
from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from connector import DotloopClient, RefreshTokenSource, RequestBudget
from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from connector.simulator.data import LoopListing
from sync.engine import SyncProgress, SyncRunResult, run_sync
from sync.settings import Settings

from .harness import scratch_database, simulator_settings

SIM = SimulatorConfig(rate_limit_per_minute=10_000_000)
BUDGET_PER_MINUTE = 50
BATCH = 100


class Stop(Exception):
    """Stops a run from its progress callback, as a crash would."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=20_000)
    parser.add_argument("--changed", type=float, default=0.02)
    args = parser.parse_args()
    # The stopped runs log their failure; that is the point of them.
    logging.disable(logging.ERROR)
    data = generate_brokerage(args.loops, seed=9)
    rng = random.Random(9)
    with Simulator(data, SIM) as simulator, scratch_database() as url:
        backfill_minimum = minimum(data, all_loops(data))
        clean = sync(simulator_settings(url, simulator, raw_schema="clean"))
        report("backfill", clean.counts.requests, backfill_minimum)
        resumed = simulator_settings(url, simulator, raw_schema="resumed")
        spent = stop_and_resume(resumed, rng, stops=5)
        report("backfill stopped 5 times", spent, backfill_minimum)
        changed = edit(data, rng, args.changed)
        nightly = sync(simulator_settings(url, simulator, raw_schema="clean"))
        report(
            f"nightly, {len(changed):,} changed",
            nightly.counts.requests,
            minimum(data, changed),
        )


def minimum(data: SimulatedData, loops: set[int]) -> int:
    """Profile list, ceil(n/100) pages a profile (at least 1), distinct loops."""
    pages = sum(
        max(1, math.ceil(sum(1 for e in listing.entries if e.loop_id in loops) / BATCH))
        for pid, listing in data.listings.items()
        if is_active(data, pid)
    )
    return 1 + pages + len(loops)


class StopAfter:
    """A progress callback that stops its run after some pages."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.requests = 0

    def __call__(self, state: SyncProgress) -> None:
        self.requests = state.counts.requests
        if state.counts.pages >= self.pages:
            raise Stop


def stop_and_resume(settings: Settings, rng: random.Random, stops: int) -> int:
    """Requests of a backfill stopped after a few pages each time, then finished."""
    spent = 0
    for _ in range(stops):
        stopper = StopAfter(rng.randint(3, 30))
        with suppress(Stop):
            sync(settings, stopper)
        spent += stopper.requests
    return spent + sync(settings).counts.requests


def edit(data: SimulatedData, rng: random.Random, share: float) -> set[int]:
    """Edit a share of the loops in the last hours; returns their ids."""
    ids = sorted(all_loops(data))
    chosen = set(rng.sample(ids, max(1, int(len(ids) * share))))
    now = time.time()
    moments = {loop_id: now - rng.uniform(60, 6 * 3600) for loop_id in chosen}
    for listing in data.listings.values():
        for entry in listing.entries:
            if entry.loop_id in moments:
                entry.updated = moments[entry.loop_id]
    listings: Any = data.listings
    for pid, listing in list(listings.items()):
        listings[pid] = LoopListing(list(listing.entries))
    return chosen


def sync(settings: Settings, progress: Any = None) -> SyncRunResult:
    dotloop = settings.dotloop
    assert dotloop.client_id and dotloop.client_secret and dotloop.refresh_token
    tokens = RefreshTokenSource(
        dotloop.auth_url,
        dotloop.client_id,
        dotloop.client_secret,
        dotloop.refresh_token,
    )
    budget = RequestBudget(dotloop.requests_per_minute)
    with DotloopClient(dotloop.api_url, tokens, budget) as client:
        return run_sync(settings, client, trigger="bench", progress=progress)


def report(name: str, spent: int, least: int) -> None:
    hours = spent / BUDGET_PER_MINUTE / 60
    print(
        f"{name:<32} {spent:>8,} requests, minimum {least:>8,}: "
        f"{spent / least:.4f} of it ({hours:.1f} h at {BUDGET_PER_MINUTE}/min)"
    )


def all_loops(data: SimulatedData) -> set[int]:
    return {
        e.loop_id
        for pid, listing in data.listings.items()
        if is_active(data, pid)
        for e in listing.entries
        if e.loop_id is not None
    }


def is_active(data: SimulatedData, profile_id: int) -> bool:
    profiles: Iterable[dict[str, Any]] = data.profiles["data"]  # type: ignore[index]
    return any(p["id"] == profile_id and not p["deactivated"] for p in profiles)


if __name__ == "__main__":
    main()
