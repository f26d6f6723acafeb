"""OAuth2 for Dotloop: code exchange, refresh before expiry, and revocation."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from .errors import (
    AuthenticationError,
    ClientError,
    InvalidResponseError,
    ServerError,
    TransportError,
)
from .secrets import Secret, redact

logger = logging.getLogger(__name__)

DEFAULT_LIFETIME_SECONDS = 3600.0
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")
_REMEDY = {
    "invalid_grant": "the refresh token is no longer valid: reconnect Dotloop",
    "invalid_client": "check the Dotloop client id and client secret",
}
_CODE_REMEDY = {
    "invalid_grant": (
        "the authorization code was already used, has expired or was issued for "
        "another redirect URI: run the login again"
    ),
    "invalid_client": "check DOTLOOP_CLIENT_ID and DOTLOOP_CLIENT_SECRET",
}


class TokenSource(Protocol):
    """What the client needs of a token source."""

    def access_token(self) -> Secret:
        """A current access token."""

    def invalidate(self, token: Secret) -> None:
        """Forget `token` after Dotloop refused it."""


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint issued; refresh_token is None when it sent none."""

    access_token: Secret
    refresh_token: Secret | None
    expires_in: float
    scope: str | None
    # The token endpoint's Date header, to compare clocks with.
    server_time: datetime | None = None


def request_refresh(
    http: httpx.Client,
    token_url: str,
    client_id: str,
    client_secret: Secret,
    refresh_token: Secret,
) -> TokenGrant:
    """Exchange a refresh token for a new access token (one POST, no retries).

    Raises AuthenticationError (with `oauth_error`) when Dotloop refuses,
    TransportError, ServerError, ClientError or InvalidResponseError otherwise.
    """
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token.reveal()}
    response = _post_form(http, token_url, (client_id, client_secret), form)
    _raise_for_status(response, token_url, "the token refresh", _REMEDY)
    return _token_grant(response)


def exchange_code(
    auth_url: str,
    client_id: str,
    client_secret: Secret,
    code: Secret,
    redirect_uri: str,
    http: httpx.Client,
) -> TokenGrant:
    """Exchange an authorization code for tokens at `{auth_url}/token`.

    Raises AuthenticationError when Dotloop refuses the client or the code.
    """
    token_url = auth_url.rstrip("/") + "/token"
    form = {
        "grant_type": "authorization_code",
        "code": code.reveal(),
        "redirect_uri": redirect_uri,
    }
    response = _post_form(http, token_url, (client_id, client_secret), form)
    _raise_for_status(response, token_url, "the authorization code", _CODE_REMEDY)
    return _token_grant(response)


def revoke_token(
    auth_url: str,
    client_id: str,
    client_secret: Secret,
    token: Secret,
    http: httpx.Client,
) -> None:
    """Revoke an access or refresh token at `{auth_url}/token/revoke`."""
    revoke_url = auth_url.rstrip("/") + "/token/revoke"
    form = {"token": token.reveal()}
    response = _post_form(http, revoke_url, (client_id, client_secret), form)
    _raise_for_status(response, revoke_url, "the revocation", _REMEDY)


class RefreshTokenSource:
    """Hands out a current access token, refreshing it with the refresh token.

    The refresh is single-flight within this process. When Dotloop issues a new
    refresh token, `refresh_token` holds it and `on_rotate` is called with it so
    the caller can persist it.
    """

    def __init__(
        self,
        auth_url: str,
        client_id: str,
        client_secret: Secret,
        refresh_token: Secret,
        http: httpx.Client | None = None,
        *,
        timeout: float = 30.0,
        refresh_margin: float = 300.0,
        on_rotate: Callable[[Secret], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = auth_url.rstrip("/") + "/token"
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        self._refresh_margin = refresh_margin
        self._on_rotate = on_rotate
        self._clock = clock
        self._lock = threading.Lock()
        self._access_token: Secret | None = None
        self._renew_at = 0.0

    @property
    def refresh_token(self) -> Secret:
        """The refresh token in use: the latest one Dotloop issued."""
        with self._lock:
            return self._refresh_token

    def access_token(self) -> Secret:
        """A current access token; refreshes when there is none or it is expiring."""
        with self._lock:
            if self._access_token is None or self._clock() >= self._renew_at:
                self._refresh()
            assert self._access_token is not None
            return self._access_token

    def invalidate(self, token: Secret) -> None:
        """Forget `token` after Dotloop refused it, unless it was already replaced."""
        with self._lock:
            if self._access_token == token:
                self._access_token = None

    def close(self) -> None:
        """Close the HTTP client if this source created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> RefreshTokenSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Single-flight within this process only: workers in several processes
    # share their token through sync.token_source.StoredTokenSource.
    def _refresh(self) -> None:
        grant = request_refresh(
            self._http,
            self.token_url,
            self._client_id,
            self._client_secret,
            self._refresh_token,
        )
        # A short-lived token must not be renewed on every call.
        margin = renewal_margin(grant.expires_in, self._refresh_margin)
        self._access_token = grant.access_token
        self._renew_at = self._clock() + grant.expires_in - margin
        logger.info(
            "refreshed the Dotloop access token; valid for %.0f s", grant.expires_in
        )
        self._keep_refresh_token(grant.refresh_token)

    def _keep_refresh_token(self, rotated: Secret | None) -> None:
        if rotated is None or rotated == self._refresh_token:
            return
        self._refresh_token = rotated
        logger.info("Dotloop issued a new refresh token")
        if self._on_rotate is not None:
            self._on_rotate(rotated)


def renewal_margin(lifetime: float, preferred: float) -> float:
    """How long before expiry to renew: `preferred`, at most half the lifetime.

    >>> renewal_margin(43200, 300), renewal_margin(60, 300)
    (300, 30.0)
    """
    return min(preferred, lifetime / 2)


def _post_form(
    http: httpx.Client,
    url: str,
    client: tuple[str, Secret],
    form: dict[str, str],
) -> httpx.Response:
    client_id, client_secret = client
    started = time.monotonic()
    try:
        response = http.post(
            url,
            data=form,
            auth=(client_id, client_secret.reveal()),
            headers={"Accept": "application/json"},
        )
    except httpx.TransportError as exc:
        raise TransportError(
            f"could not reach the Dotloop OAuth endpoint: {type(exc).__name__}",
            url=url,
        ) from exc
    logger.debug(
        "POST %s -> %d in %.0f ms",
        url,
        response.status_code,
        (time.monotonic() - started) * 1000,
    )
    return response


def _raise_for_status(
    response: httpx.Response, url: str, what: str, remedies: dict[str, str]
) -> None:
    status = response.status_code
    if status < 400:
        return
    if status in (400, 401):
        code = _error_code(response)
        remedy = remedies.get(
            code or "", "reconnect Dotloop or check the client id and client secret"
        )
        raise AuthenticationError(
            f"Dotloop refused {what} (HTTP {status}, "
            f"{code or 'no error code'}): {remedy}",
            status_code=status,
            url=url,
            oauth_error=code,
        )
    kind = ServerError if status >= 500 else ClientError
    raise kind(
        f"the Dotloop OAuth endpoint answered HTTP {status} to {what}",
        status_code=status,
        url=url,
    )


def _error_code(response: httpx.Response) -> str | None:
    # Only a plain OAuth error code is echoed, never free text from the body.
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    if isinstance(code, str) and _ERROR_CODE.fullmatch(code):
        return code
    return None


def _token_grant(response: httpx.Response) -> TokenGrant:
    grant = _grant(response)
    issued = grant.get("refresh_token")
    scope = grant.get("scope")
    return TokenGrant(
        access_token=Secret(grant["access_token"]),
        refresh_token=Secret(issued) if isinstance(issued, str) and issued else None,
        expires_in=_lifetime(grant),
        scope=scope if isinstance(scope, str) else None,
        server_time=_server_time(response),
    )


def _server_time(response: httpx.Response) -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None


def _grant(response: httpx.Response) -> dict[str, Any]:
    try:
        grant = response.json()
    except ValueError:
        grant = None
    if not isinstance(grant, dict) or not isinstance(grant.get("access_token"), str):
        # Unlike API bodies, this one may hold a credential: keep it masked.
        raise InvalidResponseError(
            "the Dotloop token endpoint did not answer with an access token",
            body=redact(response.content.decode("utf-8", "replace")).encode(),
            status_code=response.status_code,
            url=str(response.request.url),
        )
    return grant


def _lifetime(grant: dict[str, Any]) -> float:
    expires_in = grant.get("expires_in")
    try:
        lifetime = float(expires_in)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        lifetime = math.nan
    if isinstance(expires_in, bool) or not math.isfinite(lifetime) or lifetime <= 0:
        logger.debug("token response has no usable expires_in; assuming one hour")
        return DEFAULT_LIFETIME_SECONDS
    return lifetime
