"""A webhook receiver for the simulator tests: records deliveries, answers on cue.

It listens on 127.0.0.1, keeps every delivery (headers and body) and answers
each with the next status of its script (202 once the script runs out), so a
test can make the simulator retry; given `hold`, it answers only once that
event is set. `wait_for(n)` blocks until n deliveries came; it waits on an
event, it does not time anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from connector.simulator import Simulator

PATH = "/webhooks/dotloop"
# Long enough for any machine; a delivery that never comes fails the test.
PATIENCE = 30.0


@dataclass(frozen=True)
class Received:
    """One delivery as the receiver got it."""

    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document

    def signed_with(self, key: str) -> bool:
        """Whether X-DOTLOOP-SIGNATURE is the HMAC-SHA1 of the body under key."""
        expected = hmac.new(key.encode(), self.body, hashlib.sha1).hexdigest()
        return hmac.compare_digest(
            expected, self.headers.get("x-dotloop-signature", "")
        )


class Receiver:
    """An HTTP server on a free port of 127.0.0.1; a context manager."""

    def __init__(
        self, statuses: Iterable[int] = (), hold: threading.Event | None = None
    ) -> None:
        self.received: list[Received] = []
        self._statuses = list(statuses)
        self._hold = hold
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH}"

    def wait_for(self, count: int) -> list[Received]:
        """The first `count` deliveries, once they came."""
        with self._changed:
            arrived = self._changed.wait_for(
                lambda: len(self.received) >= count, PATIENCE
            )
            assert arrived, f"{len(self.received)} deliveries came, not {count}"
            return self.received[:count]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        with self._changed:
            self.received.append(Received(headers, body))
            status = self._statuses.pop(0) if self._statuses else 202
            self._changed.notify_all()
            return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._record(headers, body)
                if receiver._hold is not None:
                    receiver._hold.wait(PATIENCE)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def api_client(simulator: Simulator) -> httpx.Client:
    """An httpx client holding a fresh access token for the simulated user."""
    token = httpx.post(
        f"{simulator.auth_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
        auth=("sim-client", "sim-secret"),
        timeout=10,
    ).json()["access_token"]
    return httpx.Client(
        base_url=simulator.base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def subscription_body(url: str, profile_id: int, **fields: Any) -> dict[str, Any]:
    """A valid creation body for a PROFILE subscription, fields overriding."""
    body: dict[str, Any] = {
        "url": url,
        "targetType": "PROFILE",
        "targetId": profile_id,
        "eventTypes": ["LOOP_UPDATED", "LOOP_MERGED"],
        "signingKey": "sim-signing-key",
        "externalId": "tests",
    }
    body.update(fields)
    return body
