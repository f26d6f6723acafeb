"""The webhook receiver over a socket, its queue, and the loop sync it starts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from engine_support import SIM, company_id, drop, newest_first, query, settings_for

from connector.secrets import Secret
from connector.simulator import SimulatedData, Simulator, generate_brokerage
from connector.simulator.touch import touch_loop
from connector.simulator.webhooks import event_body, send_event, signed_headers
from sync import db
from sync.errors import ConfigurationError
from sync.loop_sync import sync_loop
from sync.settings import Settings
from sync.tasks import TaskApp, build_client, create_app
from sync.webhook_server import WebhookServer, build_receiver
from sync.webhooks import MemorySeenEvents, RedisSeenEvents, seen_events

SECRET = "whsec-webhooks-test"
# Dotloop gives a receiver 5 s; a sanity bound only, the receiver never waits.
ANSWER_TIMEOUT = 5.0


@pytest.fixture
def brokerage() -> SimulatedData:
    return generate_brokerage(20, seed=11)


@pytest.fixture
def simulator(brokerage: SimulatedData) -> Iterator[Simulator]:
    with Simulator(brokerage, SIM) as sim:
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


def serve(settings: Settings, app: TaskApp, scheme: str = "body") -> WebhookServer:
    receiver = replace(
        build_receiver(settings, app), scheme=scheme, seen=MemorySeenEvents()
    )
    return WebhookServer(receiver, port=0)


@pytest.fixture
def receiver(settings: Settings, app: TaskApp) -> Iterator[WebhookServer]:
    with serve(settings, app) as server:
        yield server


def a_loop(data: SimulatedData) -> tuple[int, int]:
    """(profile id, loop id) of a well-formed loop the company profile shows."""
    profile_id = company_id(data)
    for entry in newest_first(data, profile_id):
        if entry.loop_id is not None and isinstance(entry.summary(), dict):
            return profile_id, entry.loop_id
    raise AssertionError("the brokerage has no well-formed loop")


def served_updated(data: SimulatedData, profile_id: int, loop_id: int) -> str:
    entry = data.listings[profile_id].find(loop_id)
    assert entry is not None
    return str(entry.summary()["updated"])


def stored(settings: Settings, loop_id: int) -> list[tuple[Any, ...]]:
    return query(
        settings,
        "SELECT summary->>'updated', details IS NOT NULL, participants IS NOT NULL, "
        "removed_at IS NULL FROM {raw}.loop WHERE loop_id = %s",
        loop_id,
    )


def run_queued(app: TaskApp) -> list[str]:
    """Run every queued task in this process, as a consumer would; their names."""
    names = []
    while (task := app.huey.dequeue()) is not None:
        names.append(task.name)
        app.huey.execute(task)
    return names


@pytest.mark.parametrize(
    ("scheme", "encoding"),
    [("body", "hex"), ("timestamp.body", "base64")],
)
def test_a_signed_loop_update_lands_the_new_payload(
    settings: Settings,
    app: TaskApp,
    brokerage: SimulatedData,
    scheme: str,
    encoding: str,
) -> None:
    profile_id, loop_id = a_loop(brokerage)
    assert touch_loop(brokerage, loop_id, time.time())

    with serve(settings, app, scheme) as server:
        answer = send_event(
            server.url,
            SECRET,
            "LOOP_UPDATED",
            profile_id,
            loop_id,
            scheme=scheme,
            encoding=encoding,
            timeout=ANSWER_TIMEOUT,
        )

    assert answer.status_code == 202
    assert answer.json() == {"status": "queued"}
    assert stored(settings, loop_id) == []  # queued, not run
    assert run_queued(app) == ["sync_loop"]
    expected = served_updated(brokerage, profile_id, loop_id)
    assert stored(settings, loop_id) == [(expected, True, True, True)]


def test_the_answer_does_not_wait_for_postgres(
    settings: Settings,
    app: TaskApp,
    receiver: WebhookServer,
    brokerage: SimulatedData,
) -> None:
    profile_id, loop_id = a_loop(brokerage)
    assert settings.database_url is not None

    with psycopg.connect(settings.database_url.reveal()) as blocker:
        # Any write to the loop table now waits until this transaction ends.
        blocker.execute("LOCK TABLE dotloop_raw.loop IN ACCESS EXCLUSIVE MODE")
        answer = send_event(
            receiver.url,
            SECRET,
            "LOOP_PARTICIPANT_CREATED",
            profile_id,
            loop_id,
            timeout=ANSWER_TIMEOUT,
        )
        assert answer.status_code == 202
        assert app.huey.pending_count() == 1

    assert run_queued(app) == ["sync_loop"]
    assert len(stored(settings, loop_id)) == 1


def deliver(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url, content=body, headers=headers, timeout=ANSWER_TIMEOUT)


def now_ms() -> int:
    return int(time.time() * 1000)


# (what is wrong, secret signed with, timestamp offset in seconds, reason)
REFUSED = [
    ("wrong secret", "not-the-secret", 0, "signature does not match"),
    ("stale timestamp", SECRET, -600, "timestamp outside the accepted window"),
    ("future timestamp", SECRET, 600, "timestamp outside the accepted window"),
]


@pytest.mark.parametrize(("case", "secret", "offset", "reason"), REFUSED)
def test_a_forged_or_stale_delivery_is_refused(
    app: TaskApp,
    receiver: WebhookServer,
    case: str,
    secret: str,
    offset: int,
    reason: str,
) -> None:
    sent_at = now_ms() + offset * 1000
    body = event_body("LOOP_UPDATED", 1, 2, timestamp_ms=sent_at)
    headers = signed_headers(secret, body, timestamp_ms=sent_at)

    answer = deliver(receiver.url, body, headers)

    assert answer.status_code == 401, case
    assert answer.json() == {"status": reason}
    assert app.huey.pending_count() == 0


def test_a_delivery_without_signature_is_refused(
    app: TaskApp, receiver: WebhookServer
) -> None:
    body = event_body("LOOP_UPDATED", 1, 2)

    answer = deliver(receiver.url, body, {"X-DOTLOOP-TIMESTAMP": str(now_ms())})

    assert answer.status_code == 401
    assert app.huey.pending_count() == 0


def test_a_redelivered_event_is_queued_once(
    app: TaskApp, receiver: WebhookServer, brokerage: SimulatedData
) -> None:
    profile_id, loop_id = a_loop(brokerage)

    answers = [
        send_event(
            receiver.url,
            SECRET,
            "LOOP_UPDATED",
            profile_id,
            loop_id,
            event_id="evt-42",
            timeout=ANSWER_TIMEOUT,
        )
        for _ in range(3)
    ]

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.json()["status"] for a in answers] == [
        "queued",
        "ignored: event already received",
        "ignored: event already received",
    ]
    assert app.huey.pending_count() == 1


def test_receivers_sharing_redis_queue_an_event_once(
    settings: Settings, app: TaskApp, redis_url: str
) -> None:
    # The queue stays in SQLite: only the seen-event cache is under test here.
    shared = replace(settings, redis_url=Secret(redis_url))
    receivers = [
        replace(build_receiver(settings, app), seen=seen_events(shared))
        for _ in range(2)
    ]
    event_id = f"evt-{uuid.uuid4().hex}"

    servers = [WebhookServer(receiver, port=0) for receiver in receivers]
    with servers[0], servers[1]:
        answers = [
            send_event(server.url, SECRET, "LOOP_UPDATED", 1, 2, event_id=event_id)
            for server in servers
        ]

    assert all(isinstance(r.seen, RedisSeenEvents) for r in receivers)
    assert [a.json()["status"] for a in answers] == [
        "queued",
        "ignored: event already received",
    ]
    assert app.huey.pending_count() == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'"LOOP_UPDATED"',
        b'{"eventId": "a", "eventType": "LOOP_UPDATED", "event": {"id": 7}}',
        b'{"eventId": "b", "eventType": "LOOP_MERGED", "event": {"id": 7}}',
    ],
)
def test_a_malformed_event_is_a_bad_request(
    app: TaskApp, receiver: WebhookServer, body: bytes
) -> None:
    answer = deliver(receiver.url, body, signed_headers(SECRET, body))

    assert answer.status_code == 400
    assert app.huey.pending_count() == 0


def test_an_unknown_event_type_is_accepted_and_ignored(
    app: TaskApp, receiver: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="sync.webhook_server"):
        answer = send_event(receiver.url, SECRET, "CONTACT_CREATED", 1, 2)

    assert answer.status_code == 202
    assert answer.json() == {"status": "ignored: event type not used"}
    assert app.huey.pending_count() == 0
    assert "CONTACT_CREATED ignored" in caplog.text
    assert SECRET not in caplog.text


def test_a_merge_marks_the_old_loop_and_syncs_the_new_one(
    settings: Settings,
    app: TaskApp,
    receiver: WebhookServer,
    brokerage: SimulatedData,
) -> None:
    profile_id, loop_id = a_loop(brokerage)
    old_id = 990_001

    answer = send_event(
        receiver.url,
        SECRET,
        "LOOP_MERGED",
        profile_id,
        loop_id,
        merged_loop_id=old_id,
    )

    assert answer.status_code == 202
    assert sorted(run_queued(app)) == ["merge_loops", "sync_loop"]
    merges = query(settings, "SELECT loop_id, merged_into FROM {raw}.loop_merge")
    assert merges == [(old_id, loop_id)]
    assert len(stored(settings, loop_id)) == 1


def test_a_loop_that_answers_404_is_removed_from_the_profile(
    settings: Settings, brokerage: SimulatedData
) -> None:
    profile_id, loop_id = a_loop(brokerage)
    with build_client(settings) as client:
        assert sync_loop(settings, client, profile_id, loop_id) == "landed"
        drop(brokerage, [loop_id])
        assert sync_loop(settings, client, profile_id, loop_id) == "removed"

    links = query(
        settings,
        "SELECT removed_at IS NOT NULL FROM {raw}.loop_profile "
        "WHERE loop_id = %s AND profile_id = %s",
        loop_id,
        profile_id,
    )
    assert links == [(True,)]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/healthz", 200), ("GET", "/nope", 404), ("POST", "/other", 404)],
)
def test_health_and_unknown_paths(
    receiver: WebhookServer, method: str, path: str, status: int
) -> None:
    base = receiver.url.removesuffix("/webhooks/dotloop")

    answer = httpx.request(method, base + path, content=b"{}", timeout=5)

    assert answer.status_code == status


def test_serving_needs_a_webhook_secret(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="DOTLOOP_WEBHOOK_SECRET"):
        build_receiver(replace(settings, webhook_secret=None))
