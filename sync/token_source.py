"""Access tokens shared by every worker through Postgres, refreshed one at a time.

Dotloop revokes the previous access token when it issues a new one, so two
workers refreshing at once would knock each other out. Here a worker takes
the stored token while it is fresh; when it is not (or Dotloop refused it),
the worker takes a Postgres advisory lock, looks again (another worker may
have refreshed meanwhile) and only then refreshes, storing the result before
the lock is released. A refresh token Dotloop refuses is recorded as needing
a reconnect, and every later call fails at once with that message instead of
asking Dotloop again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx

from connector import AuthenticationError, Secret
from connector.auth import renewal_margin, request_refresh

from .db import Connection, connect
from .errors import ConfigurationError
from .settings import Settings
from .token_store import StoredToken, TokenStore, fingerprint, token_cipher

logger = logging.getLogger(__name__)

DEAD_GRANT = "invalid_grant"


class StoredTokenSource:
    """A TokenSource whose tokens live in the private schema, for every process.

    `refresh_margin` is how long before expiry a token is renewed (at most
    half its lifetime). Nothing touches Postgres or Dotloop until the first
    access_token().
    """

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = 30.0,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        dotloop = settings.dotloop
        if dotloop.client_id is None or dotloop.client_secret is None:
            raise ConfigurationError(
                "Dotloop is not connected: set DOTLOOP_CLIENT_ID and "
                "DOTLOOP_CLIENT_SECRET"
            )
        self._settings = settings
        self._client_id = dotloop.client_id
        self._client_secret = dotloop.client_secret
        self._configured = dotloop.refresh_token
        self._token_url = dotloop.auth_url.rstrip("/") + "/token"
        self._store = TokenStore(
            settings.private_schema,
            dotloop.client_id,
            token_cipher(settings),
            reader_role=settings.reporting_reader_role,
        )
        self._timeout = timeout
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._current: Secret | None = None
        self._renew_at = 0.0
        self._refused: Secret | None = None
        self._schema_ready = False

    def access_token(self) -> Secret:
        """A current access token: this process's, the stored one, or a new one."""
        with self._lock:
            if self._current is None or self._clock() >= self._renew_at:
                self._adopt(self._obtain())
            assert self._current is not None
            return self._current

    def invalidate(self, token: Secret) -> None:
        """Remember that Dotloop refused `token`, so it is never handed out again."""
        with self._lock:
            self._refused = token
            if self._current == token:
                self._current = None

    def _adopt(self, stored: StoredToken) -> None:
        assert stored.access_token is not None and stored.seconds_left is not None
        lifetime = stored.lifetime or stored.seconds_left
        margin = renewal_margin(lifetime, self._refresh_margin)
        self._current = stored.access_token
        self._renew_at = self._clock() + stored.seconds_left - margin

    def _obtain(self) -> StoredToken:
        with self._connect() as conn:
            stored = self._store.read(conn)
            if self._usable(stored):
                assert stored is not None
                return stored
            return self._obtain_locked(conn)

    def _obtain_locked(self, conn: Connection) -> StoredToken:
        refused: AuthenticationError | None = None
        with conn.transaction():
            self._store.lock(conn)
            stored = self._current_row(conn)
            if self._usable(stored):
                return stored
            if stored.needs_reconnect:
                raise _reconnect_error(stored)
            try:
                return self._refresh(conn, stored)
            except AuthenticationError as exc:
                if exc.oauth_error != DEAD_GRANT:
                    raise
                # Recorded before raising, so the record outlives this attempt.
                self._store.mark_reconnect(conn, str(exc))
                refused = exc
        logger.error("Dotloop refused the refresh token: reconnect Dotloop")
        raise refused

    def _current_row(self, conn: Connection) -> StoredToken:
        """The stored row, started over from the configured token when it changed."""
        stored = self._store.read(conn)
        if not self._should_seed(stored):
            assert stored is not None
            return stored
        assert self._configured is not None
        if stored is not None:
            logger.info("a new DOTLOOP_REFRESH_TOKEN replaces the stored tokens")
        return self._store.seed(conn, self._configured)

    def _should_seed(self, stored: StoredToken | None) -> bool:
        configured = self._configured
        if stored is None or not stored.readable:
            if configured is None:
                raise _not_connected(stored)
            return True
        return (
            configured is not None
            and stored.seeded_from is not None
            and stored.seeded_from != fingerprint(configured)
        )

    def _usable(self, stored: StoredToken | None) -> bool:
        if stored is None or stored.access_token is None or not stored.readable:
            return False
        if stored.needs_reconnect or stored.access_token == self._refused:
            return False
        if self._configured is not None and stored.seeded_from not in (
            None,
            fingerprint(self._configured),
        ):
            return False
        lifetime = stored.lifetime or 0.0
        margin = renewal_margin(lifetime, self._refresh_margin)
        return (stored.seconds_left or 0.0) > margin

    def _refresh(self, conn: Connection, stored: StoredToken) -> StoredToken:
        assert stored.refresh_token is not None
        with httpx.Client(timeout=self._timeout) as http:
            grant = request_refresh(
                http,
                self._token_url,
                self._client_id,
                self._client_secret,
                stored.refresh_token,
            )
        saved = self._store.save(conn, grant)
        logger.info(
            "refreshed the Dotloop access token for every worker; valid for %.0f s",
            grant.expires_in,
        )
        return saved

    def _connect(self) -> Connection:
        conn = connect(self._settings)
        if not self._schema_ready:
            self._store.ensure_schema(conn)
            self._schema_ready = True
        return conn


def _reconnect_error(stored: StoredToken) -> AuthenticationError:
    when = stored.changed_at.strftime("%Y-%m-%d %H:%M %Z")
    return AuthenticationError(
        f"Dotloop needs reconnecting: it refused the refresh token at {when} "
        f"({stored.message or 'no detail'}). Reconnect Dotloop and set the new "
        "DOTLOOP_REFRESH_TOKEN; syncing stays stopped until then",
        oauth_error=DEAD_GRANT,
    )


def _not_connected(stored: StoredToken | None) -> ConfigurationError:
    if stored is None:
        return ConfigurationError(
            "Dotloop is not connected: set DOTLOOP_REFRESH_TOKEN (no tokens are "
            "stored yet)"
        )
    return ConfigurationError(
        "the stored Dotloop tokens do not decrypt with DOTLOOP_TOKEN_KEY: set the "
        "key they were stored with, or set DOTLOOP_REFRESH_TOKEN to start over"
    )
