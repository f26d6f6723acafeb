"""Who may log in to the broker portal, and what each of them sees.

The portal's users live in a YAML file that the brokerage keeps; the browser
never says who the viewer is. Each user has a password hash (PBKDF2-SHA256,
made with `dotloop-reporter portal hash-password`) and a scope:

    users:
      broker:
        password: pbkdf2_sha256$600000$<salt>$<hash>
        sees: brokerage
      front-desk:
        password: pbkdf2_sha256$...
        sees: office
        profile_id: 101
      alice:
        password: pbkdf2_sha256$...
        sees: agent
        agent_email: alice@brokerage.example

A login opens a server-side session: the cookie holds a random id only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connector.secrets import Secret

from .embedding import Viewer
from .errors import ConfigurationError

HASH_SCHEME = "pbkdf2_sha256"
HASH_ITERATIONS = 600_000
SESSION_SECONDS = 8 * 3600
_SCOPES = ("brokerage", "office", "agent")
# Verifying an unknown user costs as much as a known one, so timing does
# not tell which usernames exist.
_DUMMY_HASH = "$".join(
    (
        HASH_SCHEME,
        str(HASH_ITERATIONS),
        base64.b64encode(bytes(16)).decode(),
        base64.b64encode(bytes(32)).decode(),
    )
)


@dataclass(frozen=True)
class PortalUser:
    """One login of the portal and the rows it may see."""

    username: str
    password_hash: Secret
    viewer: Viewer


def hash_password(password: str, *, iterations: int = HASH_ITERATIONS) -> str:
    """A salted PBKDF2-SHA256 hash in the users file's format."""
    if not password:
        raise ConfigurationError("an empty password cannot be hashed")
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return "$".join((HASH_SCHEME, str(iterations), _b64(salt), _b64(digest)))


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches a hash from hash_password(); never raises.

    >>> verify_password("s3cret", hash_password("s3cret", iterations=1000))
    True
    >>> verify_password("guess", hash_password("s3cret", iterations=1000))
    False
    >>> verify_password("s3cret", "plain-text")
    False
    """
    try:
        scheme, rounds, salt, digest = password_hash.split("$")
        iterations = int(rounds)
        wanted = base64.b64decode(digest, validate=True)
        salt_bytes = base64.b64decode(salt, validate=True)
    except ValueError:
        return False
    if scheme != HASH_SCHEME or iterations < 1:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode(), salt_bytes, iterations)
    return hmac.compare_digest(actual, wanted)


def load_users(path: Path) -> dict[str, PortalUser]:
    """Read the users file; a bad entry stops the portal naming it."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the portal users file {path} ({exc.strerror}); create it "
            "as the README shows or pass --users"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path} is not valid YAML: {exc}") from None
    entries = document.get("users") if isinstance(document, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ConfigurationError(f"{path} needs a `users:` map with at least one user")
    return {
        str(name): parse_user(str(name), entry, source=path)
        for name, entry in entries.items()
    }


def parse_user(
    username: str, entry: Any, *, source: Path | str = "users"
) -> PortalUser:
    """One entry of the users file as a PortalUser."""
    where = f"{source}: user {username!r}"
    if not isinstance(entry, Mapping):
        raise ConfigurationError(f"{where} must be a map of password and sees")
    password = str(entry.get("password") or "")
    if not password.startswith(HASH_SCHEME + "$"):
        raise ConfigurationError(
            f"{where}: password must be a hash from `dotloop-reporter portal "
            "hash-password`, never the password itself"
        )
    return PortalUser(username, Secret(password), _viewer(where, entry))


def _viewer(where: str, entry: Mapping[str, Any]) -> Viewer:
    scope = entry.get("sees")
    if scope == "brokerage":
        return Viewer.brokerage()
    if scope == "office":
        profile_id = entry.get("profile_id")
        if isinstance(profile_id, bool) or not isinstance(profile_id, int):
            raise ConfigurationError(f"{where}: an office viewer needs profile_id")
        return Viewer.office(profile_id)
    if scope == "agent":
        email = entry.get("agent_email")
        if not isinstance(email, str):
            raise ConfigurationError(f"{where}: an agent viewer needs agent_email")
        try:
            return Viewer.agent(email)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
    raise ConfigurationError(f"{where}: sees must be one of {', '.join(_SCOPES)}")


class Sessions:
    """Logged-in portal users by random session id, kept in memory only."""

    def __init__(self, users: Mapping[str, PortalUser], ttl: float = SESSION_SECONDS):
        self._users = dict(users)
        self._ttl = ttl
        self._open: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def log_in(self, username: str, password: str) -> Secret | None:
        """A new session id when the password is right, else None."""
        user = self._users.get(username)
        stored = user.password_hash.reveal() if user else _DUMMY_HASH
        if not verify_password(password, stored) or user is None:
            return None
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._drop_expired()
            self._open[session_id] = (user.username, time.monotonic() + self._ttl)
        return Secret(session_id)

    def user(self, session_id: str | None) -> PortalUser | None:
        """The user of a live session, or None."""
        if not session_id:
            return None
        with self._lock:
            found = self._open.get(session_id)
            if found is None or found[1] < time.monotonic():
                self._open.pop(session_id, None)
                return None
        return self._users.get(found[0])

    def log_out(self, session_id: str | None) -> None:
        with self._lock:
            self._open.pop(session_id or "", None)

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, until) in self._open.items() if until < now]:
            del self._open[key]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
