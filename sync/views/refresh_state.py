"""What the refresh keeps between runs: marks, definitions, deleted loops.

Each fast table's row in the helper schema's refresh_state holds the hash of
its definition, the configuration it was filled under and the mark the next
refresh looks for changes from; a trigger logs the loops deleted from
raw.loop, which no later scan could find.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from psycopg import sql

from ..db import Connection
from ..settings import Settings
from .build import ViewSql
from .library import lib_schema

STATE_TABLE = "refresh_state"
DELETIONS_TABLE = "loop_deletions"

# Writers stamp fetched_at with a clock read before their transaction
# commits; the next refresh looks this far behind the oldest transaction
# open when this one started, so that a page landed meanwhile is not missed.
_MARK_MARGIN = timedelta(minutes=10)


def definition_hash(table: ViewSql) -> str:
    """What the table's rows depend on: its columns, indexes and SELECT."""
    text = "\n".join((table.create, *table.indexes, table.fill))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def create_state_table(conn: Connection, settings: Settings) -> None:
    """The helper schema's record of each fast table's definition and mark."""
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            "table_name text PRIMARY KEY, definition_hash text NOT NULL, "
            "changes_since timestamptz NOT NULL, refreshed_at timestamptz NOT NULL)"
        ).format(state_table(settings))
    )
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS config_hash text").format(
            state_table(settings)
        )
    )
    _create_deletion_log(conn, settings)


def _create_deletion_log(conn: Connection, settings: Settings) -> None:
    """The loops deleted from raw.loop and when, written by a trigger."""
    lib = lib_schema(settings)
    log = sql.Identifier(lib, DELETIONS_TABLE)
    function = sql.Identifier(lib, "log_loop_deletions")
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (loop_id bigint NOT NULL, "
            "deleted_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        ).format(log)
    )
    conn.execute(
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (deleted_at)").format(
            sql.Identifier(f"{DELETIONS_TABLE}_deleted_at_idx"), log
        )
    )
    conn.execute(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO {log} (loop_id) SELECT loop_id FROM gone; "
            "RETURN NULL; END $$"
        ).format(function=function, log=log)
    )
    conn.execute(
        sql.SQL(
            "CREATE OR REPLACE TRIGGER log_loop_deletions AFTER DELETE ON {} "
            "REFERENCING OLD TABLE AS gone "
            "FOR EACH STATEMENT EXECUTE FUNCTION {}()"
        ).format(sql.Identifier(settings.raw_schema, "loop"), function)
    )


def stored_hashes(conn: Connection, settings: Settings) -> dict[str, str]:
    """Definition hash of each fast table as last filled."""
    exists = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL",
        (f"{lib_schema(settings)}.{STATE_TABLE}",),
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute(
        sql.SQL("SELECT table_name, definition_hash FROM {}").format(
            state_table(settings)
        )
    ).fetchall()
    return {name: digest for name, digest in rows}


def config_changed(
    conn: Connection, settings: Settings, tables: list[ViewSql], fingerprint: str
) -> list[str]:
    """Tables that read the configuration and were filled under another one."""
    rows = conn.execute(
        sql.SQL("SELECT table_name, config_hash FROM {}").format(state_table(settings))
    ).fetchall()
    filled_under = dict(rows)
    return [
        table.name
        for table in tables
        if table.reads_config and filled_under.get(table.name) != fingerprint
    ]


def changed_loops(
    conn: Connection, settings: Settings, since: datetime | None
) -> list[int]:
    """Loops landed, removed, newly linked or deleted since the mark.

    A removed loop that a sweep finds listed again has its fetched_at moved
    with its removed_at cleared, so it is among the landed ones.
    """
    raw = settings.raw_schema
    rows = conn.execute(
        sql.SQL(
            "SELECT loop_id FROM {loop} WHERE fetched_at >= %(since)s "
            "UNION SELECT loop_id FROM {loop} WHERE removed_at >= %(since)s "
            "UNION SELECT loop_id FROM {link} WHERE first_seen_at >= %(since)s "
            "UNION SELECT loop_id FROM {log} WHERE deleted_at >= %(since)s"
        ).format(
            loop=sql.Identifier(raw, "loop"),
            link=sql.Identifier(raw, "loop_profile"),
            log=sql.Identifier(lib_schema(settings), DELETIONS_TABLE),
        ),
        {"since": since or datetime.min},
    ).fetchall()
    return sorted(loop_id for (loop_id,) in rows)


def forget_deletions(
    conn: Connection, settings: Settings, since: datetime | None, mark: datetime
) -> None:
    """Drop logged deletions no later refresh looks at.

    Those before the mark this refresh started from were read by the one
    before (their transactions had ended when it set that mark); after a
    whole fill, those before the next mark.
    """
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE deleted_at < %s").format(
            sql.Identifier(lib_schema(settings), DELETIONS_TABLE)
        ),
        (mark if since is None else since,),
    )


def next_mark(conn: Connection) -> datetime:
    """Where the next refresh starts looking: before any write in flight now."""
    row = conn.execute(
        "SELECT least(clock_timestamp(), min(xact_start)) - %s "
        "FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()",
        (_MARK_MARGIN,),
    ).fetchone()
    assert row is not None
    mark: datetime = row[0]
    return mark


def changes_since(conn: Connection, settings: Settings) -> datetime | None:
    """The mark of the least recent table: where this refresh looks from."""
    row = conn.execute(
        sql.SQL("SELECT min(changes_since) FROM {}").format(state_table(settings))
    ).fetchone()
    return row[0] if row else None


def write_state(
    conn: Connection,
    settings: Settings,
    tables: list[ViewSql],
    mark: datetime,
    fingerprint: str,
) -> None:
    """Record each table as refreshed now: its definition, mark and configuration."""
    for table in tables:
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (table_name, definition_hash, changes_since, "
                "refreshed_at, config_hash) "
                "VALUES (%s, %s, %s, clock_timestamp(), %s) "
                "ON CONFLICT (table_name) DO UPDATE SET "
                "definition_hash = excluded.definition_hash, "
                "changes_since = excluded.changes_since, "
                "refreshed_at = excluded.refreshed_at, "
                "config_hash = excluded.config_hash"
            ).format(state_table(settings)),
            (table.name, definition_hash(table), mark, fingerprint),
        )


def state_table(settings: Settings) -> sql.Identifier:
    """The helper schema's refresh_state table."""
    return sql.Identifier(lib_schema(settings), STATE_TABLE)
