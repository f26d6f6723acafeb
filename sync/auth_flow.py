"""Connecting a Dotloop account: the authorization-code login, status and revoke.

`login` prints the authorize URL, receives the code on a one-shot callback
server on 127.0.0.1 (or takes a pasted one), exchanges it and keeps the tokens
encrypted in the private schema, where every worker finds them. `status`
describes the connection and `revoke` ends it; when Dotloop refuses the
revocation, the tokens stay stored unless the caller asks to forget them
anyway. No token is ever printed.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from connector import DotloopError, Secret, TokenGrant
from connector.auth import exchange_code, revoke_token

from .db import connect
from .errors import ConfigurationError
from .settings import Settings
from .tasks import build_client
from .token_store import StoredToken, TokenStore, token_cipher

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
# Beyond this, timestamps signed by Dotloop (webhooks) and token expiry drift.
MAX_CLOCK_SKEW_SECONDS = 300.0
LOOP_SCOPES = ("loop:",)


class RevocationRefused(ConfigurationError):
    """Dotloop did not revoke the stored tokens, which are still stored."""


@dataclass(frozen=True)
class ProfileSummary:
    """One Dotloop profile the connected user can see."""

    id: int
    name: str | None
    type: str | None
    deactivated: bool


@dataclass(frozen=True)
class AccountSummary:
    """Who is connected, what they see and what the grant allows."""

    email: str | None
    profiles: tuple[ProfileSummary, ...]
    scope: str | None


@dataclass(frozen=True)
class AuthStatus:
    """The stored connection; `account` is None when Dotloop was not asked."""

    connected: bool
    reconnect_required: bool
    message: str | None
    expires_at: datetime | None
    scope: str | None
    account: AccountSummary | None


def authorize_url(settings: Settings, redirect_uri: str, state: str) -> str:
    """The URL an admin opens to let this add-on read their Dotloop account."""
    client_id, _ = _client(settings)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{settings.dotloop.auth_url.rstrip('/')}/authorize?{query}"


def login(
    settings: Settings,
    *,
    redirect_port: int = 0,
    open_browser: bool = False,
    code: str | None = None,
    redirect_uri: str | None = None,
    output: Callable[[str], None] = print,
    timeout: float = 300.0,
    wall_clock: Callable[[], float] = time.time,
) -> AccountSummary:
    """Connect Dotloop: get a code, exchange it, store the tokens, confirm.

    With `code` (pasted), `redirect_uri` or `redirect_port` must name the
    redirect URI the code was issued for.
    """
    _client(settings)
    if code is not None:
        uri = redirect_uri or _pasted_redirect_uri(redirect_port)
        grant = _exchange(settings, Secret(code), uri)
    else:
        grant = _login_by_callback(
            settings, redirect_port, open_browser, output, timeout
        )
    check_grant(settings, grant, wall_clock)
    _store(settings, grant)
    summary = _account_summary(settings, grant.scope)
    logger.info("connected Dotloop account with %d profiles", len(summary.profiles))
    return summary


def status(settings: Settings) -> AuthStatus:
    """The stored connection, and the account as Dotloop reports it now."""
    stored = _read_stored(settings)
    if stored is None and settings.dotloop.refresh_token is None:
        return AuthStatus(
            False, False, "no Dotloop account is connected", None, None, None
        )
    if stored is not None and stored.needs_reconnect:
        return _status_of(stored, None)
    account = _account_summary(settings, stored.scope if stored else None)
    stored = _read_stored(settings)
    assert stored is not None, "the client stored its tokens"
    return _status_of(stored, account)


def revoke(
    settings: Settings,
    *,
    forget: bool = False,
    output: Callable[[str], None] = print,
) -> bool:
    """Revoke the stored tokens at Dotloop, then delete them; False if none.

    When Dotloop refuses (a wrong client secret) or cannot be reached, raise
    RevocationRefused and keep them, or with forget delete them anyway and
    output how to end the grant at Dotloop.
    """
    client_id, client_secret = _client(settings)
    store = _token_store(settings)
    with connect(settings) as conn:
        store.ensure_schema(conn)
        stored = store.read(conn)
        if stored is None:
            return False
        tokens = [stored.access_token, stored.refresh_token]
        try:
            _revoke_all(settings, client_id, client_secret, tokens)
        except DotloopError as exc:
            if not forget:
                raise RevocationRefused(_refused_message(exc)) from None
            store.delete(conn)
            logger.warning("deleted Dotloop tokens that Dotloop did not revoke")
            output(_forgotten_message(exc, client_id))
            return True
        store.delete(conn)
    logger.info("revoked and deleted the stored Dotloop tokens")
    return True


def _revoke_all(
    settings: Settings,
    client_id: str,
    client_secret: Secret,
    tokens: list[Secret | None],
) -> None:
    with httpx.Client(timeout=30.0) as http:
        for token in tokens:
            if token is not None:
                revoke_token(
                    settings.dotloop.auth_url, client_id, client_secret, token, http
                )


def _refused_message(exc: DotloopError) -> str:
    return (
        f"the tokens were not revoked ({exc}); they are still stored here. "
        "Set the DOTLOOP_CLIENT_SECRET Dotloop issued for this client and run "
        "`auth revoke` again, or run `auth revoke --forget` to delete them here "
        "anyway (they then stay valid at Dotloop until revoked there)"
    )


def _forgotten_message(exc: DotloopError, client_id: str) -> str:
    return (
        "Deleted the stored Dotloop tokens here, but Dotloop did not revoke them "
        f"({exc}).\nThe grant is still live at Dotloop: its refresh token keeps "
        "working until revoked there. End it in Dotloop by removing this "
        f"add-on (client id {client_id}) from the connected user's authorized "
        "applications, or ask Dotloop support to revoke the client's tokens."
    )


def describe(status: AuthStatus) -> str:
    """Lines for a terminal; they hold no token."""
    if not status.connected:
        return status.message or "not connected"
    lines = []
    if status.reconnect_required:
        lines.append(f"RECONNECT REQUIRED: {status.message or 'no detail'}")
    if status.account is not None:
        lines.append(f"account: {status.account.email or '(no e-mail)'}")
        for profile in status.account.profiles:
            off = " (deactivated)" if profile.deactivated else ""
            lines.append(
                f"  profile {profile.id}: {profile.name} [{profile.type}]{off}"
            )
    expiry = (
        status.expires_at.isoformat(timespec="seconds") if status.expires_at else "-"
    )
    lines.append(f"access token expires: {expiry}")
    lines.append(f"scope: {status.scope or '-'}")
    return "\n".join(lines)


def has_loop_access(scope: str | None) -> bool:
    """Whether a granted scope lets the add-on read loops (unknown counts as yes).

    >>> has_loop_access("account:read, loop:*"), has_loop_access("account:read")
    (True, False)
    """
    if scope is None:
        return True
    granted = [part.strip() for part in scope.replace(",", " ").split()]
    return any(part.startswith(LOOP_SCOPES) for part in granted)


def _client(settings: Settings) -> tuple[str, Secret]:
    dotloop = settings.dotloop
    if dotloop.client_id is None or dotloop.client_secret is None:
        raise ConfigurationError(
            "set DOTLOOP_CLIENT_ID and DOTLOOP_CLIENT_SECRET to the client Dotloop "
            "issued for this add-on before connecting an account"
        )
    return dotloop.client_id, dotloop.client_secret


def _pasted_redirect_uri(port: int) -> str:
    if port == 0:
        raise ConfigurationError(
            "a pasted code is exchanged with the redirect URI it was issued for: "
            "give that redirect URI or its port"
        )
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


def _exchange(settings: Settings, code: Secret, uri: str) -> TokenGrant:
    client_id, client_secret = _client(settings)
    with httpx.Client(timeout=30.0) as http:
        return exchange_code(
            settings.dotloop.auth_url, client_id, client_secret, code, uri, http
        )


def _login_by_callback(
    settings: Settings,
    port: int,
    open_browser: bool,
    output: Callable[[str], None],
    timeout: float,
) -> TokenGrant:
    state = secrets.token_urlsafe(24)
    with _CallbackServer(port) as server:
        url = authorize_url(settings, server.redirect_uri, state)
        output(f"Open this URL to connect Dotloop:\n{url}")
        if open_browser:
            webbrowser.open(url)
        answer = server.wait(timeout)
    code = _code_from(answer, state)
    return _exchange(settings, code, server.redirect_uri)


def _code_from(answer: dict[str, str], state: str) -> Secret:
    if not secrets.compare_digest(answer.get("state", ""), state):
        raise ConfigurationError(
            "the login answer carried a different state than the one sent, so it "
            "may come from another login or a forged link; nothing was stored. "
            "Run the login again and open only the URL it prints"
        )
    if "error" in answer or not answer.get("code"):
        reason = answer.get("error", "no code")
        raise ConfigurationError(
            f"Dotloop did not grant access ({reason[:40]}): run the login again and "
            "approve the access the add-on asks for"
        )
    return Secret(answer["code"])


def check_grant(
    settings: Settings, grant: TokenGrant, wall_clock: Callable[[], float]
) -> None:
    """Refuse (and give back) a grant without loop access or from a skewed clock."""
    if not has_loop_access(grant.scope):
        _revoke_quietly(settings, grant)
        raise ConfigurationError(
            f"Dotloop granted the scope {grant.scope!r}, which has no loop access "
            "(loop:read or loop:*): enable loop access for the client in Dotloop's "
            "developer settings, then run the login again"
        )
    if grant.server_time is None:
        return
    skew = wall_clock() - grant.server_time.timestamp()
    if abs(skew) > MAX_CLOCK_SKEW_SECONDS:
        _revoke_quietly(settings, grant)
        direction = "ahead of" if skew > 0 else "behind"
        raise ConfigurationError(
            f"this machine's clock is {abs(skew):.0f} s {direction} Dotloop's: "
            "token expiry and webhook signatures would be misjudged. Synchronise "
            "the clock (enable NTP), then run the login again"
        )


def _revoke_quietly(settings: Settings, grant: TokenGrant) -> None:
    """Give back a grant the add-on will not keep; a failure only warns."""
    client_id, client_secret = _client(settings)
    token = grant.refresh_token or grant.access_token
    try:
        with httpx.Client(timeout=10.0) as http:
            revoke_token(
                settings.dotloop.auth_url, client_id, client_secret, token, http
            )
    except Exception as exc:  # the grant expires on its own; the error matters
        logger.warning("could not revoke the refused grant: %s", type(exc).__name__)


def _store(settings: Settings, grant: TokenGrant) -> None:
    store = _token_store(settings)
    with connect(settings) as conn:
        store.ensure_schema(conn)
        with conn.transaction():
            store.lock(conn)
            store.replace(conn, grant)


def _account_summary(settings: Settings, scope: str | None) -> AccountSummary:
    with build_client(settings) as client:
        account = client.account()
        profiles = client.profiles()
    email = account.get("email")
    return AccountSummary(
        email=email if isinstance(email, str) else None,
        profiles=tuple(_profile(profile) for profile in profiles),
        scope=scope,
    )


def _profile(raw: dict[str, Any]) -> ProfileSummary:
    name, kind = raw.get("name"), raw.get("type")
    return ProfileSummary(
        id=int(raw.get("id", 0)),
        name=name if isinstance(name, str) else None,
        type=kind if isinstance(kind, str) else None,
        deactivated=bool(raw.get("deactivated", False)),
    )


def _token_store(settings: Settings) -> TokenStore:
    client_id, _ = _client(settings)
    return TokenStore(
        settings.private_schema,
        client_id,
        token_cipher(settings),
        reader_role=settings.reporting_reader_role,
    )


def _read_stored(settings: Settings) -> StoredToken | None:
    store = _token_store(settings)
    with connect(settings) as conn:
        store.ensure_schema(conn)
        return store.read(conn)


def _status_of(stored: StoredToken, account: AccountSummary | None) -> AuthStatus:
    expires_at = None
    if stored.seconds_left is not None:
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=stored.seconds_left)
    return AuthStatus(
        connected=True,
        reconnect_required=stored.needs_reconnect,
        message=stored.message,
        expires_at=expires_at,
        scope=stored.scope,
        account=account,
    )


class _CallbackServer:
    """A one-shot HTTP server on 127.0.0.1 that takes the authorization answer."""

    def __init__(self, port: int) -> None:
        self._answer: dict[str, str] | None = None
        self._received = threading.Event()
        self._server = HTTPServer(("127.0.0.1", port), self._handler())
        self.redirect_uri = (
            f"http://127.0.0.1:{self._server.server_port}{CALLBACK_PATH}"
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> _CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str]:
        """The callback's query parameters, once they arrive."""
        if not self._received.wait(timeout):
            raise ConfigurationError(
                f"no login answer reached {self.redirect_uri} within {timeout:.0f} s: "
                "open the printed URL in a browser on this machine, or paste the code"
            )
        assert self._answer is not None
        return self._answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH or owner._received.is_set():
                    self._reply(404, "Not found.")
                    return
                query = parse_qs(parts.query)
                owner._answer = {key: values[-1] for key, values in query.items()}
                owner._received.set()
                self._reply(200, "Dotloop is connected. You can close this window.")

            def _reply(self, status: int, text: str) -> None:
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                # The default writes the request line, code included, to stderr.
                return

        return Handler
