"""Webhook signature checks, event parsing and the seen-event caches."""

from __future__ import annotations

import base64
import doctest
import hashlib
import hmac
from types import ModuleType

import pytest

import connector.simulator.webhooks
import sync.webhooks
from connector.secrets import Secret
from connector.simulator.webhooks import event_body, sign
from sync.errors import ConfigurationError
from sync.settings import load_settings
from sync.webhooks import (
    MalformedEvent,
    MemorySeenEvents,
    RedisSeenEvents,
    RejectedDelivery,
    WebhookEvent,
    parse_event,
    verify_delivery,
)

SECRET = "whsec-test"
BODY = b'{"eventId":"e1","eventType":"LOOP_UPDATED","event":{"id":7,"profileId":3}}'
NOW = 1_700_000_000.0
NOW_MS = str(int(NOW * 1000))


def digest(message: bytes) -> bytes:
    return hmac.new(SECRET.encode(), message, hashlib.sha1).digest()


# (scheme, timestamp header, signature header)
ACCEPTED = [
    ("body", NOW_MS, digest(BODY).hex()),
    ("body", NOW_MS, digest(BODY).hex().upper()),
    ("body", NOW_MS, "sha1=" + digest(BODY).hex()),
    ("body", NOW_MS, base64.b64encode(digest(BODY)).decode()),
    ("body", str(int(NOW)), digest(BODY).hex()),
    ("body", str(int(NOW) - 299), digest(BODY).hex()),
    ("timestamp.body", NOW_MS, digest(NOW_MS.encode() + b"." + BODY).hex()),
    (
        "timestamp.body",
        NOW_MS,
        base64.b64encode(digest(NOW_MS.encode() + b"." + BODY)).decode(),
    ),
]


@pytest.mark.parametrize(("scheme", "timestamp", "signature"), ACCEPTED)
def test_a_valid_signature_is_accepted(
    scheme: str, timestamp: str, signature: str
) -> None:
    verify_delivery(Secret(SECRET), BODY, signature, timestamp, scheme=scheme, now=NOW)


# (scheme, timestamp header, signature header, reason)
REFUSED = [
    ("body", NOW_MS, None, "missing X-DOTLOOP-SIGNATURE"),
    ("body", None, digest(BODY).hex(), "missing X-DOTLOOP-TIMESTAMP"),
    ("body", "yesterday", digest(BODY).hex(), "not a number"),
    ("body", str(int(NOW) - 301), digest(BODY).hex(), "window"),
    ("body", str(int(NOW) + 301), digest(BODY).hex(), "window"),
    ("body", NOW_MS, digest(BODY + b" ").hex(), "does not match"),
    ("body", NOW_MS, "not a signature at all!", "does not match"),
    ("body", NOW_MS, digest(NOW_MS.encode() + b"." + BODY).hex(), "does not match"),
    ("timestamp.body", NOW_MS, digest(BODY).hex(), "does not match"),
    (
        "timestamp.body",
        str(int(NOW_MS) - 1),
        digest(NOW_MS.encode() + b"." + BODY).hex(),
        "does not match",
    ),
]


@pytest.mark.parametrize(("scheme", "timestamp", "signature", "reason"), REFUSED)
def test_a_bad_or_stale_delivery_is_refused(
    scheme: str, timestamp: str | None, signature: str | None, reason: str
) -> None:
    with pytest.raises(RejectedDelivery, match=reason):
        verify_delivery(
            Secret(SECRET), BODY, signature, timestamp, scheme=scheme, now=NOW
        )


@pytest.mark.parametrize("scheme", ["body", "timestamp.body"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_the_simulator_signs_as_the_receiver_verifies(
    scheme: str, encoding: str
) -> None:
    signature = sign(SECRET, BODY, NOW_MS, scheme, encoding)

    verify_delivery(Secret(SECRET), BODY, signature, NOW_MS, scheme=scheme, now=NOW)
    with pytest.raises(RejectedDelivery):
        verify_delivery(Secret("other"), BODY, signature, NOW_MS, scheme=scheme)


# (body, event)
EVENTS = [
    (
        event_body("LOOP_UPDATED", 3, 7, event_id="a"),
        WebhookEvent("a", "LOOP_UPDATED", 3, 7),
    ),
    (
        event_body("LOOP_MERGED", 3, 7, event_id="b", merged_loop_id=5),
        WebhookEvent("b", "LOOP_MERGED", 3, 7, 5),
    ),
    (
        b'{"eventId": 12, "eventType": "LOOP_CREATED", "profileId": "3", '
        b'"loopId": "7"}',
        WebhookEvent("12", "LOOP_CREATED", 3, 7),
    ),
    (
        b'{"eventId": "c", "eventType": "CONTACT_CREATED", "event": {"id": 9}}',
        WebhookEvent("c", "CONTACT_CREATED", None, 9),
    ),
]


@pytest.mark.parametrize(("body", "event"), EVENTS)
def test_an_event_names_its_ids(body: bytes, event: WebhookEvent) -> None:
    assert parse_event(body) == event


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"eventType": "LOOP_UPDATED"}',
        b'{"eventId": "a", "eventType": 5}',
        b'{"eventId": "a", "eventType": "LOOP_UPDATED", "event": {"id": "x7"}}',
    ],
)
def test_a_malformed_event_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(body)


def test_memory_cache_remembers_an_id_until_it_expires() -> None:
    now = [0.0]
    seen = MemorySeenEvents(ttl_seconds=10, clock=lambda: now[0])

    assert seen.first_time("a")
    assert not seen.first_time("a")
    now[0] = 11.0
    assert seen.first_time("a")
    seen.forget("a")
    assert seen.first_time("a")


def test_memory_cache_stays_bounded() -> None:
    seen = MemorySeenEvents(max_size=2)

    for event_id in ("a", "b", "c"):
        assert seen.first_time(event_id)

    assert seen.first_time("a")  # the oldest made room


def test_redis_cache_is_shared_between_receivers(redis_url: str) -> None:
    first = RedisSeenEvents(Secret(redis_url), ttl_seconds=60)
    second = RedisSeenEvents(Secret(redis_url), ttl_seconds=60)

    assert first.first_time("event-1")
    assert not second.first_time("event-1")
    second.forget("event-1")
    assert first.first_time("event-1")


@pytest.mark.parametrize(
    ("environ", "scheme"),
    [
        ({}, "body"),
        ({"DOTLOOP_WEBHOOK_SIGNATURE_SCHEME": "timestamp.body"}, "timestamp.body"),
    ],
)
def test_the_signature_scheme_is_a_setting(
    environ: dict[str, str], scheme: str
) -> None:
    settings = load_settings({"DOTLOOP_WEBHOOK_SECRET": "hush-value", **environ})

    assert settings.webhook_signature_scheme == scheme
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.reveal() == "hush-value"
    assert "hush-value" not in repr(settings)


def test_an_unknown_signature_scheme_fails_at_start() -> None:
    with pytest.raises(ConfigurationError, match="SIGNATURE_SCHEME"):
        load_settings({"DOTLOOP_WEBHOOK_SIGNATURE_SCHEME": "sha256"})


@pytest.mark.parametrize("module", [sync.webhooks, connector.simulator.webhooks])
def test_the_examples_in_docstrings_hold(module: ModuleType) -> None:
    failures, attempted = doctest.testmod(module)

    assert attempted > 0
    assert failures == 0
