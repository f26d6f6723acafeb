"""Dotloop OAuth tokens in Postgres: a private schema, encrypted at rest.

The schema (DOTLOOP_PRIVATE_SCHEMA, default `dotloop_private`) is revoked from
PUBLIC and from the reporting reader role, and both tokens are Fernet
ciphertext under DOTLOOP_TOKEN_KEY, so neither a reporting login nor a copy
of the database reveals them. One row per Dotloop connection (client id).
Expiry is kept and compared on the database's clock, the one clock every
worker shares.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from psycopg import sql

from connector import Secret, TokenGrant

from .db import Connection, storage_errors
from .errors import ConfigurationError
from .settings import Settings

logger = logging.getLogger(__name__)

KEY_FILE = "dotloop_token.key"
CONNECTED = "connected"
RECONNECT = "reconnect_required"

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {schema};
REVOKE ALL ON SCHEMA {schema} FROM PUBLIC;
CREATE TABLE IF NOT EXISTS {schema}.oauth_token (
    -- the Dotloop client id the tokens were issued to
    connection text PRIMARY KEY,
    -- Fernet ciphertext of each token
    access_token bytea,
    refresh_token bytea NOT NULL,
    expires_at timestamptz,
    lifetime_seconds double precision,
    scope text,
    -- SHA-256 of the configured DOTLOOP_REFRESH_TOKEN the row started from
    seeded_from text,
    status text NOT NULL DEFAULT 'connected'
        CHECK (status IN ('connected', 'reconnect_required')),
    status_message text,
    changed_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON {schema}.oauth_token FROM PUBLIC;
"""
_COLUMNS = (
    "access_token, refresh_token, extract(epoch FROM expires_at - now()), "
    "lifetime_seconds, scope, seeded_from, status, status_message, changed_at"
)


@dataclass(frozen=True)
class StoredToken:
    """One connection's tokens as stored; times left are by the database clock.

    The tokens are None when the key cannot decrypt them (`readable` False).
    """

    access_token: Secret | None
    refresh_token: Secret | None
    seconds_left: float | None
    lifetime: float | None
    scope: str | None
    seeded_from: str | None
    status: str
    message: str | None
    changed_at: datetime
    readable: bool = True

    @property
    def needs_reconnect(self) -> bool:
        """Whether Dotloop refused the refresh token: an admin must reconnect."""
        return self.status == RECONNECT


def fingerprint(token: Secret) -> str:
    """A one-way fingerprint that tells whether a configured token changed."""
    return hashlib.sha256(token.reveal().encode()).hexdigest()


def token_cipher(settings: Settings) -> MultiFernet:
    """The cipher of stored tokens: DOTLOOP_TOKEN_KEY, the first key encrypting.

    Without a key, a simulator connection uses a key generated once in the data
    directory; a real Dotloop connection must be given one.
    """
    dotloop = settings.dotloop
    if dotloop.token_key is not None:
        keys = [key.strip() for key in dotloop.token_key.reveal().split(",")]
    elif dotloop.is_local:
        keys = [_local_key(settings.data_dir / KEY_FILE)]
    else:
        raise ConfigurationError(
            "DOTLOOP_TOKEN_KEY is not set; stored Dotloop tokens are encrypted with it"
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ConfigurationError(
            "DOTLOOP_TOKEN_KEY must be a Fernet key, or several separated by commas"
        ) from None


class TokenStore:
    """Reads and writes one connection's row; callers own the transactions."""

    def __init__(
        self,
        schema: str,
        connection: str,
        cipher: MultiFernet,
        *,
        reader_role: str | None = None,
    ) -> None:
        self.connection = connection
        self._schema = schema
        self._table = sql.Identifier(schema, "oauth_token")
        self._cipher = cipher
        self._reader_role = reader_role

    def ensure_schema(self, conn: Connection) -> None:
        """Create the private schema and table; revoke them from the reader."""
        with storage_errors("create the private token schema"), conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"dotloop-reporter:schema:{self._schema}",),
            )
            schema = sql.Identifier(self._schema)
            conn.execute(sql.SQL(_SCHEMA).format(schema=schema))
            if self._reader_role is not None and _role_exists(conn, self._reader_role):
                role = sql.Identifier(self._reader_role)
                conn.execute(
                    sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema, role)
                )
                conn.execute(
                    sql.SQL("REVOKE ALL ON {} FROM {}").format(self._table, role)
                )

    def lock(self, conn: Connection) -> None:
        """Hold this connection's token lock until the transaction ends."""
        with storage_errors("lock the Dotloop tokens"):
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"dotloop-reporter:token:{self._schema}:{self.connection}",),
            )

    def read(self, conn: Connection) -> StoredToken | None:
        """The stored row, decrypted; None when there is none."""
        query = sql.SQL("SELECT {} FROM {} WHERE connection = %s").format(
            sql.SQL(_COLUMNS), self._table
        )
        with storage_errors("read the Dotloop tokens"):
            row = conn.execute(query, (self.connection,)).fetchone()
        return None if row is None else self._decrypt(row)

    def seed(self, conn: Connection, refresh_token: Secret) -> StoredToken:
        """Start over from a configured refresh token, with no access token."""
        statement = sql.SQL(
            "INSERT INTO {table} (connection, refresh_token, seeded_from) "
            "VALUES (%s, %s, %s) ON CONFLICT (connection) DO UPDATE SET "
            "access_token = NULL, refresh_token = EXCLUDED.refresh_token, "
            "expires_at = NULL, lifetime_seconds = NULL, scope = NULL, "
            "seeded_from = EXCLUDED.seeded_from, status = {connected}, "
            "status_message = NULL, changed_at = now()"
        ).format(table=self._table, connected=sql.Literal(CONNECTED))
        params = (
            self.connection,
            self._encrypt(refresh_token),
            fingerprint(refresh_token),
        )
        with storage_errors("store the Dotloop refresh token"):
            conn.execute(statement, params)
        return self._must_read(conn)

    def save(self, conn: Connection, grant: TokenGrant) -> StoredToken:
        """Keep a refresh's result; the refresh token stays unless a new one came."""
        refresh = grant.refresh_token
        statement = sql.SQL(
            "UPDATE {table} SET access_token = %s, "
            "refresh_token = coalesce(%s, refresh_token), "
            "expires_at = now() + make_interval(secs => %s), "
            "lifetime_seconds = %s, scope = %s, status = {connected}, "
            "status_message = NULL, changed_at = now() WHERE connection = %s"
        ).format(table=self._table, connected=sql.Literal(CONNECTED))
        params = (
            self._encrypt(grant.access_token),
            None if refresh is None else self._encrypt(refresh),
            grant.expires_in,
            grant.expires_in,
            grant.scope,
            self.connection,
        )
        with storage_errors("store the Dotloop tokens"):
            conn.execute(statement, params)
        return self._must_read(conn)

    def replace(self, conn: Connection, grant: TokenGrant) -> StoredToken:
        """Keep the tokens of a new login, whatever was stored before.

        The row is seeded from no configured token, so a DOTLOOP_REFRESH_TOKEN
        left in the environment does not override the login.
        """
        if grant.refresh_token is None:
            raise ConfigurationError(
                "Dotloop issued no refresh token at login; syncing could not "
                "continue past the access token's expiry: run the login again"
            )
        statement = sql.SQL(
            "INSERT INTO {table} (connection, access_token, refresh_token, "
            "expires_at, lifetime_seconds, scope) VALUES (%s, %s, %s, "
            "now() + make_interval(secs => %s), %s, %s) "
            "ON CONFLICT (connection) DO UPDATE SET "
            "access_token = EXCLUDED.access_token, "
            "refresh_token = EXCLUDED.refresh_token, "
            "expires_at = EXCLUDED.expires_at, "
            "lifetime_seconds = EXCLUDED.lifetime_seconds, scope = EXCLUDED.scope, "
            "seeded_from = NULL, status = {connected}, status_message = NULL, "
            "changed_at = now()"
        ).format(table=self._table, connected=sql.Literal(CONNECTED))
        params = (
            self.connection,
            self._encrypt(grant.access_token),
            self._encrypt(grant.refresh_token),
            grant.expires_in,
            grant.expires_in,
            grant.scope,
        )
        with storage_errors("store the Dotloop tokens"):
            conn.execute(statement, params)
        return self._must_read(conn)

    def mark_reconnect(self, conn: Connection, message: str) -> None:
        """Record that Dotloop refused the refresh token, and why."""
        statement = sql.SQL(
            "UPDATE {table} SET access_token = NULL, expires_at = NULL, "
            "status = {reconnect}, status_message = %s, changed_at = now() "
            "WHERE connection = %s"
        ).format(table=self._table, reconnect=sql.Literal(RECONNECT))
        with storage_errors("record the Dotloop connection status"):
            conn.execute(statement, (message, self.connection))

    def delete(self, conn: Connection) -> None:
        """Forget this connection's tokens."""
        statement = sql.SQL("DELETE FROM {} WHERE connection = %s").format(self._table)
        with storage_errors("delete the Dotloop tokens"):
            conn.execute(statement, (self.connection,))

    def _must_read(self, conn: Connection) -> StoredToken:
        stored = self.read(conn)
        assert stored is not None, "the row was written in this transaction"
        return stored

    def _encrypt(self, token: Secret) -> bytes:
        return self._cipher.encrypt(token.reveal().encode())

    def _decrypt(self, row: tuple[Any, ...]) -> StoredToken:
        access, refresh, left, lifetime, scope, seeded, status, message, at = row
        try:
            access_token = None if access is None else self._reveal(access)
            refresh_token = self._reveal(refresh)
        except InvalidToken:
            logger.warning("the stored Dotloop tokens do not decrypt with this key")
            access_token = refresh_token = None
        return StoredToken(
            access_token=access_token,
            refresh_token=refresh_token,
            seconds_left=None if left is None else float(left),
            lifetime=lifetime,
            scope=scope,
            seeded_from=seeded,
            status=status,
            message=message,
            changed_at=at,
            readable=refresh_token is not None,
        )

    def _reveal(self, ciphertext: bytes) -> Secret:
        return Secret(self._cipher.decrypt(bytes(ciphertext)).decode())


def _role_exists(conn: Connection, role: str) -> bool:
    found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    return found.fetchone() is not None


def _local_key(path: Path) -> str:
    """A key kept in the data directory, created readable by its owner only."""
    if path.exists():
        return path.read_text().strip()
    key = Fernet.generate_key().decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{path.name}.{os.getpid()}")
    # Written whole, then linked into place: a process racing this one sees
    # either no key file or a complete one, and the first link wins.
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    try:
        os.link(draft, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink()
    logger.info("generated a token key for the local simulator in %s", path)
    return key
