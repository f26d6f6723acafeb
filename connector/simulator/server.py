"""The simulator's HTTP server on 127.0.0.1: sockets in, SimulatorApp behind."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .admin import ADMIN_PREFIX
from .app import API_PREFIX, OAUTH_PREFIX, STATS_PATH, SimulatorApp
from .changes import LoopChanges
from .config import SimulatorConfig
from .data import SimulatedData
from .faults import Fault
from .wire import Request

logger = logging.getLogger(__name__)

_QUERY = re.compile(r"\?\S*")
# How often a background server looks for stop(): the longest stop() waits.
_POLL_SECONDS = 0.05


class Simulator:
    """A local Dotloop API v2 serving `data`; a context manager that starts it."""

    def __init__(
        self,
        data: SimulatedData,
        config: SimulatorConfig | None = None,
        *,
        faults: Sequence[Fault] = (),
        clock: Callable[[], float] = time.monotonic,
        changes: LoopChanges | None = None,
    ) -> None:
        """A simulator of `data`, not yet listening.

        Give it the `changes` the faults were built with, so that their edits
        reach webhook subscribers too.
        """
        self.config = config or SimulatorConfig()
        self.app = SimulatorApp(data, self.config, clock, faults, changes)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (known once the simulator listens)."""
        return int(self._listening().server_address[1])

    @property
    def base_url(self) -> str:
        """The API root, like https://api-gateway.dotloop.com/public/v2."""
        return f"http://{self.config.host}:{self.port}{API_PREFIX}"

    @property
    def auth_url(self) -> str:
        """The OAuth root, like https://auth.dotloop.com/oauth."""
        return f"http://{self.config.host}:{self.port}{OAUTH_PREFIX}"

    @property
    def stats_url(self) -> str:
        """Where GET /_simulator/stats answers (no token, not rate limited)."""
        return f"http://{self.config.host}:{self.port}{STATS_PATH}"

    @property
    def admin_url(self) -> str:
        """The root of the edit endpoints, such as POST {admin_url}/loop/1/update."""
        return f"http://{self.config.host}:{self.port}{ADMIN_PREFIX}"

    def stats(self) -> dict[str, Any]:
        """What GET /_simulator/stats answers."""
        return self.app.snapshot()

    def start(self) -> Simulator:
        """Listen and serve on a background thread."""
        server = self._bind()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name="dotloop-simulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("simulator serving at %s", self.base_url)
        return self

    def serve_forever(self, ready: Callable[[Simulator], None] | None = None) -> None:
        """Listen and serve on this thread until interrupted or stopped.

        `ready` is called once the socket listens, when the port is known.
        """
        server = self._bind()
        logger.info("simulator serving at %s", self.base_url)
        if ready is not None:
            ready(self)
        try:
            server.serve_forever(poll_interval=_POLL_SECONDS)
        finally:
            server.server_close()
            self.app.close()
            self._server = None

    def stop(self) -> None:
        """Stop serving and close the socket; a stopped simulator can start again.

        Webhook deliveries not yet sent are dropped.
        """
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        self.app.close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _bind(self) -> _Server:
        if self._server is not None:
            raise RuntimeError("the simulator is already serving")
        self._server = _Server((self.config.host, self.config.port), self.app)
        return self._server

    def _listening(self) -> _Server:
        if self._server is None:
            raise RuntimeError("the simulator is not serving; call start() first")
        return self._server


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: SimulatorApp) -> None:
        super().__init__(address, _Handler)
        self.app = app

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A caller that gave up on a slow answer has closed its socket; the
        # write that follows fails, which is expected, not worth a traceback.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("a caller closed its connection before the answer")
            return
        logger.error("the simulator failed to answer a request", exc_info=error)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DotloopSimulator/1"
    # Idle keep-alive connections are closed so that stop() never waits on them.
    timeout = 10
    # Headers and body go out in separate writes; Nagle would hold the body back
    # for the client's delayed ACK (some 40 ms a request).
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        response = self.server.app.handle(self._request())
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _request(self) -> Request:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        return Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length > 0 else b"",
        )

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path only: query strings may carry tokens.
        path = urlsplit(self.path).path
        logger.debug("%s %s %s", self.command, path, code)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http: %s", _QUERY.sub("?...", format % args))
