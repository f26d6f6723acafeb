"""The sweep marks loops gone from complete listings; merges and 404s are kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from engine_support import (
    PARTICIPANTS,
    SIM,
    ListingRecorder,
    active_profiles,
    company_id,
    drop,
    hide_totals,
    newest_first,
    query,
    settings_for,
    sync_once,
)

from connector.secrets import Secret
from connector.simulator import SimulatedData, Simulator, generate_brokerage
from connector.simulator.data import LoopListing
from connector.simulator.faults import ApiCall, Handler
from connector.simulator.wire import Response, error_response
from sync import db
from sync.settings import Settings
from sync.sweep import mark_merged, sweep
from sync.tasks import build_client

LOOPS = 250


@pytest.fixture
def data() -> SimulatedData:
    return generate_brokerage(LOOPS, seed=51)


@pytest.fixture
def simulator(data: SimulatedData) -> Iterator[Simulator]:
    with Simulator(data, SIM) as running:
        yield running


def sweep_once(settings: Settings) -> Any:
    with build_client(settings) as client:
        return sweep(settings, client)


def removed(settings: Settings) -> set[int]:
    rows = query(
        settings, "SELECT loop_id FROM {raw}.loop WHERE removed_at IS NOT NULL"
    )
    return {row[0] for row in rows}


def offices(data: SimulatedData) -> list[int]:
    return [p["id"] for p in active_profiles(data) if p["type"] == "OFFICE"]


def test_a_sweep_marks_loops_gone_and_keeps_their_history(
    database_url: str, data: SimulatedData, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    sync_once(settings)
    history = query(settings, "SELECT count(*) FROM {raw}.payload_version")
    gone = {e.loop_id for e in newest_first(data, company_id(data))[10:15]}
    drop(data, gone)

    result = sweep_once(settings)

    assert removed(settings) == gone
    assert result.loops_removed == len(gone)
    assert result.incomplete_profiles == ()
    assert query(settings, "SELECT count(*) FROM {raw}.payload_version") == history
    links = query(
        settings,
        "SELECT DISTINCT loop_id FROM {raw}.loop_profile WHERE removed_at IS NOT NULL",
    )
    assert {row[0] for row in links} == gone
    swept = query(
        settings,
        "SELECT count(*) FROM {raw}.profile_sync_state WHERE last_sweep_at IS NOT NULL",
    )
    assert swept == [(len(active_profiles(data)),)]


def test_sweep_pages_are_the_cheapest_listing(
    database_url: str, data: SimulatedData
) -> None:
    recorder = ListingRecorder()
    with Simulator(data, SIM, faults=[recorder]) as simulator:
        settings = settings_for(database_url, simulator)
        result = sweep_once(settings)
        stats = simulator.stats()

    sizes = {size for _, _, size in recorder.calls}
    assert sizes == {100}
    assert result.requests == 1 + len(recorder.calls)
    assert stats["requests_by_endpoint"].get(PARTICIPANTS, 0) == 0


def test_a_loop_moved_to_another_office_loses_one_link(
    database_url: str, data: SimulatedData, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    sync_once(settings)
    source, target = offices(data)[:2]
    moving = data.listings[source].entries[0]
    listings: Any = data.listings
    listings[source] = LoopListing(
        [e for e in data.listings[source].entries if e is not moving]
    )
    listings[target] = LoopListing([*data.listings[target].entries, moving])

    sweep_once(settings)

    links = query(
        settings,
        "SELECT profile_id, removed_at IS NULL FROM {raw}.loop_profile "
        "WHERE loop_id = %s AND profile_id IN (%s, %s) ORDER BY profile_id",
        moving.loop_id,
        source,
        target,
    )
    assert sorted(links) == sorted([(source, False), (target, True)])
    assert moving.loop_id not in removed(settings)


def test_a_loop_listed_again_is_no_longer_removed(
    database_url: str, data: SimulatedData, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    sync_once(settings)
    before = dict(data.listings)
    back = newest_first(data, company_id(data))[3].loop_id
    drop(data, {back})
    sweep_once(settings)
    assert removed(settings) == {back}
    listings: Any = data.listings
    listings.update(before)

    result = sweep_once(settings)

    assert removed(settings) == set()
    assert result.loops_restored == 1


def test_without_totals_a_sweep_marks_nothing(
    database_url: str, data: SimulatedData, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    sync_once(settings)
    drop(data, {newest_first(data, company_id(data))[0].loop_id})
    hide_totals(data)

    result = sweep_once(settings)

    assert removed(settings) == set()
    assert result.complete_profiles == ()


def test_a_merge_points_the_old_loop_at_its_successor(
    database_url: str, data: SimulatedData, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    sync_once(settings)
    old, new = (e.loop_id for e in newest_first(data, company_id(data))[:2])

    with db.connect(settings) as conn:
        mark_merged(conn, settings, old, new)
        mark_merged(conn, settings, old, new)
        # A merge may arrive before either loop was synced.
        mark_merged(conn, settings, 1, 2)

    merges = query(settings, "SELECT loop_id, merged_into FROM {raw}.loop_merge")
    assert sorted(merges) == [(1, 2), (old, new)]
    assert removed(settings) == {old}
    history = query(
        settings, "SELECT count(*) FROM {raw}.payload_version WHERE entity_id = %s", old
    )
    assert history[0][0] >= 2


def test_a_merge_into_itself_is_refused(database_url: str) -> None:
    settings = Settings(database_url=Secret(database_url))
    with db.connect(settings) as conn, pytest.raises(ValueError):
        mark_merged(conn, settings, 7, 7)


def loop_fault(gone: int, endpoints: set[str]) -> Any:
    def fault(call: ApiCall, handler: Handler) -> Response:
        if call.endpoint in endpoints and call.params.get("lid") == gone:
            return error_response(404, "not_found", "loop merged")
        return handler()

    return fault


@pytest.mark.parametrize(
    ("endpoints", "marked"),
    [
        ({PARTICIPANTS, "GET /profile/{pid}/loop/{lid}"}, True),
        ({PARTICIPANTS}, False),
    ],
    ids=["loop-404", "participants-only-404"],
)
def test_a_loop_answering_404_is_marked_gone(
    database_url: str, data: SimulatedData, endpoints: set[str], marked: bool
) -> None:
    company = company_id(data)
    gone = newest_first(data, company)[7].loop_id
    with Simulator(data, SIM, faults=[loop_fault(gone, endpoints)]) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        result = sync_once(settings)

    assert removed(settings) == ({gone} if marked else set())
    assert result.counts.loops_removed == (1 if marked else 0)
