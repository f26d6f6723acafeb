"""One sync per profile at a time, and profiles and accounts side by side.

Runs meet in the simulator: a fault holds one run's request until the other
run has reached a given point, so what the tests assert about concurrency
does not depend on timing.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import redis
from engine_support import (
    GATE,
    LIST,
    SIM,
    active_profiles,
    company_id,
    gate_landing_of,
    newest_first,
    query,
    settings_for,
    snapshot,
    start_worker,
    sync_once,
    wait_for_backends_to_end,
    waiting_backend,
)

from connector.pacing import REDIS_PREFIX
from connector.secrets import Secret
from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from connector.simulator.faults import ApiCall, Fault, Handler
from connector.simulator.wire import Response
from sync import db
from sync.engine import run_sync
from sync.errors import SyncInProgressError
from sync.settings import DotloopSettings, Settings
from sync.tasks import budget_key, build_client, stored_connection

LOOPS = 250
# Long enough for any meeting in these tests to happen on a loaded machine.
MEETING_TIMEOUT = 60.0


def first_list_page(profile_id: int, call: ApiCall) -> bool:
    return (
        call.endpoint == LIST
        and call.params["pid"] == profile_id
        and call.request.param("batch_number") in (None, "1")
        and call.request.param("batch_size") != "1"
    )


class Meeting:
    """Holds each party's first listing request until every party has sent one."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=MEETING_TIMEOUT)
        self.met: list[bool] = []

    def fault(self, is_arrival: Callable[[ApiCall], bool]) -> Fault:
        arrived = threading.Event()

        def fault(call: ApiCall, handler: Handler) -> Response:
            if is_arrival(call) and not arrived.is_set():
                arrived.set()
                try:
                    self.barrier.wait()
                    self.met.append(True)
                except threading.BrokenBarrierError:
                    self.met.append(False)
            return handler()

        return fault


class Hold:
    """Holds the first request a predicate picks until released."""

    def __init__(self, picks: Callable[[ApiCall], bool]) -> None:
        self.picks = picks
        self.holding = threading.Event()
        self.released = threading.Event()

    def __call__(self, call: ApiCall, handler: Handler) -> Response:
        if self.picks(call) and not self.holding.is_set():
            self.holding.set()
            assert self.released.wait(MEETING_TIMEOUT)
        return handler()


def sync_profiles(settings: Settings, *profile_ids: int, **kwargs: Any) -> Any:
    with build_client(settings) as client:
        return run_sync(
            settings, client, trigger="test", profile_ids=profile_ids, **kwargs
        )


def test_a_second_sync_of_a_profile_being_synced_reports_it_busy(
    database_url: str,
) -> None:
    data = generate_brokerage(LOOPS, seed=81)
    company = company_id(data)
    # The first run holds the company profile, waiting to land its first page.
    gated = newest_first(data, company)[0].loop_id
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        with db.connect(settings) as conn:
            db.apply_schema(conn, settings)
        gate_landing_of(settings, gated)
        assert settings.database_url is not None
        with (
            psycopg.connect(settings.database_url.reveal(), autocommit=True) as admin,
            ThreadPoolExecutor(1) as pool,
        ):
            admin.execute("SELECT pg_advisory_lock(%s)", (GATE,))
            running = pool.submit(sync_once, settings)
            waiting_backend(admin)
            try:
                with pytest.raises(SyncInProgressError) as busy:
                    sync_once(settings)
            finally:
                admin.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
            first = running.result(timeout=MEETING_TIMEOUT)

    assert first.status == "succeeded"
    assert f"profile {company} is being synced by run {first.run_id}" in str(busy.value)
    runs = query(
        settings,
        "SELECT run_id, status, profiles_busy, error LIKE '%%being synced by run%%' "
        "FROM {raw}.sync_run ORDER BY run_id",
    )
    assert runs == [(first.run_id, "succeeded", 0, None), (2, "skipped", 1, True)]
    assert query(settings, "SELECT count(*) FROM {raw}.profile_lease") == [(0,)]


def test_a_run_skips_the_busy_profile_and_syncs_the_others(
    database_url: str,
) -> None:
    data = generate_brokerage(LOOPS, seed=82)
    company = company_id(data)
    others = [p["id"] for p in active_profiles(data) if p["id"] != company]
    hold = Hold(lambda call: first_list_page(company, call))
    with Simulator(data, SIM, faults=[hold]) as simulator:
        settings = settings_for(database_url, simulator)
        with ThreadPoolExecutor(1) as pool:
            holder = pool.submit(sync_profiles, settings, company)
            assert hold.holding.wait(MEETING_TIMEOUT)
            try:
                everything = sync_once(settings)
            finally:
                hold.released.set()
            held = holder.result(timeout=MEETING_TIMEOUT)

    assert everything.busy_profiles == (company,)
    assert everything.counts.profiles == len(others)
    assert everything.counts.profiles_busy == 1
    assert (held.status, held.incomplete_profiles) == ("succeeded", ())
    linked = query(settings, "SELECT DISTINCT profile_id FROM {raw}.loop_profile")
    assert {row[0] for row in linked} == {company, *others}


def test_a_lease_left_by_a_killed_worker_is_taken_over(database_url: str) -> None:
    data = generate_brokerage(LOOPS, seed=83)
    company = company_id(data)
    with Simulator(data, SIM) as simulator:
        clean = settings_for(
            database_url, simulator, schema="clean_run", profile_ids=(company,)
        )
        sync_once(clean)
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        # The worker waits at the gate with its second page, holding the lease.
        gate_landing_of_second_page(settings, data, company)
        assert settings.database_url is not None
        with psycopg.connect(settings.database_url.reveal(), autocommit=True) as admin:
            admin.execute("SELECT pg_advisory_lock(%s)", (GATE,))
            worker = start_worker(settings)
            waiting_backend(admin)
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=10) == -signal.SIGKILL
            # Its backend ends once the statement it waits in gives up.
            admin.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
        wait_for_backends_to_end(settings)
        left = query(
            settings,
            "SELECT lease.run_id, run.status FROM {raw}.profile_lease AS lease "
            "JOIN {raw}.sync_run AS run USING (run_id)",
        )

        result = sync_once(settings)

    assert left == [(1, "running")]
    assert (result.status, result.busy_profiles) == ("succeeded", ())
    assert query(settings, "SELECT status FROM {raw}.sync_run WHERE run_id = 1") == [
        ("failed",)
    ]
    assert snapshot(settings) == snapshot(clean)


def test_an_expired_lease_is_taken_over_and_its_hung_run_lands_nothing_more(
    database_url: str,
) -> None:
    data = generate_brokerage(LOOPS, seed=84)
    company = company_id(data)
    # The first run hangs in the request for its second page.
    hold = Hold(
        lambda call: (
            call.endpoint == LIST
            and call.params["pid"] == company
            and call.request.param("batch_number") == "2"
        )
    )
    with Simulator(data, SIM) as simulator:
        clean = settings_for(
            database_url, simulator, schema="clean_run", profile_ids=(company,)
        )
        sync_once(clean)
    with Simulator(data, SIM, faults=[hold]) as simulator:
        settings = settings_for(database_url, simulator, profile_ids=(company,))
        with ThreadPoolExecutor(1) as pool:
            hung = pool.submit(sync_profiles, settings, lease_seconds=2.0)
            assert hold.holding.wait(MEETING_TIMEOUT)
            try:
                wait_until_expired(settings, run_id=1)
                takeover = sync_once(settings)
            finally:
                hold.released.set()
            late = hung.result(timeout=MEETING_TIMEOUT)

    assert (takeover.status, takeover.incomplete_profiles) == ("succeeded", ())
    # The hung run got its page, but its lease had gone: nothing landed.
    assert late.status == "failed"
    assert late.incomplete_profiles == (company,)
    assert late.counts.pages == 1
    assert snapshot(settings) == snapshot(clean)
    assert query(settings, "SELECT count(*) FROM {raw}.profile_lease") == [(0,)]


def test_two_profiles_sync_at_the_same_time(database_url: str) -> None:
    data = generate_brokerage(LOOPS, seed=85)
    first, second = sorted(
        (p["id"] for p in active_profiles(data)),
        key=lambda pid: len(data.listings[pid]),
    )[-2:]
    meeting = Meeting(2)
    faults = [
        meeting.fault(lambda call: first_list_page(first, call)),
        meeting.fault(lambda call: first_list_page(second, call)),
    ]
    with Simulator(data, SIM, faults=faults) as simulator:
        settings = settings_for(database_url, simulator)
        with ThreadPoolExecutor(2) as pool:
            runs = [
                pool.submit(sync_profiles, settings, profile)
                for profile in (first, second)
            ]
            results = [run.result(timeout=MEETING_TIMEOUT * 2) for run in runs]

    assert meeting.met == [True, True]
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    assert [r.incomplete_profiles for r in results] == [(), ()]
    linked = query(
        settings,
        "SELECT profile_id, count(*) FROM {raw}.loop_profile GROUP BY 1 ORDER BY 1",
    )
    assert dict(linked) == {
        first: len(data.listings[first]),
        second: len(data.listings[second]),
    }


def test_two_accounts_sync_at_the_same_time_each_within_its_budget(
    database_url: str, redis_url: str
) -> None:
    brokerages = [generate_brokerage(120, seed=seed) for seed in (86, 87)]
    assert not set(brokerages[0].listings) & set(brokerages[1].listings)
    meeting = Meeting(2)
    with (
        account(brokerages[0], "brokerage-a", meeting) as first,
        account(brokerages[1], "brokerage-b", meeting) as second,
        ThreadPoolExecutor(2) as pool,
    ):
        accounts = [
            dataclasses.replace(
                settings_for(
                    database_url,
                    simulator,
                    client_id=simulator.config.client_id,
                    requests_per_minute=ACCOUNT_BUDGET,
                ),
                redis_url=Secret(redis_url),
            )
            for simulator in (first, second)
        ]
        runs = [pool.submit(sync_once, settings) for settings in accounts]
        results = [run.result(timeout=MEETING_TIMEOUT * 2) for run in runs]
        refused = [sim.stats()["rate_limited"] for sim in (first, second)]

    assert meeting.met == [True, True]
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    assert [r.counts.loops_changed for r in results] == [120, 120]
    assert refused == [0, 0]
    # Each account paced its requests on a budget of its own, kept in Redis.
    budgets = sorted(
        key.decode()
        for key in redis.Redis.from_url(redis_url).scan_iter(f"{REDIS_PREFIX}*")
    )
    assert [key.split(":")[-2] for key in budgets] == ["brokerage-a", "brokerage-b"]


ACCOUNT_BUDGET = 3_000


def account(data: SimulatedData, client_id: str, meeting: Meeting) -> Simulator:
    """A simulator standing for one connected Dotloop account."""
    company = company_id(data)
    config = SimulatorConfig(rate_limit_per_minute=ACCOUNT_BUDGET, client_id=client_id)
    return Simulator(
        data,
        config,
        faults=[meeting.fault(lambda call: first_list_page(company, call))],
    )


def gate_landing_of_second_page(
    settings: Settings, data: SimulatedData, company: int
) -> None:
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
    gate_landing_of(settings, newest_first(data, company)[150].loop_id)


def wait_until_expired(settings: Settings, *, run_id: int) -> None:
    """Until the database's clock has passed the run's lease."""
    deadline = time.monotonic() + MEETING_TIMEOUT
    while time.monotonic() < deadline:
        expired = query(
            settings,
            "SELECT expires_at < now() FROM {raw}.sync_run WHERE run_id = %s",
            run_id,
        )
        if expired == [(True,)]:
            return
        time.sleep(0.1)
    pytest.fail(f"the lease of run {run_id} never expired")


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ("postgresql://a:x@db:5432/one", "postgresql://b:y@db:5432/one", True),
        ("postgresql://a:x@db:5432/one", "postgresql://a:x@db:5432/two", False),
        ("postgresql://a:x@db:5432/one", "postgresql://a:x@other:5432/one", False),
    ],
    ids=["same-connection", "other-database", "other-host"],
)
def test_accounts_connected_by_login_have_a_budget_each(
    first: str, second: str, shared: bool
) -> None:
    # No refresh token configured: `auth login` stored it with the database.
    dotloop = DotloopSettings(client_id="one-app", client_secret=Secret("s"))
    keys = [
        budget_key(dotloop, stored_connection(Settings(database_url=Secret(url))))
        for url in (first, second)
    ]

    assert (keys[0] == keys[1]) == shared
    # The client id, then a digest of where the tokens are: no credentials.
    assert [key.split(":")[0] for key in keys] == ["one-app", "one-app"]
    assert all(len(key.split(":")[1]) == 16 for key in keys)
