"""A scripted stand-in for Dotloop's API and token endpoint on a real socket."""

from __future__ import annotations

import base64
import functools
import itertools
import json
import secrets
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

API_PREFIX = "/public/v2"
TOKEN_PATH = "/oauth/token"


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def json_reply(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Reply:
    return Reply(status, json.dumps(payload).encode(), dict(headers or {}))


@dataclass(frozen=True)
class Seen:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class FakeDotloop:
    """Answers scripted replies per path; issues and checks bearer tokens itself.

    API paths are given without the `/public/v2` prefix (the token endpoint as
    `/oauth/token`). A path's queued replies (`script`) go first, then its
    standing reply (`serve`), else 404.
    """

    client_id = "fake-client"
    client_secret = "fake-secret-9f3b1c7e"

    def __init__(self, *, rotate_refresh_token: bool = False) -> None:
        self.refresh_token = "fake-refresh-" + secrets.token_hex(8)
        self.rotate_refresh_token = rotate_refresh_token
        self.expires_in: Any = 43200
        self.requests: list[Seen] = []
        self.issued: list[str] = []
        self._valid: set[str] = set()
        self._queued: dict[str, deque[Reply]] = defaultdict(deque)
        self._standing: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oauth"

    def __enter__(self) -> FakeDotloop:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._queued[path].extend(replies)

    def serve(self, path: str, reply: Reply) -> None:
        with self._lock:
            self._standing[path] = reply

    def expire_tokens(self) -> None:
        with self._lock:
            self._valid.clear()

    def api_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path.startswith(API_PREFIX)]

    def token_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path == TOKEN_PATH]

    def answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            if seen.path == TOKEN_PATH:
                queued = self._queued.get(TOKEN_PATH)
                return queued.popleft() if queued else self._token(seen)
            if not self._authorised(seen):
                return json_reply({"error": "invalid_token"}, 401)
            path = seen.path.removeprefix(API_PREFIX)
            queued = self._queued.get(path)
            if queued:
                return queued.popleft()
            return self._standing.get(path) or json_reply({"message": "nope"}, 404)

    def _authorised(self, seen: Seen) -> bool:
        scheme, _, token = seen.headers.get("authorization", "").partition(" ")
        return scheme == "Bearer" and token in self._valid

    def _token(self, seen: Seen) -> Reply:
        expected = f"{self.client_id}:{self.client_secret}".encode()
        basic = "Basic " + base64.b64encode(expected).decode()
        if seen.headers.get("authorization") != basic:
            return json_reply({"error": "invalid_client"}, 401)
        form = parse_qs(seen.body.decode())
        if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != [
            self.refresh_token
        ]:
            return json_reply({"error": "invalid_grant"}, 400)
        token = f"fake-access-{next(self._counter)}-{secrets.token_hex(8)}"
        # Like Dotloop, a refresh invalidates the access tokens issued before it.
        self._valid = {token}
        self.issued.append(token)
        if self.rotate_refresh_token:
            self.refresh_token = "fake-refresh-" + secrets.token_hex(8)
        grant = {
            "access_token": token,
            "token_type": "Bearer",
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "scope": "account:read, profile:*, loop:*",
        }
        return json_reply(grant)


def _handler_for(fake: FakeDotloop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def _answer(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(
                self.command,
                url.path,
                parse_qs(url.query),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            reply = fake.answer(seen)
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@functools.cache
def loopback_http() -> httpx.Client:
    """One plain-HTTP client for every test: building TLS contexts per test is slow."""
    return httpx.Client(timeout=5.0, verify=False)


def closed_port() -> int:
    """A loopback port nothing listens on, so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeClock:
    """A monotonic clock whose sleep advances time instantly, recording each wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
