"""Second chances: quarantined loops asked for by id, failed fetches again."""

from __future__ import annotations

import json
import time
from collections.abc import Collection

import pytest
from engine_support import (
    LIST,
    PARTICIPANTS,
    SIM,
    company_id,
    endpoint_count,
    newest_first,
    query,
    settings_for,
    settled_brokerage,
    sync_once,
    touch,
)

import sync.retries
from connector.simulator import Simulator
from connector.simulator.faults import ApiCall, Fault, Handler
from connector.simulator.wire import Response, error_response
from sync.settings import Settings
from sync.status import print_status

LOOPS = 120
LOOP = "GET /profile/{pid}/loop/{lid}"
DETAIL = "GET /profile/{pid}/loop/{lid}/detail"


class Switch:
    """Whether a fault is on; tests turn it off to have Dotloop fix the data."""

    def __init__(self) -> None:
        self.on = True


def broken_updated(loop_id: int, switch: Switch) -> Fault:
    """The loop's `updated` is unusable in listings and by id, while on."""

    def fault(call: ApiCall, handler: Handler) -> Response:
        response = handler()
        if not switch.on or call.endpoint not in (LIST, LOOP):
            return response
        envelope = json.loads(response.body)
        data = envelope["data"]
        for item in data if isinstance(data, list) else [data]:
            if item.get("id") == loop_id:
                item["updated"] = "last Tuesday"
        response.body = json.dumps(envelope).encode()
        return response

    return fault


def failing(endpoint: str, loop_ids: Collection[int], switch: Switch) -> Fault:
    """Requests to the endpoint for these loops answer HTML, while on."""

    def fault(call: ApiCall, handler: Handler) -> Response:
        if switch.on and call.endpoint == endpoint and call.params["lid"] in loop_ids:
            return Response(200, b"<html>busy</html>", content_type="text/html")
        return handler()

    return fault


def not_found(endpoint: str, loop_ids: Collection[int], switch: Switch) -> Fault:
    def fault(call: ApiCall, handler: Handler) -> Response:
        if switch.on and call.endpoint == endpoint and call.params["lid"] in loop_ids:
            return error_response(404, "not_found", "no participants yet")
        return handler()

    return fault


def without_details(call: ApiCall, handler: Handler) -> Response:
    """A listing that ignores include_details."""
    response = handler()
    if call.endpoint == LIST:
        envelope = json.loads(response.body)
        for item in envelope["data"]:
            item.pop("details", None)
        response.body = json.dumps(envelope).encode()
    return response


def entries(settings: Settings) -> list[tuple[object, ...]]:
    return query(
        settings,
        "SELECT loop_id, source, resolved_run_id, retries FROM {raw}.quarantine "
        "ORDER BY quarantine_id",
    )


def pending(settings: Settings) -> list[tuple[object, ...]]:
    return query(
        settings, "SELECT loop_id, kind, attempts FROM {raw}.pending_fetch ORDER BY 1"
    )


def test_a_quarantined_loop_fixed_without_a_new_updated_is_asked_for_by_id(
    database_url: str,
) -> None:
    data = settled_brokerage(LOOPS, 91)
    company = company_id(data)
    broken = newest_first(data, company)[-1].loop_id
    switch = Switch()
    with Simulator(data, SIM, faults=[broken_updated(broken, switch)]) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        first = sync_once(settings)
        switch.on = False
        by_id = endpoint_count(simulator, LOOP)
        second = sync_once(settings)
        by_id = endpoint_count(simulator, LOOP) - by_id
        third = sync_once(settings)

    assert (first.counts.quarantined, first.incomplete_profiles) == (1, ())
    assert (second.counts.quarantine_retried, second.counts.quarantine_resolved) == (
        1,
        1,
    )
    assert by_id == 1
    # The listing from the watermark, then the loop, its details, its people.
    assert second.counts.requests == 1 + second.counts.pages + 3
    assert third.counts.quarantine_retried == 0
    assert entries(settings) == [(broken, "loop_item", second.run_id, 0)]
    stored = query(
        settings,
        "SELECT details IS NOT NULL, participants_for_updated = loop_updated "
        "FROM {raw}.loop WHERE loop_id = %s",
        broken,
    )
    assert stored == [(True, True)]


def test_a_loop_still_unusable_is_asked_for_a_bounded_number_of_runs(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync.retries, "MAX_ITEM_RETRIES", 2)
    data = settled_brokerage(LOOPS, 92)
    company = company_id(data)
    broken = newest_first(data, company)[-1].loop_id
    fault = broken_updated(broken, Switch())
    with Simulator(data, SIM, faults=[fault]) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        runs = [sync_once(settings) for _ in range(4)]
        by_id = endpoint_count(simulator, LOOP)

    assert [r.counts.quarantine_retried for r in runs] == [0, 1, 1, 0]
    assert by_id == 2
    # One entry, still open, that counts its retries; no new entry a run.
    assert entries(settings) == [(broken, "loop_item", None, 2)]
    assert query(
        settings, "SELECT count(*) FROM {raw}.loop WHERE loop_id = %s", broken
    ) == [(0,)]


def test_a_quarantined_loop_that_changes_is_resolved_by_its_listing(
    database_url: str,
) -> None:
    data = settled_brokerage(LOOPS, 93)
    company = company_id(data)
    broken = newest_first(data, company)[-1].loop_id
    switch = Switch()
    with Simulator(data, SIM, faults=[broken_updated(broken, switch)]) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        sync_once(settings)
        switch.on = False
        touch(data, {broken: time.time() - 60})
        second = sync_once(settings)
        by_id = endpoint_count(simulator, LOOP)

    assert (second.counts.quarantine_retried, second.counts.quarantine_resolved) == (
        0,
        1,
    )
    assert by_id == 0
    assert entries(settings) == [(broken, "loop_item", second.run_id, 0)]


def test_details_that_failed_are_fetched_by_the_next_run_and_status_shows_it(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = settled_brokerage(LOOPS, 94)
    company = company_id(data)
    refused = newest_first(data, company)[-1].loop_id
    switch = Switch()
    faults = [without_details, failing(DETAIL, {refused}, switch)]
    with Simulator(data, SIM, faults=faults) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        first = sync_once(settings)
        owed = pending(settings)
        print_status(settings)
        shown_owed = capsys.readouterr().out
        switch.on = False
        details = endpoint_count(simulator, DETAIL)
        second = sync_once(settings)
        details = endpoint_count(simulator, DETAIL) - details
        print_status(settings)
        shown_after = capsys.readouterr().out
        third = sync_once(settings)

    assert first.counts.quarantined == 1
    assert first.counts.fetches_pending == 1
    assert owed == [(refused, "details", 1)]
    assert "pending fetch" in shown_owed and "open quarantine" in shown_owed
    assert (second.counts.fetches_retried, second.counts.fetches_pending) == (1, 0)
    assert second.counts.quarantine_resolved == 1
    assert details == 1
    assert third.counts.fetches_retried == 0
    assert pending(settings) == []
    assert entries(settings) == [(refused, "details", second.run_id, 0)]
    assert query(
        settings,
        "SELECT details IS NOT NULL FROM {raw}.loop WHERE loop_id = %s",
        refused,
    ) == [(True,)]
    runs_table = shown_after.split("Freshness by profile")[0]
    assert "fetches retried" in runs_table and "pending" in runs_table
    row = next(
        line for line in runs_table.splitlines() if f"│ {second.run_id} " in line
    )
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[11:13] == ["1", "0"]
    freshness = shown_after.split("Freshness by profile")[1]
    assert str(company) in freshness and "hours ago" in freshness
    assert "Owed to the next runs" not in shown_after


def test_participants_that_answered_404_are_fetched_by_the_next_run(
    database_url: str,
) -> None:
    data = settled_brokerage(LOOPS, 95)
    company = company_id(data)
    missing = newest_first(data, company)[-1].loop_id
    switch = Switch()
    faults = [not_found(PARTICIPANTS, {missing}, switch)]
    with Simulator(data, SIM, faults=faults) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        first = sync_once(settings)
        owed = pending(settings)
        switch.on = False
        second = sync_once(settings)

    assert first.counts.participants_fetched == LOOPS - 1
    assert owed == [(missing, "participants", 1)]
    assert (second.counts.fetches_retried, second.counts.participants_fetched) == (
        1,
        1,
    )
    assert pending(settings) == []


def test_pending_fetches_are_tried_a_bounded_number_a_run(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync.retries, "FETCH_LIMIT", 2)
    data = settled_brokerage(LOOPS, 96)
    company = company_id(data)
    refused = {entry.loop_id for entry in newest_first(data, company)[-5:]}
    switch = Switch()
    with Simulator(data, SIM, faults=[failing(PARTICIPANTS, refused, switch)]) as sim:
        settings = settings_for(database_url, sim, profile_ids=(company,))
        first = sync_once(settings)
        switch.on = False
        later = [sync_once(settings) for _ in range(3)]

    assert first.counts.fetches_pending == 5
    assert [r.counts.fetches_retried for r in later] == [2, 2, 1]
    assert [r.counts.fetches_pending for r in later] == [3, 1, 0]
    assert [r.counts.quarantine_resolved for r in later] == [2, 2, 1]
