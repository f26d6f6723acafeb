"""Connections, the raw schema and the mapping of Postgres errors."""

from __future__ import annotations

import pytest
from psycopg import sql

from connector.secrets import Secret
from sync import db
from sync.errors import ConfigurationError, StorageError
from sync.settings import Settings

TABLES = {
    "listing_checkpoint",
    "loop",
    "loop_merge",
    "loop_profile",
    "payload_history",
    "payload_version",
    "pending_fetch",
    "profile",
    "profile_lease",
    "profile_sync_state",
    "quarantine",
    "sync_run",
}


def tables(conn: db.Connection, schema: str) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (schema,),
    ).fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize("schema", ["dotloop_raw", "brokerage_7"])
def test_the_schema_applies_twice_into_the_configured_schema(
    database_url: str, schema: str
) -> None:
    settings = Settings(database_url=Secret(database_url), raw_schema=schema)
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
        conn.execute(
            sql.SQL("INSERT INTO {} (trigger) VALUES ('x')").format(
                sql.Identifier(schema, "sync_run")
            )
        )
        db.apply_schema(conn, settings)

        assert tables(conn, schema) == TABLES
        count = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(schema, "sync_run")
            )
        ).fetchone()
        assert count == (1,)


def test_connections_are_autocommit(database_url: str) -> None:
    with db.connect(Settings(database_url=Secret(database_url))) as conn:
        assert conn.autocommit


def test_connecting_needs_a_database_url() -> None:
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        db.connect(Settings())


def test_a_refused_connection_is_a_storage_error_without_the_password(
    database_url: str,
) -> None:
    # A database that does not exist, on the real server, with a password set.
    url = database_url.replace("postgres@", "postgres:hunter2@") + "_missing"
    with pytest.raises(StorageError) as raised:
        db.connect(Settings(database_url=Secret(url)))

    assert "hunter2" not in str(raised.value)
    assert "open a connection" in str(raised.value)


def test_a_failed_statement_is_a_storage_error(database_url: str) -> None:
    with (
        db.connect(Settings(database_url=Secret(database_url))) as conn,
        pytest.raises(StorageError, match="read a table"),
        db.storage_errors("read a table"),
    ):
        conn.execute("SELECT * FROM no_such_table")
