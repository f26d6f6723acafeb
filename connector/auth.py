"""OAuth2 access tokens for Dotloop from a refresh token, renewed before expiry."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

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

    # TODO: single-flight holds within one process only. Dotloop revokes the
    # previous access token on refresh, so workers in several processes must
    # share the token through storage (on_rotate is the hook for the refresh
    # token; the access token has none yet).
    def _refresh(self) -> None:
        response = self._post_refresh()
        grant = _grant(response)
        lifetime = _lifetime(grant)
        # A short-lived token must not be renewed on every call.
        margin = min(self._refresh_margin, lifetime / 2)
        self._access_token = Secret(grant["access_token"])
        self._renew_at = self._clock() + lifetime - margin
        logger.info("refreshed the Dotloop access token; valid for %.0f s", lifetime)
        self._keep_refresh_token(grant.get("refresh_token"))

    def _post_refresh(self) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self._http.post(
                self.token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self._refresh_token.reveal(),
                },
                auth=(self._client_id, self._client_secret.reveal()),
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise TransportError(
                f"could not reach the Dotloop token endpoint: {type(exc).__name__}",
                url=self.token_url,
            ) from exc
        logger.debug(
            "POST %s -> %d in %.0f ms",
            self.token_url,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        _raise_for_status(response, self.token_url)
        return response

    def _keep_refresh_token(self, issued: object) -> None:
        if not isinstance(issued, str) or not issued:
            return
        rotated = Secret(issued)
        if rotated == self._refresh_token:
            return
        self._refresh_token = rotated
        logger.info("Dotloop issued a new refresh token")
        if self._on_rotate is not None:
            self._on_rotate(rotated)


def _raise_for_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status in (400, 401):
        code = _error_code(response)
        remedy = _REMEDY.get(
            code or "", "reconnect Dotloop or check the client id and client secret"
        )
        raise AuthenticationError(
            f"Dotloop refused the token refresh (HTTP {status}, "
            f"{code or 'no error code'}): {remedy}",
            status_code=status,
            url=url,
        )
    kind = ServerError if status >= 500 else ClientError
    raise kind(
        f"the Dotloop token endpoint answered HTTP {status}",
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
