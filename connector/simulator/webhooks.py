"""Signed webhook deliveries, sent the way Dotloop sends them.

A delivery is a JSON event naming ids only: `{"eventId", "eventType",
"timestamp", "subscriptionExternalId", "event": {"id", "profileId",
"loopId"}}`, where `event.id` is the resource the event is about (the loop,
or the person of a participant event). It is signed with HMAC-SHA1 under the
subscription's signing key in `X-DOTLOOP-SIGNATURE`, with the send time
(epoch milliseconds) in `X-DOTLOOP-TIMESTAMP`. The scheme says what is
signed: the body ("body") or the timestamp, a dot and the body
("timestamp.body").

Dotloop does not document the payload of LOOP_MERGED; the simulator names the
surviving loop in `loopId` (and `id`) and the merged one in `mergedLoopId`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import time
import uuid
from urllib.parse import urlsplit

import httpx

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-DOTLOOP-SIGNATURE"
TIMESTAMP_HEADER = "X-DOTLOOP-TIMESTAMP"


def event_body(
    event_type: str,
    profile_id: int,
    loop_id: int,
    *,
    event_id: str | None = None,
    merged_loop_id: int | None = None,
    timestamp_ms: int | None = None,
    external_id: str | None = None,
    participant_id: int | None = None,
) -> bytes:
    """The JSON body of one event."""
    event = {
        "id": loop_id if participant_id is None else participant_id,
        "profileId": profile_id,
        "loopId": loop_id,
    }
    if merged_loop_id is not None:
        event["mergedLoopId"] = merged_loop_id
    document: dict[str, object] = {
        "eventId": event_id or str(uuid.uuid4()),
        "eventType": event_type,
        "timestamp": timestamp_ms or int(time.time() * 1000),
    }
    if external_id is not None:
        document["subscriptionExternalId"] = external_id
    document["event"] = event
    return json.dumps(document, separators=(",", ":")).encode()


def is_loopback(url: str) -> bool:
    """Whether url is http(s) on this machine, the only place the simulator sends.

    >>> is_loopback("http://127.0.0.1:8090/x"), is_loopback("https://example.com/")
    (True, False)
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def sign(
    secret: str,
    body: bytes,
    timestamp: str,
    scheme: str = "body",
    encoding: str = "hex",
) -> str:
    """The signature header value for body sent at timestamp.

    >>> sign("s", b"{}", "1", "timestamp.body") == sign("s", b"1.{}", "1")
    True
    """
    if scheme == "body":
        message = body
    elif scheme == "timestamp.body":
        message = timestamp.encode("ascii") + b"." + body
    else:
        raise ValueError(f"unknown signature scheme {scheme!r}")
    digest = hmac.new(secret.encode(), message, hashlib.sha1).digest()
    if encoding == "base64":
        return base64.b64encode(digest).decode("ascii")
    return digest.hex()


def signed_headers(
    secret: str,
    body: bytes,
    *,
    scheme: str = "body",
    timestamp_ms: int | None = None,
    encoding: str = "hex",
) -> dict[str, str]:
    """The headers of a signed delivery of body."""
    timestamp = str(timestamp_ms or int(time.time() * 1000))
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, body, timestamp, scheme, encoding),
        TIMESTAMP_HEADER: timestamp,
    }


def send_event(
    url: str,
    secret: str,
    event_type: str,
    profile_id: int,
    loop_id: int,
    *,
    scheme: str = "body",
    event_id: str | None = None,
    merged_loop_id: int | None = None,
    timestamp_ms: int | None = None,
    encoding: str = "hex",
    timeout: float = 10.0,
) -> httpx.Response:
    """POST one signed event to a receiver on this machine and return its answer."""
    if not is_loopback(url):
        raise ValueError(f"the simulator sends events to 127.0.0.1 only, not {url!r}")
    timestamp_ms = timestamp_ms or int(time.time() * 1000)
    body = event_body(
        event_type,
        profile_id,
        loop_id,
        event_id=event_id,
        merged_loop_id=merged_loop_id,
        timestamp_ms=timestamp_ms,
    )
    headers = signed_headers(
        secret, body, scheme=scheme, timestamp_ms=timestamp_ms, encoding=encoding
    )
    # No proxy from the environment: the receiver is on this machine.
    with httpx.Client(timeout=timeout, trust_env=False) as http:
        response = http.post(url, content=body, headers=headers)
    logger.info(
        "sent %s for loop %d to %s: %d", event_type, loop_id, url, response.status_code
    )
    return response
