"""Dotloop (the simulator) tells the receiver of edits; the replica follows.

The simulator delivers signed events for the loops it edits to the receiver
that `webhooks subscribe` registered; the receiver queues a sync of just that
loop (or the merge), and running the queue lands it. A loop synced alone
lands exactly as the listing landed it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_support import SIM, company_id, query, settings_for, sync_once

import sync.cli
from connector.secrets import Secret
from connector.simulator import SimulatedData, Simulator, generate_brokerage
from connector.simulator.faults import ApiCall, Handler
from connector.simulator.wire import Response, error_response
from sync import db
from sync.loop_sync import sync_loop
from sync.settings import Settings
from sync.tasks import TaskApp, build_client, create_app
from sync.webhook_server import WebhookServer, build_receiver
from sync.webhook_subscriptions import subscribe
from sync.webhooks import MemorySeenEvents

SECRET = "whsec-end-to-end-5e2a"
# Long enough for any machine: waiting on an event, never timing it.
PATIENCE = 30.0
DETAIL = "GET /profile/{pid}/loop/{lid}/detail"
# Deliveries that fail are tried again at once rather than in 30 s.
CONFIG = replace(SIM, webhook_retry_delays=(0.01, 0.01))


@pytest.fixture
def brokerage() -> SimulatedData:
    return generate_brokerage(30, seed=21)


@pytest.fixture
def simulator(brokerage: SimulatedData) -> Iterator[Simulator]:
    with Simulator(brokerage, CONFIG) as sim:
        yield sim


@pytest.fixture
def settings(database_url: str, simulator: Simulator, tmp_path: Path) -> Settings:
    base = settings_for(database_url, simulator)
    settings = replace(base, data_dir=tmp_path, webhook_secret=Secret(SECRET))
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
    return settings


@pytest.fixture
def app(settings: Settings) -> TaskApp:
    return create_app(settings)


@pytest.fixture
def receiver(settings: Settings, app: TaskApp) -> Iterator[WebhookServer]:
    built = replace(build_receiver(settings, app), seen=MemorySeenEvents())
    with WebhookServer(built, port=0) as server:
        yield server


def run_queued(app: TaskApp) -> list[str]:
    """Run every queued task here, as a worker would; their names."""
    names = []
    while (task := app.huey.dequeue()) is not None:
        names.append(task.name)
        app.huey.execute(task)
    return names


def listed_loops(brokerage: SimulatedData, profile_id: int, count: int) -> list[int]:
    ids = [e.loop_id for e in brokerage.listings[profile_id].entries[:count]]
    assert None not in ids
    return [int(i) for i in ids if i is not None]


def subscribed(settings: Settings, url: str, profile_id: int) -> None:
    with build_client(settings) as client:
        subscribe(settings, client, url, [profile_id])


def delivered(simulator: Simulator) -> dict[str, int]:
    assert simulator.app.webhooks.wait_idle(PATIENCE)
    counts: dict[str, int] = simulator.stats()["webhook_deliveries"]
    return counts


def served(brokerage: SimulatedData, profile_id: int, loop_id: int) -> Any:
    entry = brokerage.listings[profile_id].find(loop_id)
    assert entry is not None
    return entry.summary()


def stored_loop(settings: Settings, loop_id: int) -> tuple[Any, ...]:
    (row,) = query(
        settings,
        "SELECT summary, details, participants, removed_at IS NULL, fetched_at "
        "FROM {raw}.loop WHERE loop_id = %s",
        loop_id,
    )
    return row


def requests(simulator: Simulator) -> dict[str, int]:
    counts: dict[str, int] = simulator.stats()["requests_by_endpoint"]
    return dict(counts)


def test_an_edit_in_dotloop_reaches_the_replica_through_one_loop_sync(
    settings: Settings,
    app: TaskApp,
    receiver: WebhookServer,
    simulator: Simulator,
    brokerage: SimulatedData,
) -> None:
    profile_id = company_id(brokerage)
    (loop_id,) = listed_loops(brokerage, profile_id, 1)
    sync_once(settings)
    subscribed(settings, receiver.url, profile_id)
    before = requests(simulator)

    edit = httpx.post(f"{simulator.admin_url}/loop/{loop_id}/update", timeout=10)
    counts = delivered(simulator)
    queued = app.huey.pending_count()
    names = run_queued(app)

    spent = {
        endpoint: n - before.get(endpoint, 0)
        for endpoint, n in requests(simulator).items()
        if n != before.get(endpoint, 0)
    }
    assert edit.status_code == 200
    assert counts == {"delivered": 1}
    assert (queued, names) == (1, ["sync_loop"])
    assert stored_loop(settings, loop_id)[0] == served(brokerage, profile_id, loop_id)
    # Just that loop: its summary, details and participants, no listing.
    assert spent == {
        "GET /profile/{pid}/loop/{lid}": 1,
        DETAIL: 1,
        "GET /profile/{pid}/loop/{lid}/participant": 1,
    }


def test_a_merge_in_dotloop_marks_the_loop_merged_into_its_survivor(
    settings: Settings,
    app: TaskApp,
    receiver: WebhookServer,
    simulator: Simulator,
    brokerage: SimulatedData,
) -> None:
    profile_id = company_id(brokerage)
    old_id, new_id = listed_loops(brokerage, profile_id, 2)
    sync_once(settings)
    subscribed(settings, receiver.url, profile_id)

    httpx.post(f"{simulator.admin_url}/loop/{old_id}/merge/{new_id}", timeout=10)
    counts = delivered(simulator)
    names = run_queued(app)

    assert counts == {"delivered": 1}
    assert sorted(names) == ["merge_loops", "sync_loop"]
    merges = query(settings, "SELECT loop_id, merged_into FROM {raw}.loop_merge")
    assert merges == [(old_id, new_id)]
    assert stored_loop(settings, old_id)[3] is False
    survivor = stored_loop(settings, new_id)
    assert survivor[0] == served(brokerage, profile_id, new_id)
    assert survivor[3] is True


def test_a_loop_synced_alone_lands_as_the_listing_landed_it(
    settings: Settings, simulator: Simulator, brokerage: SimulatedData
) -> None:
    profile_id = company_id(brokerage)
    loop_ids = listed_loops(brokerage, profile_id, 5)
    sync_once(settings)
    history = "SELECT count(*) FROM {raw}.payload_version"
    listed = {loop_id: stored_loop(settings, loop_id) for loop_id in loop_ids}
    (payloads,) = query(settings, history)

    with build_client(settings) as client:
        outcomes = [sync_loop(settings, client, profile_id, i) for i in loop_ids]
        single = client.loop(profile_id, loop_ids[0])

    assert outcomes == ["landed"] * 5
    # Nothing differs, so nothing is rewritten: no new version, same fetched_at.
    assert {i: stored_loop(settings, i) for i in loop_ids} == listed
    assert query(settings, history) == [payloads]
    assert single == served(brokerage, profile_id, loop_ids[0])


def test_missing_details_leave_the_loop_and_its_stored_details(
    database_url: str, tmp_path: Path, brokerage: SimulatedData
) -> None:
    profile_id = company_id(brokerage)
    (loop_id,) = listed_loops(brokerage, profile_id, 1)

    def no_details(call: ApiCall, handler: Handler) -> Response:
        if call.endpoint == DETAIL:
            return error_response(404, "not_found", "no details")
        return handler()

    with Simulator(brokerage, CONFIG, faults=[no_details]) as sim:
        settings = replace(settings_for(database_url, sim), data_dir=tmp_path)
        sync_once(settings)
        details = stored_loop(settings, loop_id)[1]
        sim.app.changes.update(loop_id)
        with build_client(settings) as client:
            outcome = sync_loop(settings, client, profile_id, loop_id)

    summary, after, _, live, _ = stored_loop(settings, loop_id)
    assert outcome == "landed"
    assert live is True
    assert after == details is not None
    assert summary == served(brokerage, profile_id, loop_id)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served_receiver(settings: Settings, simulator: Simulator) -> Iterator[str]:
    """`dotloop-reporter webhooks serve` in its own process; its URL."""
    assert settings.database_url is not None
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DOTLOOP_", "REDIS_", "DATABASE_"))
    }
    env.update(
        DATABASE_URL=settings.database_url.reveal(),
        DOTLOOP_REPORTER_DATA_DIR=str(settings.data_dir),
        DOTLOOP_WEBHOOK_SECRET=SECRET,
    )
    command = [sys.executable, "-m", "sync.cli", "webhooks", "serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process)
        yield f"{base}/webhooks/dotloop"
    finally:
        process.terminate()
        process.wait(timeout=PATIENCE)


def wait_until_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        assert process.poll() is None, "webhooks serve exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("webhooks serve never answered")


def test_the_served_receiver_queues_what_the_simulator_delivers(
    settings: Settings,
    app: TaskApp,
    served_receiver: str,
    simulator: Simulator,
    brokerage: SimulatedData,
) -> None:
    profile_id = company_id(brokerage)
    (loop_id,) = listed_loops(brokerage, profile_id, 1)
    subscribed(settings, served_receiver, profile_id)

    httpx.post(f"{simulator.admin_url}/loop/{loop_id}/participant", timeout=10)
    counts = delivered(simulator)
    names = run_queued(app)

    # The participant event and the loop update each queue a sync.
    assert counts == {"delivered": 2}
    assert names == ["sync_loop", "sync_loop"]
    summary, _, participants, live, _ = stored_loop(settings, loop_id)
    assert live is True
    assert summary == served(brokerage, profile_id, loop_id)
    assert participants[-1]["fullName"].startswith("Pat Newcomer")


@pytest.fixture
def cli_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DOTLOOP_", "REDIS_", "DATABASE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DOTLOOP_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("DOTLOOP_REPORTER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(sync.cli, "configure_logging", lambda level: None)


@pytest.mark.usefixtures("cli_environment")
def test_an_event_sent_by_hand_is_verified_and_queued(
    app: TaskApp,
    receiver: WebhookServer,
    brokerage: SimulatedData,
    capsys: pytest.CaptureFixture[str],
) -> None:
    profile_id = company_id(brokerage)
    (loop_id,) = listed_loops(brokerage, profile_id, 1)
    ids = ["--loop-id", str(loop_id), "--profile-id", str(profile_id)]

    sent = sync.cli.main(["simulator", "send-event", *ids, "--url", receiver.url])
    printed = capsys.readouterr().out
    elsewhere = sync.cli.main(
        ["simulator", "send-event", *ids, "--url", "http://192.0.2.1/hooks"]
    )

    assert sent == 0
    assert printed.startswith("202")
    assert "queued" in printed
    assert elsewhere == 2
    assert app.huey.pending_count() == 1
    assert SECRET not in printed + capsys.readouterr().err
