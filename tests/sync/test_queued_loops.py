"""One loop sync for an edit that several subscribed profiles report.

The receiver and the worker meet in Redis (the queue itself stays in SQLite
here); the loop's events come from the agent, office and company profiles
that all show it, each delivery with its own event id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from engine_support import SIM, query, settings_for

from connector.secrets import Secret
from connector.simulator import SimulatedData, Simulator, generate_brokerage
from connector.simulator.faults import ApiCall, Fault, Handler
from connector.simulator.webhooks import event_body, send_event, signed_headers
from connector.simulator.wire import Response
from sync import db
from sync.leases import ProfileLeases
from sync.queued_loops import QueuedLoops, RedisQueuedLoops, UnsharedQueuedLoops
from sync.runs import RunDatabase, start_run
from sync.settings import Settings
from sync.tasks import TaskApp, create_app
from sync.webhook_server import WebhookServer, build_receiver
from sync.webhooks import MemorySeenEvents

SECRET = "whsec-queued-loops-7c1d"
DETAIL = "GET /profile/{pid}/loop/{lid}/detail"
JOINED = "queued: joins a waiting loop sync"


@dataclass(frozen=True)
class Setup:
    settings: Settings
    simulator: Simulator
    app: TaskApp
    receiver: WebhookServer

    def report(self, profile_id: int, loop_id: int) -> str:
        """Deliver a LOOP_UPDATED from profile_id; the receiver's status."""
        answer = send_event(
            self.receiver.url, SECRET, "LOOP_UPDATED", profile_id, loop_id
        )
        assert answer.status_code == 202
        status: str = answer.json()["status"]
        return status

    def run_queued(self) -> list[str]:
        names = []
        while (task := self.app.huey.dequeue()) is not None:
            names.append(task.name)
            self.app.huey.execute(task)
        return names

    def loop_requests(self) -> int:
        counts: dict[str, int] = self.simulator.stats()["requests_by_endpoint"]
        return sum(n for endpoint, n in counts.items() if "{lid}" in endpoint)

    def linked_profiles(self, loop_id: int) -> list[int]:
        rows = query(
            self.settings,
            "SELECT profile_id FROM {raw}.loop_profile WHERE loop_id = %s "
            "ORDER BY profile_id",
            loop_id,
        )
        return [int(profile_id) for (profile_id,) in rows]


@pytest.fixture
def brokerage() -> SimulatedData:
    return generate_brokerage(20, seed=11)


@pytest.fixture
def redis_loops(redis_url: str) -> QueuedLoops:
    return RedisQueuedLoops(Secret(redis_url))


@contextmanager
def served(
    database_url: str,
    tmp_path: Path,
    brokerage: SimulatedData,
    queued: QueuedLoops,
    faults: Sequence[Fault] = (),
) -> Iterator[Setup]:
    with Simulator(brokerage, SIM, faults=list(faults)) as simulator:
        settings = replace(
            settings_for(database_url, simulator),
            data_dir=tmp_path,
            webhook_secret=Secret(SECRET),
        )
        with db.connect(settings) as conn:
            db.apply_schema(conn, settings)
        app = create_app(settings, queued)
        receiver = replace(build_receiver(settings, app), seen=MemorySeenEvents())
        with WebhookServer(receiver, port=0) as server:
            yield Setup(settings, simulator, app, server)


def shared_loop(data: SimulatedData) -> tuple[int, list[int]]:
    """A loop that three profiles list, and those profiles."""
    seen: dict[int, list[int]] = {}
    for profile_id, listing in sorted(data.listings.items()):
        for entry in listing.entries:
            if entry.loop_id is not None and isinstance(entry.summary(), dict):
                seen.setdefault(entry.loop_id, []).append(profile_id)
    return next((k, v) for k, v in seen.items() if len(v) == 3)


def test_an_edit_three_profiles_report_is_synced_once_and_linked_to_each(
    database_url: str,
    tmp_path: Path,
    brokerage: SimulatedData,
    redis_loops: QueuedLoops,
) -> None:
    loop_id, profiles = shared_loop(brokerage)

    with served(database_url, tmp_path, brokerage, redis_loops) as setup:
        statuses = [setup.report(profile_id, loop_id) for profile_id in profiles]
        pending = setup.app.huey.pending_count()
        names = setup.run_queued()
        requests = setup.loop_requests()
        links = setup.linked_profiles(loop_id)
        run = query(setup.settings, "SELECT trigger, profiles FROM {raw}.sync_run")

    assert statuses == ["queued", JOINED, JOINED]
    assert (pending, names) == (1, ["sync_loop"])
    # Summary, details and participants once, not once per profile.
    assert requests == 3
    assert links == sorted(profiles)
    assert run == [("webhook", 3)]


def test_an_edit_reported_while_its_loop_is_fetched_queues_a_new_sync(
    database_url: str,
    tmp_path: Path,
    brokerage: SimulatedData,
    redis_loops: QueuedLoops,
) -> None:
    loop_id, profiles = shared_loop(brokerage)
    setups: list[Setup] = []
    during: list[str] = []

    def report_once_during_the_fetch(call: ApiCall, handler: Handler) -> Response:
        if call.endpoint == DETAIL and not during:
            # The summary is fetched already: this edit may be newer than it.
            during.append(setups[0].report(profiles[1], loop_id))
        return handler()

    faults = [report_once_during_the_fetch]
    with served(database_url, tmp_path, brokerage, redis_loops, faults) as setup:
        setups.append(setup)
        first = setup.report(profiles[0], loop_id)
        names = setup.run_queued()
        requests = setup.loop_requests()

    assert (first, during) == ("queued", ["queued"])
    assert names == ["sync_loop", "sync_loop"]
    assert requests == 6


def test_without_redis_each_report_queues_a_sync(
    database_url: str, tmp_path: Path, brokerage: SimulatedData
) -> None:
    loop_id, profiles = shared_loop(brokerage)

    with served(database_url, tmp_path, brokerage, UnsharedQueuedLoops()) as setup:
        statuses = [setup.report(profile_id, loop_id) for profile_id in profiles]
        pending = setup.app.huey.pending_count()

    assert statuses == ["queued"] * 3
    assert pending == 3


def test_a_sync_that_could_not_be_queued_leaves_no_waiting_mark(
    database_url: str,
    tmp_path: Path,
    brokerage: SimulatedData,
    redis_loops: QueuedLoops,
) -> None:
    loop_id, profiles = shared_loop(brokerage)

    def queue_down(*args: Any) -> None:
        raise ConnectionError("the queue is down")

    with served(database_url, tmp_path, brokerage, redis_loops) as setup:
        broken = replace(setup.app, sync_loop=queue_down)
        receivers = [
            replace(build_receiver(setup.settings, app), seen=MemorySeenEvents())
            for app in (broken, setup.app)
        ]
        answers = []
        for receiver in receivers:
            body = event_body("LOOP_UPDATED", profiles[0], loop_id)
            answers.append(receiver.receive(body, signed_headers(SECRET, body)))

    assert [(a.status, a.reason) for a in answers] == [
        (503, "queue unavailable"),
        (202, "queued"),
    ]


def test_a_profile_another_run_holds_is_left_to_its_listing(
    database_url: str,
    tmp_path: Path,
    brokerage: SimulatedData,
    redis_loops: QueuedLoops,
) -> None:
    loop_id, profiles = shared_loop(brokerage)

    with served(database_url, tmp_path, brokerage, redis_loops) as setup:
        for profile_id in profiles:
            setup.report(profile_id, loop_id)
        with RunDatabase(setup.settings) as database:
            schema = setup.settings.raw_schema
            run = start_run(database.conn, schema, "nightly")
            assert ProfileLeases(database, schema, run.run_id).take(profiles[2]) is None
            names = setup.run_queued()
        links = setup.linked_profiles(loop_id)

    assert names == ["sync_loop"]
    assert links == sorted(profiles[:2])
