"""Syncing while loops merge in Dotloop, with and without webhooks to say so."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from engine_support import SIM, listed_ids, query, settings_for, sync_once

from connector.simulator import SimulatedData, Simulator, generate_brokerage
from connector.simulator.changes import LOOP_MERGED, LoopChanges, LoopEvent
from connector.simulator.faults import FaultConfig, build_faults
from sync.settings import Settings
from sync.sweep import sweep
from sync.tasks import build_client

LOOPS = 60


@pytest.fixture
def brokerage() -> SimulatedData:
    return generate_brokerage(LOOPS, seed=14)


@pytest.fixture
def merges(brokerage: SimulatedData) -> Iterator[tuple[Simulator, list[LoopEvent]]]:
    """A simulator whose listings merge loops, and the merges it made."""
    changes = LoopChanges(brokerage)
    made: list[LoopEvent] = []
    changes.listen(lambda event: made.append(event))
    faults = build_faults(
        FaultConfig(seed=2, merge_rate=0.5), brokerage, changes=changes
    )
    with Simulator(brokerage, SIM, faults=faults, changes=changes) as sim:
        yield sim, made


@pytest.fixture
def settings(
    database_url: str,
    merges: tuple[Simulator, list[LoopEvent]],
    tmp_path: Path,
) -> Settings:
    return replace(settings_for(database_url, merges[0]), data_dir=tmp_path)


def live_loops(settings: Settings) -> dict[int, str]:
    rows = query(
        settings,
        "SELECT loop_id, loop_updated FROM {raw}.loop WHERE removed_at IS NULL",
    )
    return dict(rows)


def served(data: SimulatedData) -> dict[int, str]:
    versions = {}
    for listing in data.listings.values():
        for entry in listing.entries:
            if entry.loop_id is not None:
                versions[entry.loop_id] = entry.summary()["updated"]
    return versions


def test_a_sync_and_a_sweep_leave_exactly_the_loops_that_survived(
    settings: Settings,
    merges: tuple[Simulator, list[LoopEvent]],
    brokerage: SimulatedData,
) -> None:
    simulator, made = merges
    first = sync_once(settings)
    simulator.app.faults.clear()
    sync_once(settings)
    with build_client(settings) as client:
        swept = sweep(settings, client)

    merged = {event.merged_loop_id for event in made}
    stored = {row[0] for row in query(settings, "SELECT loop_id FROM {raw}.loop")}
    assert first.counts.pages > 0
    assert made and all(event.event_type == LOOP_MERGED for event in made)
    assert simulator.stats()["faults_injected"]["merged_loop"] == len(made)
    assert merged.isdisjoint(listed_ids(brokerage))
    # Only the sweep finds the loops that merged after they were stored.
    assert swept.loops_removed == len(merged & stored) > 0
    assert live_loops(settings) == served(brokerage)
