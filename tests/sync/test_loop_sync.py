"""A loop synced alone (the work a webhook queues) under its profile's lease.

A run holding the profile stands for a full sync; the tests meet it through
the lease table and a simulator fault that holds one request, never through
timing.
"""

from __future__ import annotations

import doctest
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_support import SIM, company_id, newest_first, query, settings_for, sync_once

import sync.loop_sync
from connector.simulator import SimulatedData, Simulator, generate_brokerage
from connector.simulator.faults import ApiCall, Handler
from connector.simulator.wire import Response
from sync import db
from sync.errors import SyncInProgressError
from sync.leases import ProfileLeases
from sync.loop_sync import sync_loop
from sync.runs import RunCounts, RunDatabase, finish_run, start_run
from sync.settings import Settings
from sync.tasks import (
    BUSY_LOOP_DELAY_SECONDS,
    BUSY_REFRESH_DELAY_SECONDS,
    TaskApp,
    build_client,
    create_app,
)
from sync.views import apply_views
from sync.views.refresh import LOCK_KEY

DETAIL = "GET /profile/{pid}/loop/{lid}/detail"
# Long enough for any machine: waiting on an event, never timing it.
PATIENCE = 30.0


@pytest.fixture
def brokerage() -> SimulatedData:
    return generate_brokerage(20, seed=11)


def settings_of(database_url: str, simulator: Simulator, tmp_path: Path) -> Settings:
    settings = replace(settings_for(database_url, simulator), data_dir=tmp_path)
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
    return settings


@pytest.fixture
def simulator(brokerage: SimulatedData) -> Iterator[Simulator]:
    with Simulator(brokerage, SIM) as sim:
        yield sim


@pytest.fixture
def settings(database_url: str, simulator: Simulator, tmp_path: Path) -> Settings:
    return settings_of(database_url, simulator, tmp_path)


def a_loop(data: SimulatedData) -> tuple[int, int]:
    """(profile id, loop id) of a well-formed loop the company profile shows."""
    profile_id = company_id(data)
    for entry in newest_first(data, profile_id):
        if entry.loop_id is not None and isinstance(entry.summary(), dict):
            return profile_id, entry.loop_id
    raise AssertionError("the brokerage has no well-formed loop")


@contextmanager
def held_by_a_run(settings: Settings, profile_id: int) -> Iterator[int]:
    """The profile's lease held by a live run, as a full sync holds it."""
    schema = settings.raw_schema
    with RunDatabase(settings) as database:
        run = start_run(database.conn, schema, "nightly")
        leases = ProfileLeases(database, schema, run.run_id)
        assert leases.take(profile_id) is None
        try:
            yield run.run_id
        finally:
            database.transact(
                lambda conn: finish_run(
                    conn, schema, run.run_id, RunCounts(), status="succeeded"
                )
            )


def loop_requests(simulator: Simulator) -> int:
    counts: dict[str, int] = simulator.stats()["requests_by_endpoint"]
    return sum(n for endpoint, n in counts.items() if "{lid}" in endpoint)


def stored_updated(settings: Settings, loop_id: int) -> list[tuple[Any, ...]]:
    text = "SELECT summary->>'updated' FROM {raw}.loop WHERE loop_id = %s"
    return query(settings, text, loop_id)


def runs(settings: Settings) -> list[tuple[Any, ...]]:
    return query(
        settings,
        "SELECT trigger, status, profiles, loops_seen, requests "
        "FROM {raw}.sync_run ORDER BY run_id",
    )


def test_a_loop_sync_fetches_nothing_while_a_run_holds_its_profile(
    settings: Settings, simulator: Simulator, brokerage: SimulatedData
) -> None:
    profile_id, loop_id = a_loop(brokerage)

    with held_by_a_run(settings, profile_id), build_client(settings) as client:
        busy = sync_loop(settings, client, profile_id, loop_id)
        requests_while_busy = loop_requests(simulator)
        stored_while_busy = stored_updated(settings, loop_id)
    with build_client(settings) as client:
        after = sync_loop(settings, client, profile_id, loop_id)

    assert (busy, requests_while_busy, stored_while_busy) == ("busy", 0, [])
    assert after == "landed"
    assert len(stored_updated(settings, loop_id)) == 1
    # A busy profile costs no run row; the loop sync is a run of its own.
    assert runs(settings) == [
        ("nightly", "succeeded", 0, 0, 0),
        ("webhook", "succeeded", 1, 1, 3),
    ]


def run_queued(app: TaskApp) -> list[str]:
    names = []
    while (task := app.huey.dequeue()) is not None:
        names.append(task.name)
        app.huey.execute(task)
    return names


def run_due(app: TaskApp, delay_seconds: float) -> Any:
    """Run the one task Huey has scheduled, as it would once the delay is past."""
    when = datetime.now(UTC).replace(tzinfo=None) + timedelta(
        seconds=delay_seconds + 60
    )
    (due,) = app.huey.read_schedule(when)
    app.huey.execute(due, when)
    return due


def test_a_busy_loop_sync_is_queued_again_and_lands_after_the_run(
    settings: Settings, simulator: Simulator, brokerage: SimulatedData
) -> None:
    app = create_app(settings)
    profile_id, loop_id = a_loop(brokerage)

    with held_by_a_run(settings, profile_id):
        app.sync_loop(profile_id, loop_id)
        names = run_queued(app)
    (again,) = app.huey.scheduled()
    requests_before = loop_requests(simulator)
    stored_before = stored_updated(settings, loop_id)
    run_due(app, BUSY_LOOP_DELAY_SECONDS)

    # The second is the sync put off: not due yet, so it goes to the schedule.
    assert names == ["sync_loop", "sync_loop"]
    assert (again.name, again.args) == ("sync_loop", (profile_id, loop_id))
    assert (requests_before, stored_before) == (0, [])
    assert len(stored_updated(settings, loop_id)) == 1
    assert loop_requests(simulator) == 3


def reporting_loops(settings: Settings, loop_id: int) -> list[tuple[Any, ...]]:
    return query(
        settings, "SELECT loop_id FROM reporting.loops WHERE loop_id = %s", loop_id
    )


@pytest.fixture
def reporting(settings: Settings) -> Settings:
    """The settings, with the reporting tables applied (and empty)."""
    with db.connect(settings) as conn:
        apply_views(conn, settings)
    return settings


def test_a_queued_loop_sync_shows_the_loop_in_the_fast_tables(
    reporting: Settings, brokerage: SimulatedData
) -> None:
    settings = reporting
    app = create_app(settings)
    profile_id, loop_id = a_loop(brokerage)
    before = reporting_loops(settings, loop_id)

    app.sync_loop(profile_id, loop_id)
    names = run_queued(app)

    assert (before, names) == ([], ["sync_loop"])
    assert reporting_loops(settings, loop_id) == [(loop_id,)]


def test_a_loop_sync_puts_its_refresh_off_while_another_refresh_runs(
    reporting: Settings, brokerage: SimulatedData
) -> None:
    settings = reporting
    app = create_app(settings)
    profile_id, loop_id = a_loop(brokerage)

    # A nightly refresh still at work: it holds the refresh lock.
    with db.connect(settings) as other, other.transaction():
        other.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,))
        app.sync_loop(profile_id, loop_id)
        names = run_queued(app)
        while_held = reporting_loops(settings, loop_id)
    later = run_due(app, BUSY_REFRESH_DELAY_SECONDS)

    # The refresh put off goes to Huey's schedule: not due yet.
    assert (names, while_held) == (["sync_loop", "refresh_reporting"], [])
    assert later.name == "refresh_reporting"
    assert reporting_loops(settings, loop_id) == [(loop_id,)]


def test_a_full_sync_skips_the_profile_a_loop_sync_holds(
    database_url: str, tmp_path: Path, brokerage: SimulatedData
) -> None:
    profile_id, loop_id = a_loop(brokerage)
    reached, proceed = threading.Event(), threading.Event()

    def hold_details(call: ApiCall, handler: Handler) -> Response:
        if call.endpoint == DETAIL and call.params["lid"] == loop_id:
            reached.set()
            assert proceed.wait(PATIENCE)
        return handler()

    with Simulator(brokerage, SIM, faults=[hold_details]) as sim:
        settings = settings_of(database_url, sim, tmp_path)
        with ThreadPoolExecutor(1) as pool, build_client(settings) as client:
            loop_sync = pool.submit(sync_loop, settings, client, profile_id, loop_id)
            assert reached.wait(PATIENCE)
            try:
                with pytest.raises(SyncInProgressError, match="webhook"):
                    sync_once(settings, profile_ids=[profile_id])
            finally:
                proceed.set()
            outcome = loop_sync.result(PATIENCE)

    assert outcome == "landed"
    assert [row[:2] for row in runs(settings)] == [
        ("webhook", "succeeded"),
        ("test", "skipped"),
    ]


def test_freshness_reports_the_latest_sync_not_a_later_loop_sync(
    settings: Settings, brokerage: SimulatedData
) -> None:
    profile_id, loop_id = a_loop(brokerage)
    full = sync_once(settings)
    with build_client(settings) as client:
        assert sync_loop(settings, client, profile_id, loop_id) == "landed"
    with db.connect(settings) as conn:
        apply_views(conn, settings)

    latest = query(
        settings,
        "SELECT DISTINCT latest_run_id, latest_run_status "
        "FROM reporting.sync_freshness",
    )
    assert latest == [(full.run_id, "succeeded")]
    assert runs(settings)[-1][:2] == ("webhook", "succeeded")


def test_the_examples_in_docstrings_hold() -> None:
    failures, attempted = doctest.testmod(sync.loop_sync)

    assert attempted > 0
    assert failures == 0
