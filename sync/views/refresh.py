"""Keeping the reporting schema's fast tables current: refresh after each sync.

A spec with `materialize` is a table in the reporting schema, filled by the
same SELECT as its parsing view in the helper schema. refresh_reporting()
replaces, in one transaction, the rows of the loops that changed since the
last refresh, and only those: loops whose payloads were landed
(raw.loop.fetched_at), removed (removed_at) or newly linked to a profile
(loop_profile.first_seen_at), and loops deleted from raw.loop (a purge),
which a trigger logs in the helper schema so that no refresh compares every
loop to find them.

Incremental rather than REFRESH MATERIALIZED VIEW: a refresh of a
materialized view parses every loop again (seconds per 30,000 loops, minutes
per million) however little a nightly run changed, and CONCURRENTLY makes it
slower still; replacing the rows of the changed loops costs time in
proportion to the change. A table whose rows add up loops (by agent, day,
month) is rebuilt by the keys the changed loops touch, writing only rows that
differ; columns that look across loops (over_rows: an agent's name, the cap)
are worked out again per agent and written where they moved. Readers see
the old rows until the transaction commits. A table whose definition changed
is dropped and filled whole by apply_views(), which refresh_reporting() runs
itself when it finds one. A table that reads the brokerage configuration
(config.* in its spec, or a table that does) is filled whole when the
configuration changed since its last fill, whoever changed it: `brokerage
load` or an admin's INSERT.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from psycopg import sql

from ..brokerage import config_fingerprint
from ..db import Connection, storage_errors
from ..settings import Settings
from .build import ViewSql, build_views
from .library import lib_schema

logger = logging.getLogger(__name__)

STATE_TABLE = "refresh_state"
DELETIONS_TABLE = "loop_deletions"

# Two refreshes (or a refresh and an apply) at once would interleave.
LOCK_KEY = "dotloop-reporter:views"

# Writers stamp fetched_at with a clock read before their transaction
# commits; the next refresh looks this far behind the oldest transaction
# open when this one started, so that a page landed meanwhile is not missed.
_MARK_MARGIN = timedelta(minutes=10)


@dataclass
class RefreshResult:
    """What one refresh did: full or incremental, loops and rows, timings.

    refilled names the tables filled whole in an incremental refresh because
    the brokerage configuration changed.
    """

    full: bool
    loops_changed: int = 0
    refilled: list[str] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0


def refresh_reporting(conn: Connection, settings: Settings) -> RefreshResult:
    """Bring every fast table up to date with raw; cheap when little changed.

    Safe after every sync run and from replay; runs apply_views() instead
    when a table's definition is not the one stored (specs changed).
    """
    tables = fast_tables(settings)
    with storage_errors("refresh the reporting tables"), conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,))
        stale = _stale_tables(conn, settings, tables)
        if not stale:
            return refresh_tables(conn, settings, tables, full=False)
    logger.warning(
        "reporting tables %s do not match their specs; applying the views",
        ", ".join(stale),
    )
    from .apply import apply_reporting

    return apply_reporting(conn, settings)


def fast_tables(settings: Settings) -> list[ViewSql]:
    """The materialized specs as reporting tables, dependencies first."""
    return [view for view in build_views(settings) if view.is_table]


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
        ).format(_state(settings))
    )
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS config_hash text").format(
            _state(settings)
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
        sql.SQL("SELECT table_name, definition_hash FROM {}").format(_state(settings))
    ).fetchall()
    return {name: digest for name, digest in rows}


def refresh_tables(
    conn: Connection, settings: Settings, tables: list[ViewSql], *, full: bool
) -> RefreshResult:
    """Fill the tables whole, or replace the changed loops' rows (in a transaction)."""
    started = time.perf_counter()
    next_mark = _next_mark(conn)
    fingerprint = config_fingerprint(conn, settings)
    result = RefreshResult(full=full)
    if full:
        _fill_whole(conn, settings, tables, result)
    else:
        since = _changes_since(conn, settings)
        changed = _changed_loops(conn, settings, since) if tables else []
        result.loops_changed = len(changed)
        result.refilled = _config_changed(conn, settings, tables, fingerprint)
        before = _keys_before(conn, tables, changed, result.refilled)
        for table in tables:
            if table.name in result.refilled:
                _fill_table(conn, table, result)
            elif changed and table.over_rows:
                _refresh_settled(conn, table, changed, result)
            elif changed:
                _refresh_table(conn, table, changed, result, before.get(table.name))
    _write_state(conn, settings, tables, next_mark, fingerprint)
    _forget_deletions(conn, settings, None if full else since, next_mark)
    result.total_seconds = time.perf_counter() - started
    logger.info(
        "refreshed %d reporting tables (%s, %d loops changed, %d filled whole for "
        "a new brokerage configuration) in %.2f s",
        len(tables),
        "whole" if full else "incremental",
        result.loops_changed,
        len(result.refilled),
        result.total_seconds,
    )
    return result


def _stale_tables(
    conn: Connection, settings: Settings, tables: list[ViewSql]
) -> list[str]:
    stored = stored_hashes(conn, settings)
    logged = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL",
        (f"{lib_schema(settings)}.{DELETIONS_TABLE}",),
    ).fetchone()
    if not logged or not logged[0]:
        # Filled before deletions were logged: which loops went is unknown.
        return [t.name for t in tables]
    return [t.name for t in tables if stored.get(t.name) != definition_hash(t)]


def _config_changed(
    conn: Connection, settings: Settings, tables: list[ViewSql], fingerprint: str
) -> list[str]:
    """Tables that read the configuration and were filled under another one."""
    rows = conn.execute(
        sql.SQL("SELECT table_name, config_hash FROM {}").format(_state(settings))
    ).fetchall()
    filled_under = dict(rows)
    return [
        table.name
        for table in tables
        if table.reads_config and filled_under.get(table.name) != fingerprint
    ]


def _fill_table(conn: Connection, table: ViewSql, result: RefreshResult) -> None:
    """Replace every row of one table."""
    started = time.perf_counter()
    target = sql.Identifier(table.schema, table.name)
    conn.execute(sql.SQL("TRUNCATE {}").format(target))
    cursor = conn.execute(sql.SQL(table.fill))
    conn.execute(sql.SQL("ANALYZE {}").format(target))
    result.rows_written[table.name] = cursor.rowcount
    result.seconds[table.name] = time.perf_counter() - started


def _fill_whole(
    conn: Connection, settings: Settings, tables: list[ViewSql], result: RefreshResult
) -> None:
    if not tables:
        return
    conn.execute(
        sql.SQL("TRUNCATE {}").format(
            sql.SQL(", ").join(sql.Identifier(t.schema, t.name) for t in tables)
        )
    )
    for table in tables:
        started = time.perf_counter()
        cursor = conn.execute(sql.SQL(table.fill))
        # Fresh rows have no statistics yet; the next fill plans with them.
        conn.execute(
            sql.SQL("ANALYZE {}").format(sql.Identifier(table.schema, table.name))
        )
        result.rows_written[table.name] = cursor.rowcount
        result.seconds[table.name] = time.perf_counter() - started
    count = conn.execute(
        sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(tables[0].schema, tables[0].name)
        )
    ).fetchone()
    result.loops_changed = count[0] if count else 0


def _refresh_table(
    conn: Connection,
    table: ViewSql,
    changed: list[int],
    result: RefreshResult,
    before: list[object] | None,
) -> None:
    """Delete and insert again the rows the changed loops touch."""
    assert table.materialize is not None
    started = time.perf_counter()
    target = sql.Identifier(table.schema, table.name)
    key = table.materialize.rebuild_by
    if key == "loop_id":
        keys: list[object] = list(changed)
        key_type = "bigint"
    else:
        keys = _rebuild_keys(conn, table, changed, before or [])
        key_type = next(c.type for c in table.columns if c.name == key)
    if key != "loop_id" and table.has_loop_id:
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE loop_id = ANY(%s::bigint[])").format(target),
            (changed,),
        )
    array = sql.SQL("%s::{}[]").format(sql.SQL(key_type))
    if table.distinct_rows:
        written = _write_differences(conn, table, array, keys)
        result.rows_written[table.name] = written
        result.seconds[table.name] = time.perf_counter() - started
        return
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE {} = ANY({})").format(
            target, sql.Identifier(key), array
        ),
        (keys,),
    )
    cursor = conn.execute(
        sql.SQL("INSERT INTO {} SELECT * FROM ({}) AS v WHERE v.{} = ANY({})").format(
            target, _escaped(table.select), sql.Identifier(key), array
        ),
        (keys,),
    )
    result.rows_written[table.name] = cursor.rowcount
    result.seconds[table.name] = time.perf_counter() - started


def _refresh_settled(
    conn: Connection, table: ViewSql, changed: list[int], result: RefreshResult
) -> None:
    """Replace the changed loops' rows, then settle the over_rows columns.

    The new rows come in with those columns NULL; each partition the changed
    loops were or are in (by settle_key) is worked out again over the table,
    and only rows whose values differ are written: a night that touches every
    agent still rewrites only the credits whose name or cap share moved.
    """
    started = time.perf_counter()
    target = sql.Identifier(table.schema, table.name)
    before = _settle_keys(conn, table, changed)
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE loop_id = ANY(%s::bigint[])").format(target),
        (changed,),
    )
    inserted = conn.execute(
        sql.SQL(
            "INSERT INTO {} SELECT * FROM ({}) AS v WHERE v.loop_id = ANY(%s)"
        ).format(target, _escaped(table.row_select)),
        (changed,),
    ).rowcount
    keys = list(dict.fromkeys([*before, *_settle_keys(conn, table, changed)]))
    result.rows_written[table.name] = inserted + _settle(conn, table, keys)
    result.seconds[table.name] = time.perf_counter() - started


def _write_differences(
    conn: Connection, table: ViewSql, array: sql.Composable, keys: list[object]
) -> int:
    """Rebuild the keys' rows, writing only those that are not already there.

    For tables whose rows are distinct (grouped): a night that touches every
    agent or day moves few of their monthly or daily figures. Rows compare
    as whole rows, NULLs equal.
    """
    assert table.materialize is not None
    target = sql.Identifier(table.schema, table.name)
    fresh = sql.Identifier("refresh_rows")
    in_keys = sql.SQL("{} = ANY({})").format(
        sql.Identifier(table.materialize.rebuild_by), array
    )
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {fresh} ON COMMIT DROP AS "
            "SELECT * FROM ({select}) AS v WHERE v.{in_keys}"
        ).format(fresh=fresh, select=_escaped(table.select), in_keys=in_keys),
        (keys,),
    )
    deleted = conn.execute(
        sql.SQL(
            "DELETE FROM {target} AS t WHERE t.{in_keys} "
            "AND NOT EXISTS (SELECT 1 FROM {fresh} AS f WHERE f = t)"
        ).format(target=target, in_keys=in_keys, fresh=fresh),
        (keys,),
    ).rowcount
    inserted = conn.execute(
        sql.SQL(
            "INSERT INTO {target} SELECT * FROM {fresh} AS f WHERE NOT EXISTS "
            "(SELECT 1 FROM {target} AS t WHERE t.{in_keys} AND t = f)"
        ).format(target=target, in_keys=in_keys, fresh=fresh),
        (keys,),
    ).rowcount
    conn.execute(sql.SQL("DROP TABLE {}").format(fresh))
    return deleted + inserted


def _settle_keys(conn: Connection, table: ViewSql, changed: list[int]) -> list[object]:
    """The settle_key values of the changed loops' rows in the table now."""
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT {key} FROM {target} "
            "WHERE loop_id = ANY(%s::bigint[]) AND {key} IS NOT NULL"
        ).format(
            key=sql.Identifier(table.settle_key),
            target=sql.Identifier(table.schema, table.name),
        ),
        (changed,),
    ).fetchall()
    return [value for (value,) in rows]


def _settle(conn: Connection, table: ViewSql, keys: list[object]) -> int:
    """Work the over_rows columns out for the keys' rows; update those that moved."""
    if not keys:
        return 0
    key_type = next(c.type for c in table.columns if c.name == table.settle_key)
    columns = [sql.Identifier(name) for name in table.over_rows]
    fresh = [sql.Identifier("s", name) for name in table.over_rows]
    stored = [sql.Identifier("s", f"stored_{name}") for name in table.over_rows]
    # Rows compare in the settling query itself: the UPDATE joins only those
    # that moved, not every row of the keys.
    cursor = conn.execute(
        sql.SQL(
            "UPDATE {target} AS t SET ({columns}) = ROW({fresh}) "
            "FROM ({settle} WHERE {key} = ANY(%s::{key_type}[])) AS s "
            "WHERE ROW({fresh}) IS DISTINCT FROM ROW({stored}) AND t.ctid = s.row_id"
        ).format(
            target=sql.Identifier(table.schema, table.name),
            columns=sql.SQL(", ").join(columns),
            fresh=sql.SQL(", ").join(fresh),
            stored=sql.SQL(", ").join(stored),
            settle=_escaped(table.settle_select),
            key=sql.Identifier("_rows", table.settle_key),
            key_type=sql.SQL(key_type),
        ),
        (keys,),
    )
    return cursor.rowcount


def _keys_before(
    conn: Connection, tables: list[ViewSql], changed: list[int], refilled: list[str]
) -> dict[str, list[object]]:
    """For tables without loop_id: the keys the changed loops have before the refresh.

    Such a table (rows adding up many loops, say one per month) cannot tell
    which of its rows a loop was in, so its source's values are read before
    any table is refreshed.
    """
    return {
        table.name: _source_keys(conn, table, changed)
        for table in tables
        if changed and not table.has_loop_id and table.name not in refilled
    }


def _source_keys(conn: Connection, table: ViewSql, changed: list[int]) -> list[object]:
    """Values of the rebuild_from column for the changed loops, as they are now."""
    assert table.materialize is not None and table.materialize.rebuild_from
    source, column = table.materialize.rebuild_from
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT {column} FROM {source} "
            "WHERE loop_id = ANY(%s::bigint[]) AND {column} IS NOT NULL"
        ).format(
            column=sql.Identifier(column),
            source=sql.Identifier(table.schema, source),
        ),
        (changed,),
    ).fetchall()
    return [value for (value,) in rows]


def _rebuild_keys(
    conn: Connection, table: ViewSql, changed: list[int], before: list[object]
) -> list[object]:
    """Values of rebuild_by that the changed loops had before or have now."""
    assert table.materialize is not None and table.materialize.rebuild_from
    if not table.has_loop_id:
        now = _source_keys(conn, table, changed)
        return list(dict.fromkeys([*before, *now]))
    source, column = table.materialize.rebuild_from
    key = sql.Identifier(table.materialize.rebuild_by)
    rows = conn.execute(
        sql.SQL(
            "SELECT {key} FROM {target} WHERE loop_id = ANY(%(ids)s::bigint[]) "
            "UNION SELECT {column} FROM {source} "
            "WHERE loop_id = ANY(%(ids)s::bigint[]) AND {column} IS NOT NULL"
        ).format(
            key=key,
            target=sql.Identifier(table.schema, table.name),
            column=sql.Identifier(column),
            source=sql.Identifier(table.schema, source),
        ),
        {"ids": changed},
    ).fetchall()
    return [value for (value,) in rows]


def _changed_loops(
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


def _forget_deletions(
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


def _next_mark(conn: Connection) -> datetime:
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


def _changes_since(conn: Connection, settings: Settings) -> datetime | None:
    row = conn.execute(
        sql.SQL("SELECT min(changes_since) FROM {}").format(_state(settings))
    ).fetchone()
    return row[0] if row else None


def _write_state(
    conn: Connection,
    settings: Settings,
    tables: list[ViewSql],
    mark: datetime,
    fingerprint: str,
) -> None:
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
            ).format(_state(settings)),
            (table.name, definition_hash(table), mark, fingerprint),
        )


def _escaped(query: str) -> sql.SQL:
    """Generated SQL inside a statement with parameters: its % signs doubled."""
    return sql.SQL(query.replace("%", "%%"))


def _state(settings: Settings) -> sql.Identifier:
    return sql.Identifier(lib_schema(settings), STATE_TABLE)
