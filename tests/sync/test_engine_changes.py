"""Incremental runs lose no update: loops moving between pages, shared timestamps."""

from __future__ import annotations

import json
import time
from typing import Any

from engine_support import (
    LIST,
    PARTICIPANTS,
    SIM,
    active_profiles,
    company_id,
    drop,
    endpoint_count,
    newest_first,
    on_list_page,
    query,
    served_versions,
    settings_for,
    settled_brokerage,
    stored_versions,
    sync_once,
    touch,
)

from connector.simulator import SimulatedData, Simulator
from connector.simulator.faults import ApiCall, Handler
from connector.simulator.wire import Response
from sync.settings import Settings

LOOPS = 450
HOUR = 3600.0


def test_loops_edited_ahead_of_a_backfill_are_current_after_the_next_run(
    database_url: str,
) -> None:
    data = settled_brokerage(LOOPS, 41)
    company = company_id(data)
    order = newest_first(data, company)
    edited = order[250:280]
    moved = {e.loop_id: time.time() - HOUR + i for i, e in enumerate(edited)}
    # While page 2 is asked for, 30 unread loops jump to the front.
    fault = on_list_page(company, 2, lambda: touch(data, moved))
    with Simulator(data, SIM, faults=[fault]) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        first = sync_once(settings)
        stale = stored_versions(settings)
        second = sync_once(settings)

    served = served_versions(data, [company])
    # Never read at all: they jumped onto a page already read.
    assert not set(moved) & set(stale)
    assert first.incomplete_profiles == (company,)
    assert second.incomplete_profiles == ()
    assert stored_versions(settings) == served


def test_a_loop_vanishing_mid_listing_hides_a_neighbour_the_next_run_reads(
    database_url: str,
) -> None:
    data = settled_brokerage(LOOPS, 42)
    company = company_id(data)
    order = newest_first(data, company)
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        sync_once(settings)
    # 250 loops are edited over a few minutes, three hours ago.
    edited = order[100:350]
    base = time.time() - 3 * HOUR
    touch(data, {e.loop_id: base + i for i, e in enumerate(edited)})
    listing = newest_first(data, company)
    vanishing, skipped = listing[0], listing[100]
    # While page 2 is asked for, a loop of page 1 vanishes: everything shifts
    # up one place and the loop that opened page 2 closes page 1 unread.
    fault = on_list_page(company, 2, lambda: drop(data, {vanishing.loop_id}))
    with Simulator(data, SIM, faults=[fault]) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        watermark_before = watermark(settings, company)
        skipping = sync_once(settings)
        after_skip = stored_versions(settings)
        watermark_after = watermark(settings, company)
        following = sync_once(settings)

    served = served_versions(data, [company])
    assert after_skip[skipped.loop_id] != served[skipped.loop_id]
    # The skip is noticed, so the watermark stays where the next run still
    # reaches the skipped loop (moving it to the newest loop seen would not).
    assert skipping.incomplete_profiles == (company,)
    assert watermark_after == watermark_before
    assert following.incomplete_profiles == ()
    stored = stored_versions(settings)
    assert {k: v for k, v in stored.items() if k != vanishing.loop_id} == served


def test_loops_written_late_in_the_watermark_second_are_all_read(
    database_url: str,
) -> None:
    data = settled_brokerage(LOOPS, 43)
    company = company_id(data)
    order = newest_first(data, company)
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator)
        sync_once(settings)
        mark = watermark(settings, company)
        assert mark.timestamp() == order[0].updated
        # 250 loops are saved in the very second the watermark holds, after
        # the listing read it: one tie group over three pages.
        touch(data, {e.loop_id: order[0].updated for e in order[100:350]})

        second = sync_once(settings)
        third = sync_once(settings)

    assert second.incomplete_profiles == ()
    assert second.counts.participants_fetched == 250
    assert stored_versions(settings) == served_versions(data, data.listings)
    assert watermark(settings, company) == mark
    assert third.counts.participants_fetched == 0


def test_a_loop_updated_in_the_future_holds_the_watermark_at_the_run_start(
    database_url: str,
) -> None:
    data = settled_brokerage(LOOPS, 44)
    company = company_id(data)
    future = newest_first(data, company)[5]
    touch(data, {future.loop_id: time.time() + 86400})
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        result = sync_once(settings)

    assert watermark(settings, company) == result.started_at


def test_a_nightly_run_spends_list_pages_and_the_changed_loops_only(
    database_url: str,
) -> None:
    data = settled_brokerage(LOOPS, 45)
    company = company_id(data)
    changed = newest_first(data, company)[::50]
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator)
        sync_once(settings)
        touch(data, {e.loop_id: time.time() - 60 for e in changed})

        nightly = sync_once(settings)

    counts = nightly.counts
    assert counts.participants_fetched == counts.loops_changed == len(changed)
    # The profile list, one page a profile, the changed loops' participants.
    assert counts.pages == len([p for p in data.listings if profile_is_active(data, p)])
    assert counts.requests == 1 + counts.pages + len(changed)


def watermark(settings: Settings, profile_id: int) -> Any:
    rows = query(
        settings,
        "SELECT watermark FROM {raw}.profile_sync_state WHERE profile_id = %s",
        profile_id,
    )
    return rows[0][0] if rows else None


def profile_is_active(data: SimulatedData, profile_id: int) -> bool:
    return any(p["id"] == profile_id for p in active_profiles(data))


def refuse_once(loop_ids: set[int]) -> Any:
    """Participants of these loops answer garbage the first time they are asked."""
    left = set(loop_ids)

    def fault(call: ApiCall, handler: Handler) -> Response:
        if call.endpoint == PARTICIPANTS and call.params["lid"] in left:
            left.discard(call.params["lid"])
            return Response(200, b"<html>busy</html>", content_type="text/html")
        return handler()

    return fault


def test_a_participant_list_refused_once_is_fetched_by_the_next_run(
    database_url: str,
) -> None:
    data = settled_brokerage(LOOPS, 46)
    company = company_id(data)
    # Old loops: the next run's listing from the watermark will not show them.
    refused = {e.loop_id for e in newest_first(data, company)[-3:]}
    with Simulator(data, SIM, faults=[refuse_once(refused)]) as simulator:
        settings = settings_for(database_url, simulator)
        first = sync_once(settings)
        second = sync_once(settings)
        third = sync_once(settings)

    assert first.counts.quarantined == 3
    assert second.counts.participants_fetched == 3
    assert third.counts.participants_fetched == 0
    stale = query(
        settings,
        "SELECT count(*) FROM {raw}.loop "
        "WHERE participants_for_updated IS DISTINCT FROM loop_updated",
    )
    assert stale == [(0,)]


def without_details(call: ApiCall, handler: Handler) -> Response:
    """A listing that ignores include_details, as an older API might."""
    response = handler()
    if call.endpoint == LIST:
        envelope = json.loads(response.body)
        for item in envelope["data"]:
            item.pop("details", None)
        response.body = json.dumps(envelope).encode()
    return response


def test_details_the_listing_leaves_out_are_fetched_for_changed_loops(
    database_url: str,
) -> None:
    data = settled_brokerage(120, 47)
    company = company_id(data)
    with Simulator(data, SIM, faults=[without_details]) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        first = sync_once(settings)
        second = sync_once(settings)
        details = endpoint_count(simulator, "GET /profile/{pid}/loop/{lid}/detail")

    assert details == first.counts.loops_changed == 120
    assert second.counts.requests == 1 + second.counts.pages
    stored = query(
        settings, "SELECT count(*) FROM {raw}.loop WHERE details IS NOT NULL"
    )
    assert stored == [(120,)]
