"""The broker portal on a socket: a small threaded HTTP server (see broker_portal).

Every answer carries a Content-Security-Policy that lets the page frame
Superset's origin only, and a referrer policy that sends Superset the
portal's origin (Superset checks it against the dashboard's allowed domains).
Writes are refused from any other origin; the session cookie is HttpOnly and
SameSite=Strict.
"""

from __future__ import annotations

import html
import json
import logging
import threading
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .broker_portal import SDK_BUNDLE, STATIC_DIR, Portal, PortalConfig
from .errors import SupersetError
from .portal_users import SESSION_SECONDS, PortalUser

logger = logging.getLogger(__name__)

COOKIE_NAME = "portal_session"
MAX_BODY_BYTES = 16 * 1024
STOP_POLL_SECONDS = 0.05
_ASSETS = {
    "portal.js": "text/javascript; charset=utf-8",
    "portal.css": "text/css; charset=utf-8",
}
_HTML = "text/html; charset=utf-8"
_JSON = "application/json"
_MESSAGE_MARK = "<!--message-->"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
        elif path == "/sdk/embedded-sdk.js":
            self._file(SDK_BUNDLE, _ASSETS["portal.js"])
        elif path.startswith("/static/") and path[8:] in _ASSETS:
            self._file(STATIC_DIR / path[8:], _ASSETS[path[8:]])
        elif path == "/login":
            self._login_page(HTTPStatus.OK, "")
        elif path == "/":
            if self._user() is None:
                self._redirect("/login")
            else:
                self._file(STATIC_DIR / "index.html", _HTML)
        elif path == "/api/session":
            self._session()
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        if body is None:
            return
        if not self._same_origin():
            self._json(HTTPStatus.FORBIDDEN, {"error": "cross-origin request"})
        elif path == "/login":
            self._log_in(body)
        elif path == "/logout":
            self.server.portal.sessions.log_out(self._session_id())
            self._redirect("/login", cookie=f"{COOKIE_NAME}=; Max-Age=0; Path=/")
        elif path == "/api/guest-token":
            self._guest_token(body)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def _session(self) -> None:
        user = self._user()
        if user is None:
            self._json(HTTPStatus.UNAUTHORIZED, {"error": "log in first"})
            return
        self._json(HTTPStatus.OK, self.server.portal.session_info(user))

    def _log_in(self, body: bytes) -> None:
        form = parse_qs(body.decode("utf-8", "replace"))
        username = (form.get("username") or [""])[0]
        password = (form.get("password") or [""])[0]
        session_id = self.server.portal.sessions.log_in(username, password)
        if session_id is None:
            logger.warning("portal login refused for %r", username[:64])
            self._login_page(HTTPStatus.UNAUTHORIZED, "Wrong username or password.")
            return
        logger.info("portal login of %r", username)
        self._redirect("/", cookie=self._cookie(session_id.reveal()))

    def _guest_token(self, body: bytes) -> None:
        user = self._user()
        if user is None:
            self._json(HTTPStatus.UNAUTHORIZED, {"error": "log in first"})
            return
        try:
            wanted = json.loads(body)
        except ValueError:
            wanted = None
        if not isinstance(wanted, dict):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "send {dashboard: uuid}"})
            return
        # Only the dashboard comes from the page; the viewer is the session's.
        try:
            token = self.server.portal.guest_token(user, wanted.get("dashboard"))
        except SupersetError as exc:
            # Refused or unreachable alike: the message says which.
            logger.error("no guest token for %r from Superset: %s", user.username, exc)
            self._json(
                HTTPStatus.BAD_GATEWAY,
                {"error": "Superset did not issue a guest token; try again"},
            )
            return
        if token is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": "no such dashboard"})
            return
        self._json(HTTPStatus.OK, {"token": token.reveal()})

    def _user(self) -> PortalUser | None:
        return self.server.portal.sessions.user(self._session_id())

    def _session_id(self) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except CookieError:
            return None
        morsel = cookie.get(COOKIE_NAME)
        return morsel.value if morsel is not None else None

    def _same_origin(self) -> bool:
        origin = self.headers.get("Origin")
        return origin is None or origin.rstrip("/") == self.server.portal.origin

    def _cookie(self, value: str) -> str:
        secure = "; Secure" if self.server.portal.origin.startswith("https:") else ""
        return (
            f"{COOKIE_NAME}={value}; Max-Age={SESSION_SECONDS}; Path=/; HttpOnly; "
            f"SameSite=Strict{secure}"
        )

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body size"})
            return None
        return self.rfile.read(length)

    def _login_page(self, status: HTTPStatus, message: str) -> None:
        page = (STATIC_DIR / "login.html").read_text(encoding="utf-8")
        page = page.replace(_MESSAGE_MARK, html.escape(message))
        self._send(status, page.encode(), _HTML)

    def _file(self, path: Path, content_type: str) -> None:
        self._send(HTTPStatus.OK, path.read_bytes(), content_type)

    def _json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), _JSON)

    def _redirect(self, location: str, *, cookie: str | None = None) -> None:
        headers = {"Location": location}
        if cookie is not None:
            headers["Set-Cookie"] = cookie
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", headers)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        for name, value in {**self._security_headers(), **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The page went away (a reload, a closed tab) before the answer.
            logger.debug("portal client left before %s was answered", self.path)

    def _security_headers(self) -> dict[str, str]:
        superset = urlsplit(self.server.portal.config.superset_browser_url)
        return {
            "Content-Security-Policy": (
                "default-src 'self'; script-src 'self'; style-src 'self'; "
                "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                f"frame-src {superset.scheme}://{superset.netloc}; "
                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
            ),
            # Superset compares the iframe's referrer with the allowed domains.
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines only, at DEBUG: cookies and tokens never reach the log.
        logger.debug("portal request: %s", format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    portal: Portal


class PortalServer:
    """The portal on a socket; start() serves on a background thread.

    The socket is bound first, so a port of 0 gets a free one, and the
    portal's origin (unless configured) is the address it listens on.
    """

    def __init__(self, config: PortalConfig) -> None:
        self._server = _Server((config.host, config.port), _Handler)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        origin = (config.public_origin or self.url).rstrip("/")
        try:
            self._server.portal = Portal.open(config, origin)
        except BaseException:
            self._server.server_close()
            raise
        self._thread: threading.Thread | None = None

    @property
    def portal(self) -> Portal:
        return self._server.portal

    def start(self) -> PortalServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name="broker-portal",
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
        """Release the socket and the Superset session."""
        self._server.server_close()
        self._server.portal.close()

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_portal(config: PortalConfig) -> None:
    """Serve the portal in the foreground until interrupted."""
    server = PortalServer(config)
    logger.info(
        "broker portal at %s: %d users, %d dashboards, Superset %s",
        server.url,
        len(config.users),
        len(server.portal.dashboards),
        config.superset_browser_url,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("broker portal stopped")
    finally:
        server.close()
