"""Postgres connections, the raw schema, and the one place psycopg errors map."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeAlias

import psycopg
from psycopg import sql

from connector.secrets import redact

from .errors import ConfigurationError, StorageError
from .settings import Settings

logger = logging.getLogger(__name__)

Connection: TypeAlias = "psycopg.Connection[Any]"

# Two processes creating the schema at once race on the catalog; one
# transaction-scoped advisory lock serialises them.
_SCHEMA_LOCK_KEY = "dotloop-reporter:schema"


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Translate psycopg errors raised inside the block into StorageError."""
    try:
        yield
    except psycopg.Error as exc:
        raise StorageError(f"Postgres failed to {action}: {redact(str(exc))}") from exc


def connect(settings: Settings) -> Connection:
    """Open an autocommit connection; units of work use conn.transaction()."""
    if settings.database_url is None:
        raise ConfigurationError(
            "DATABASE_URL is not set; point it at the Postgres that holds the "
            "Dotloop data, e.g. postgresql://user:password@host:5432/dbname"
        )
    with storage_errors("open a connection"):
        return psycopg.connect(
            settings.database_url.reveal(),
            autocommit=True,
            application_name="dotloop-reporter",
        )


def raw_table(settings: Settings, table: str) -> sql.Identifier:
    """The qualified name of a table in the configured raw schema."""
    return sql.Identifier(settings.raw_schema, table)


def raw_tables(schema: str) -> dict[str, sql.Identifier]:
    """Every raw table's qualified name by table name, for sql.SQL(...).format()."""
    names = ("loop", "loop_profile", "payload_history", "profile", "quarantine")
    return {name: sql.Identifier(schema, name) for name in names}


def render_schema(settings: Settings) -> sql.Composed:
    """schema.sql with its {raw} placeholder bound to the raw schema name."""
    text = Path(__file__).with_name("schema.sql").read_text("utf-8")
    return sql.SQL(text).format(raw=sql.Identifier(settings.raw_schema))


def apply_schema(conn: Connection, settings: Settings) -> None:
    """Create the raw schema and its tables; applying it again changes nothing.

    Every run and webhook applies it, while other runs land pages: a schema
    already at this version is left alone, since its ALTER TABLE statements
    would wait for every open transaction on their tables.
    """
    statement = render_schema(settings)
    version = hashlib.sha256(statement.as_bytes(conn)).hexdigest()[:16]
    schema = settings.raw_schema
    with storage_errors("apply the raw schema"):
        if _version(conn, schema) == version:
            return
        with conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (_SCHEMA_LOCK_KEY,)
            )
            if _version(conn, schema) == version:
                return
            conn.execute(statement)
            conn.execute(
                sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                    sql.Identifier(schema), sql.Literal(_VERSION_MARK + version)
                )
            )
    logger.info("raw schema %s is up to date (version %s)", schema, version)


# The schema's comment names the version of schema.sql applied last.
_VERSION_MARK = "Dotloop Reporter raw replica; schema version "


def _version(conn: Connection, schema: str) -> str | None:
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace "
        "WHERE nspname = %s",
        (schema,),
    ).fetchone()
    comment = None if row is None else row[0]
    if comment is None or not comment.startswith(_VERSION_MARK):
        return None
    return str(comment[len(_VERSION_MARK) :])
