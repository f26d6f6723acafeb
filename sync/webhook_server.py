"""The webhook receiver: a small threaded HTTP server that verifies and queues.

Dotloop waits 5 seconds for an answer, so a delivery is only verified,
deduplicated and queued here (202); the loop is fetched and landed later by a
worker. Nothing on this path touches Postgres or the Dotloop API.

    POST /webhooks/dotloop   202 queued or ignored, 400 malformed, 401 refused
    GET  /healthz            200
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from connector.secrets import Secret

from .errors import ConfigurationError
from .settings import Settings
from .tasks import TaskApp, create_app
from .webhooks import (
    DEFAULT_WINDOW_SECONDS,
    LOOP_MERGED,
    LOOP_SYNC_EVENTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    MalformedEvent,
    RejectedDelivery,
    SeenEvents,
    WebhookEvent,
    parse_event,
    seen_events,
    verify_delivery,
)

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/dotloop"
HEALTH_PATH = "/healthz"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
MAX_BODY_BYTES = 1 << 20
# How soon a background server notices stop().
STOP_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Answer:
    """What the receiver answers a delivery: a status and a short reason."""

    status: int
    reason: str


@dataclass(frozen=True)
class WebhookReceiver:
    """Verifies deliveries and queues the work they name."""

    secret: Secret
    tasks: TaskApp
    seen: SeenEvents
    scheme: str = "body"
    window_seconds: float = DEFAULT_WINDOW_SECONDS

    def receive(self, body: bytes, headers: Mapping[str, str]) -> Answer:
        """Verify one delivery and queue its work; never raises for bad input."""
        try:
            verify_delivery(
                self.secret,
                body,
                headers.get(SIGNATURE_HEADER),
                headers.get(TIMESTAMP_HEADER),
                scheme=self.scheme,
                window_seconds=self.window_seconds,
            )
            event = parse_event(body)
        except RejectedDelivery as exc:
            logger.warning("webhook delivery refused: %s", exc)
            return Answer(HTTPStatus.UNAUTHORIZED, str(exc))
        except MalformedEvent as exc:
            logger.warning("webhook delivery malformed: %s", exc)
            return Answer(HTTPStatus.BAD_REQUEST, str(exc))
        return self._dispatch(event)

    def _dispatch(self, event: WebhookEvent) -> Answer:
        if event.event_type not in LOOP_SYNC_EVENTS and event.event_type != LOOP_MERGED:
            logger.info(
                "webhook event %s of type %s ignored", event.event_id, event.event_type
            )
            return Answer(HTTPStatus.ACCEPTED, "ignored: event type not used")
        missing = _missing_ids(event)
        if missing:
            return Answer(HTTPStatus.BAD_REQUEST, f"event has no {missing}")
        if not self.seen.first_time(event.event_id):
            logger.info("webhook event %s already queued", event.event_id)
            return Answer(HTTPStatus.ACCEPTED, "ignored: event already received")
        try:
            queued = self._enqueue(event)
        except Exception:
            # Let Dotloop deliver it again rather than lose it.
            self.seen.forget(event.event_id)
            logger.exception("webhook event %s could not be queued", event.event_id)
            return Answer(HTTPStatus.SERVICE_UNAVAILABLE, "queue unavailable")
        if queued == "joined":
            logger.info(
                "webhook event %s %s joins the sync of loop %s already queued",
                event.event_id,
                event.event_type,
                event.loop_id,
            )
            return Answer(HTTPStatus.ACCEPTED, "queued: joins a waiting loop sync")
        logger.info(
            "webhook event %s %s queued for loop %s",
            event.event_id,
            event.event_type,
            event.loop_id,
        )
        return Answer(HTTPStatus.ACCEPTED, "queued")

    def _enqueue(self, event: WebhookEvent) -> str:
        """Queue the event's work; "queued", or "joined" a loop sync waiting."""
        if event.event_type == LOOP_MERGED:
            self.tasks.merge_loops(event.merged_loop_id, event.loop_id)
        if event.profile_id is None or event.loop_id is None:
            return "queued"
        # One edit seen by several subscribed profiles (agent, office,
        # company) arrives once per subscription: one sync serves them all.
        waiting = self.tasks.queued_loops
        if not waiting.add(event.loop_id, event.profile_id):
            return "joined"
        try:
            self.tasks.sync_loop(event.profile_id, event.loop_id)
        except Exception:
            waiting.cancel(event.loop_id)
            raise
        return "queued"


def _missing_ids(event: WebhookEvent) -> str | None:
    if event.loop_id is None:
        return "loop id"
    if event.event_type == LOOP_MERGED:
        if event.merged_loop_id is None or event.merged_loop_id == event.loop_id:
            return "merged loop id"
        return None
    return "profile id" if event.profile_id is None else None


def build_receiver(settings: Settings, tasks: TaskApp | None = None) -> WebhookReceiver:
    """A receiver from the settings; fails at start without a webhook secret."""
    if settings.webhook_secret is None:
        raise ConfigurationError(
            "DOTLOOP_WEBHOOK_SECRET is not set: set it to the secret of the "
            "Dotloop webhook subscription before serving webhooks"
        )
    return WebhookReceiver(
        secret=settings.webhook_secret,
        tasks=create_app(settings) if tasks is None else tasks,
        seen=seen_events(settings),
        scheme=settings.webhook_signature_scheme,
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == HEALTH_PATH:
            self._answer(Answer(HTTPStatus.OK, "ok"))
        else:
            self._answer(Answer(HTTPStatus.NOT_FOUND, "not found"))

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != WEBHOOK_PATH:
            self._answer(Answer(HTTPStatus.NOT_FOUND, "not found"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._answer(Answer(HTTPStatus.LENGTH_REQUIRED, "Content-Length needed"))
            return
        if not 0 <= length <= MAX_BODY_BYTES:
            self._answer(Answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large"))
            return
        body = self.rfile.read(length)
        headers = {name.upper(): value for name, value in self.headers.items()}
        self._answer(self.server.receiver.receive(body, headers))

    def _answer(self, answer: Answer) -> None:
        payload = json.dumps({"status": answer.reason}).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # The receiver logs each delivery itself; headers never reach the log.
        logger.debug("webhook request: %s", format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], receiver: WebhookReceiver) -> None:
        super().__init__(address, _Handler)
        self.receiver = receiver


class WebhookServer:
    """The receiver on a socket: start() serves on a background thread."""

    def __init__(
        self,
        receiver: WebhookReceiver,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
    ) -> None:
        self._server = _Server((host, port), receiver)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where Dotloop should deliver: http://host:port/webhooks/dotloop."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{WEBHOOK_PATH}"

    def start(self) -> WebhookServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name="webhooks",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self.close()
        if self._thread is not None:
            self._thread.join()

    def close(self) -> None:
        """Release the socket (after serve_forever returned)."""
        self._server.server_close()

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_webhooks(
    settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> None:
    """Serve the receiver in the foreground until interrupted."""
    server = WebhookServer(build_receiver(settings), host, port)
    logger.info("webhook receiver listening on %s", server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("webhook receiver stopped")
    finally:
        server.close()
