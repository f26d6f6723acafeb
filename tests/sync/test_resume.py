"""Backfills stopped part way resume from their checkpoint: no gap, no duplicate."""

from __future__ import annotations

from typing import Any

import pytest
from engine_support import (
    PARTICIPANTS,
    SIM,
    ListingRecorder,
    StopSync,
    company_id,
    drop,
    endpoint_count,
    hide_totals,
    newest_first,
    query,
    scratch_database,
    settings_for,
    snapshot,
    stop_after,
    sync_once,
    touch,
)

from connector.simulator import SimulatedData, Simulator, generate_brokerage

LOOPS = 450


def brokerage() -> SimulatedData:
    return generate_brokerage(LOOPS, seed=21)


def clean_snapshot(database_url: str, data: SimulatedData) -> dict[str, Any]:
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator, schema="clean_run")
        sync_once(settings)
        return snapshot(settings)


@pytest.fixture(scope="module")
def unchanged_clean_run(postgres_admin_url: str) -> dict[str, Any]:
    """The tables a clean run leaves for the unchanged brokerage, computed once."""
    with scratch_database(postgres_admin_url) as url:
        return clean_snapshot(url, brokerage())


@pytest.mark.parametrize("pages", [1, 4, 9])
def test_a_backfill_stopped_after_any_page_resumes_to_a_clean_runs_tables(
    database_url: str, pages: int, unchanged_clean_run: dict[str, Any]
) -> None:
    data = brokerage()
    expected = unchanged_clean_run
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator)
        with pytest.raises(StopSync):
            sync_once(settings, progress=stop_after(pages))
        landed = query(settings, "SELECT count(*) FROM {raw}.loop")[0][0]
        participants_before = endpoint_count(simulator, PARTICIPANTS)

        result = sync_once(settings)

        refetched = endpoint_count(simulator, PARTICIPANTS) - participants_before
    assert snapshot(settings) == expected
    assert result.incomplete_profiles == ()
    # Loops landed before the stop were not asked for again.
    assert refetched == LOOPS - landed
    assert query(settings, "SELECT status FROM {raw}.sync_run ORDER BY run_id") == [
        ("failed",),
        ("succeeded",),
    ]


def test_the_checkpoint_is_written_with_every_page(database_url: str) -> None:
    data = brokerage()
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator)
        with pytest.raises(StopSync):
            sync_once(settings, progress=stop_after(4))

    rows = query(
        settings,
        "SELECT profile_id, since, batch_number, loops_landed, pages_landed, "
        "listing_total, bound FROM {raw}.listing_checkpoint",
    )
    company = company_id(data)
    oldest_landed = newest_first(data, company)[399].updated
    assert [row[:6] for row in rows] == [(company, None, 4, 400, 4, LOOPS)]
    assert rows[0][6].timestamp() == oldest_landed


def test_a_resume_finds_its_place_after_loops_moved_and_vanished(
    database_url: str,
) -> None:
    data = brokerage()
    company = company_id(data)
    order = newest_first(data, company)
    recorder = ListingRecorder()
    with Simulator(data, SIM, faults=[recorder]) as simulator:
        settings = settings_for(database_url, simulator)
        with pytest.raises(StopSync):
            sync_once(settings, progress=stop_after(2))
        # Meanwhile: 30 loops not yet read are edited (they jump to the front)
        # and 20 already read vanish (everything behind them shifts up).
        newest = order[0].updated
        touch(data, {e.loop_id: newest + 60 + i for i, e in enumerate(order[300:330])})
        drop(data, {e.loop_id for e in order[50:70]})
        recorder.clear()

        resumed = sync_once(settings)
        resumed_batches = recorder.batches(company)
        second = sync_once(settings)

    # 210 loops are newer than the bound now: one count request, then the
    # listing from batch 3, which holds the last of them.
    assert resumed_batches == [(1, 1), (3, 100), (4, 100), (5, 100)]
    # The 30 edited loops left the unread part: the listing cannot prove it
    # read everything, so the next run lists again, and that one is complete.
    assert company in resumed.incomplete_profiles
    assert second.incomplete_profiles == ()
    # The vanished loops stay stored (the sweep marks them); the rest is exact.
    vanished = {e.loop_id for e in order[50:70]}
    stored = snapshot(settings)["loop"]
    expected = clean_snapshot(database_url, data)["loop"]
    assert [row for row in stored if row[0] not in vanished] == expected


def test_without_totals_a_resume_steps_back_until_its_place_is_proven(
    database_url: str,
) -> None:
    data = brokerage()
    company = company_id(data)
    order = newest_first(data, company)
    recorder = ListingRecorder()
    with Simulator(data, SIM, faults=[recorder]) as simulator:
        settings = settings_for(database_url, simulator)
        with pytest.raises(StopSync):
            sync_once(settings, progress=stop_after(4))
        # 150 read loops vanish: the stale batch number 4 now lies past the
        # bound, and a resume must walk back to find it.
        drop(data, {e.loop_id for e in order[150:300]})
        hide_totals(data)
        recorder.clear()

        sync_once(settings)

    # No count without totals: the stale batch 4 is empty now, batch 3 opens
    # above the bound.
    assert recorder.batches(company)[:3] == [(1, 1), (4, 100), (3, 100)]
    stored = {row[0] for row in query(settings, "SELECT loop_id FROM {raw}.loop")}
    assert {e.loop_id for e in order} <= stored
    marks = query(
        settings,
        "SELECT count(*) FROM {raw}.profile_sync_state WHERE profile_id = %s "
        "AND watermark IS NOT NULL",
        company,
    )
    assert marks == [(1,)]


def test_a_tie_group_spanning_pages_resumes_without_a_gap(database_url: str) -> None:
    data = brokerage()
    company = company_id(data)
    order = newest_first(data, company)
    # 250 loops share the newest second: the first three pages are one tie.
    newest = order[0].updated
    touch(data, {e.loop_id: newest for e in order[:250]})
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator)
        with pytest.raises(StopSync):
            sync_once(settings, progress=stop_after(2))

        result = sync_once(settings)

    expected = clean_snapshot(database_url, data)
    assert snapshot(settings) == expected
    assert result.incomplete_profiles == ()
