"""Issued OAuth tokens: refresh grants, access tokens and authorization codes."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class TokenState(Enum):
    """What a presented access token turned out to be."""

    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # never issued, revoked, or replaced by a refresh


@dataclass(frozen=True)
class IssuedToken:
    """An access token handed out by the token endpoint."""

    access_token: str
    refresh_token: str
    expires_in: float


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of checking a bearer token; user is set when valid."""

    state: TokenState
    user: str | None = None


@dataclass
class _Grant:
    user: str
    access_tokens: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Access:
    user: str
    refresh_token: str
    expires_at: float


@dataclass(frozen=True)
class _Code:
    user: str
    redirect_uri: str | None


class TokenStore:
    """Grants keyed by refresh token; refreshing revokes the grant's access tokens."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float]) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: dict[str, _Grant] = {}
        self._access: dict[str, _Access] = {}
        self._codes: dict[str, _Code] = {}

    def add_grant(self, refresh_token: str, user: str) -> None:
        """Accept `refresh_token` as a grant of `user` (the configured one)."""
        with self._lock:
            self._grants.setdefault(refresh_token, _Grant(user))

    def refresh(self, refresh_token: str) -> IssuedToken | None:
        """A new access token for a grant, revoking the previous ones; or None."""
        with self._lock:
            grant = self._grants.get(refresh_token)
            if grant is None:
                return None
            for token in grant.access_tokens:
                self._access.pop(token, None)
            grant.access_tokens.clear()
            return self._issue(refresh_token, grant)

    def create_code(self, user: str, redirect_uri: str | None) -> str:
        """A one-time authorization code for `user`."""
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = _Code(user, redirect_uri)
        return code

    def exchange_code(self, code: str, redirect_uri: str | None) -> IssuedToken | None:
        """A new grant and access token for an unused code; or None."""
        with self._lock:
            issued = self._codes.get(code)
            if issued is None or issued.redirect_uri not in (None, redirect_uri):
                return None
            del self._codes[code]
            refresh_token = secrets.token_urlsafe(24)
            grant = self._grants[refresh_token] = _Grant(issued.user)
            return self._issue(refresh_token, grant)

    def check(self, access_token: str) -> TokenCheck:
        """Whether an access token is valid now, and whose it is."""
        with self._lock:
            access = self._access.get(access_token)
        if access is None:
            return TokenCheck(TokenState.UNKNOWN)
        if self._clock() >= access.expires_at:
            return TokenCheck(TokenState.EXPIRED)
        return TokenCheck(TokenState.VALID, access.user)

    def revoke(self, token: str) -> None:
        """Forget an access token, or a refresh token with its access tokens."""
        with self._lock:
            access = self._access.pop(token, None)
            if access is not None:
                grant = self._grants.get(access.refresh_token)
                if grant is not None:
                    grant.access_tokens.discard(token)
            grant = self._grants.pop(token, None)
            for access_token in grant.access_tokens if grant else ():
                self._access.pop(access_token, None)

    def _issue(self, refresh_token: str, grant: _Grant) -> IssuedToken:
        token = secrets.token_urlsafe(24)
        expires_at = self._clock() + self.ttl_seconds
        self._access[token] = _Access(grant.user, refresh_token, expires_at)
        grant.access_tokens.add(token)
        return IssuedToken(token, refresh_token, self.ttl_seconds)
