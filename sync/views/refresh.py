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
are worked out again per agent and written where they moved. A table whose
spec rebuilds it from another fast table's rows is rebuilt by the keys of
the rows this refresh wrote there (an agent's months whose credits moved),
which a night touching every agent leaves a fraction of. Readers see
the old rows until the transaction commits. A table whose definition changed
is dropped and filled whole by apply_views(), which refresh_reporting() runs
itself when it finds one. A table that reads the brokerage configuration
(config.* in its spec, or a table that does) is filled whole when the
configuration changed since its last fill, whoever changed it: `brokerage
load` or an admin's INSERT.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from psycopg import sql

from ..brokerage import config_fingerprint
from ..db import Connection, storage_errors
from ..settings import Settings
from .build import REBUILD_KEYS, ViewSql, build_views
from .library import lib_schema
from .refresh_keys import (
    Statement,
    WrittenRows,
    escaped,
    keeping_written,
    key_column,
    key_sources,
    keys_before,
    rebuild_keys,
    recorded_keys,
    rows_source,
    settle_keys,
    start_recording,
)
from .refresh_state import (
    DELETIONS_TABLE,
    changed_loops,
    changes_since,
    config_changed,
    definition_hash,
    forget_deletions,
    next_mark,
    stored_hashes,
    write_state,
)

logger = logging.getLogger(__name__)

# Rebuilding a table by keys sorts and compares a few hundred thousand rows
# at a million loops; with the server's default work_mem (4 MB) they spilled
# to disk, and agent_ytd_production took 4.3 s instead of 2.7 s.
_WORK_MEM = "64MB"

# Two refreshes (or a refresh and an apply) at once would interleave.
LOCK_KEY = "dotloop-reporter:views"


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
    when a table's definition is not the one stored (specs changed). Waits
    for a refresh or an apply already running.
    """
    result = _refresh(conn, settings, wait=True)
    assert result is not None
    return result


def try_refresh_reporting(conn: Connection, settings: Settings) -> RefreshResult | None:
    """refresh_reporting(), or None at once when another refresh is running.

    For a caller that must not wait minutes behind a nightly refresh: what
    it landed after that refresh began is left to the next one.
    """
    return _refresh(conn, settings, wait=False)


def _refresh(
    conn: Connection, settings: Settings, *, wait: bool
) -> RefreshResult | None:
    """Refresh under the refresh lock; None when not waiting and it is taken."""
    tables = fast_tables(settings)
    with storage_errors("refresh the reporting tables"), conn.transaction():
        if wait:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,))
        else:
            row = conn.execute(
                "SELECT pg_try_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,)
            ).fetchone()
            if not row or not row[0]:
                logger.info("reporting refresh skipped: another one is running")
                return None
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


def refresh_tables(
    conn: Connection, settings: Settings, tables: list[ViewSql], *, full: bool
) -> RefreshResult:
    """Fill the tables whole, or replace the changed loops' rows (in a transaction)."""
    started = time.perf_counter()
    conn.execute("SELECT set_config('work_mem', %s, true)", (_WORK_MEM,))
    mark = next_mark(conn)
    fingerprint = config_fingerprint(conn, settings)
    result = RefreshResult(full=full)
    if full:
        _fill_whole(conn, settings, tables, result)
    else:
        since = changes_since(conn, settings)
        changed = changed_loops(conn, settings, since) if tables else []
        result.loops_changed = len(changed)
        result.refilled = config_changed(conn, settings, tables, fingerprint)
        sources = key_sources(tables)
        before = keys_before(conn, tables, changed, result.refilled, sources)
        recorded = start_recording(conn, tables, sources) if changed else {}
        for table in tables:
            written = recorded.get(table.name)
            source = sources.get(table.name)
            if table.name in result.refilled or source in result.refilled:
                _fill_table(conn, table, result)
            elif changed and table.over_rows:
                _refresh_settled(conn, table, changed, result, written)
            elif changed and rows_source(table):
                _rebuild_from_rows(conn, table, recorded, result, written)
            elif changed:
                if source is not None:
                    keys = recorded_keys(conn, recorded[source], key_column(table))
                else:
                    keys = rebuild_keys(conn, table, changed, before.get(table.name))
                _refresh_table(conn, table, changed, result, keys, written)
        for record in recorded.values():
            conn.execute(sql.SQL("DROP TABLE {}").format(record.table))
    write_state(conn, settings, tables, mark, fingerprint)
    forget_deletions(conn, settings, None if full else since, mark)
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
    """Tables whose definition is not the one they were filled by."""
    stored = stored_hashes(conn, settings)
    logged = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL",
        (f"{lib_schema(settings)}.{DELETIONS_TABLE}",),
    ).fetchone()
    if not logged or not logged[0]:
        # Filled before deletions were logged: which loops went is unknown.
        return [t.name for t in tables]
    return [t.name for t in tables if stored.get(t.name) != definition_hash(t)]


def _fill_table(conn: Connection, table: ViewSql, result: RefreshResult) -> None:
    """Replace every row of one table; readers go on seeing the old ones meanwhile.

    DELETE rather than TRUNCATE: TRUNCATE's exclusive lock would hold every
    dashboard query on the table until the refresh commits (a minute at a
    million loops); the dead rows it leaves are autovacuum's.
    """
    started = time.perf_counter()
    target = sql.Identifier(table.schema, table.name)
    conn.execute(sql.SQL("DELETE FROM {}").format(target))
    cursor = conn.execute(sql.SQL(table.fill))
    conn.execute(sql.SQL("ANALYZE {}").format(target))
    result.rows_written[table.name] = cursor.rowcount
    result.seconds[table.name] = time.perf_counter() - started


def _fill_whole(
    conn: Connection, settings: Settings, tables: list[ViewSql], result: RefreshResult
) -> None:
    """Empty and fill every table after a definition changed (apply_views).

    Readers wait until it commits, as they do for the tables it recreated.
    """
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


def _rebuild_from_rows(
    conn: Connection,
    table: ViewSql,
    recorded: dict[str, WrittenRows],
    result: RefreshResult,
    written: WrittenRows | None,
) -> None:
    """Rebuild the keys of the rows the refresh wrote in the table this one reads."""
    assert table.materialize is not None
    started = time.perf_counter()
    source = rows_source(table)
    assert source is not None
    columns = sql.SQL(", ").join(map(sql.Identifier, table.materialize.rebuild_by))
    keys = sql.Identifier(REBUILD_KEYS)
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {keys} ON COMMIT DROP AS "
            "SELECT DISTINCT {columns} FROM {recorded} WHERE ({columns}) IS NOT NULL"
        ).format(keys=keys, columns=columns, recorded=recorded[source].table)
    )
    conn.execute(sql.SQL("ANALYZE {}").format(keys))
    in_keys = sql.SQL("({columns}) IN (SELECT {columns} FROM {keys})").format(
        columns=columns, keys=keys
    )
    fresh = sql.SQL(table.rebuild_select)
    if table.distinct_rows:
        count = _write_differences(conn, table, fresh, in_keys, None, written)
    else:
        count = _replace_rows(conn, table, fresh, in_keys, None, written)
    conn.execute(sql.SQL("DROP TABLE {}").format(keys))
    result.rows_written[table.name] = count
    result.seconds[table.name] = time.perf_counter() - started


def _refresh_table(
    conn: Connection,
    table: ViewSql,
    changed: list[int],
    result: RefreshResult,
    keys: list[object],
    written: WrittenRows | None,
) -> None:
    """Delete and insert again the rows of the keys the changed loops touch."""
    assert table.materialize is not None
    started = time.perf_counter()
    target = sql.Identifier(table.schema, table.name)
    key = table.materialize.key
    key_type = next(c.type for c in table.columns if c.name == key)
    if key != "loop_id" and table.has_loop_id:
        conn.execute(
            keeping_written(
                sql.SQL("DELETE FROM {} WHERE loop_id = ANY(%s::bigint[])").format(
                    target
                ),
                written,
            ),
            (changed,),
        )
    in_keys = sql.SQL("{} = ANY(%s::{}[])").format(
        sql.Identifier(key), sql.SQL(key_type)
    )
    fresh = sql.SQL("SELECT * FROM ({}) AS v WHERE v.{}").format(
        escaped(table.select), in_keys
    )
    if table.distinct_rows:
        count = _write_differences(conn, table, fresh, in_keys, (keys,), written)
    else:
        count = _replace_rows(conn, table, fresh, in_keys, (keys,), written)
    result.rows_written[table.name] = count
    result.seconds[table.name] = time.perf_counter() - started


def _replace_rows(
    conn: Connection,
    table: ViewSql,
    fresh: Statement,
    in_keys: Statement,
    params: tuple[object, ...] | None,
    written: WrittenRows | None,
) -> int:
    """Delete the keys' rows and insert them again."""
    target = sql.Identifier(table.schema, table.name)
    conn.execute(
        keeping_written(
            sql.SQL("DELETE FROM {} WHERE {}").format(target, in_keys), written
        ),
        params,
    )
    cursor = conn.execute(
        keeping_written(sql.SQL("INSERT INTO {} {}").format(target, fresh), written),
        params,
    )
    count: int = cursor.rowcount
    return count


def _refresh_settled(
    conn: Connection,
    table: ViewSql,
    changed: list[int],
    result: RefreshResult,
    written: WrittenRows | None,
) -> None:
    """Replace the changed loops' rows, then settle the over_rows columns.

    The new rows come in with those columns NULL; each partition the changed
    loops were or are in (by settle_key) is worked out again over the table,
    and only rows whose values differ are written: a night that touches every
    agent still rewrites only the credits whose name or cap share moved.
    """
    started = time.perf_counter()
    target = sql.Identifier(table.schema, table.name)
    before = [] if written else settle_keys(conn, table, changed)
    conn.execute(
        keeping_written(
            sql.SQL("DELETE FROM {} WHERE loop_id = ANY(%s::bigint[])").format(target),
            written,
        ),
        (changed,),
    )
    inserted = conn.execute(
        keeping_written(
            sql.SQL(
                "INSERT INTO {} SELECT * FROM ({}) AS v WHERE v.loop_id = ANY(%s)"
            ).format(target, escaped(table.row_select)),
            written,
        ),
        (changed,),
    ).rowcount
    if written is not None:
        # The deleted and inserted rows' keys: those the loops had and have.
        keys = recorded_keys(conn, written, table.settle_key)
    else:
        keys = list(dict.fromkeys([*before, *settle_keys(conn, table, changed)]))
    settled = _settle(conn, table, keys, written)
    result.rows_written[table.name] = inserted + settled
    result.seconds[table.name] = time.perf_counter() - started


def _write_differences(
    conn: Connection,
    table: ViewSql,
    select: Statement,
    in_keys: Statement,
    params: tuple[object, ...] | None,
    written: WrittenRows | None,
) -> int:
    """Rebuild the keys' rows, writing only those that are not already there.

    For tables whose rows are distinct (grouped): a night that touches every
    agent or day moves few of their monthly or daily figures. Rows compare
    as whole rows, NULLs equal. in_keys is a condition on the table's own
    columns; select gives the keys' rows.
    """
    target = sql.Identifier(table.schema, table.name)
    fresh = sql.Identifier("refresh_rows")
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {fresh} ON COMMIT DROP AS {select}").format(
            fresh=fresh, select=select
        ),
        params,
    )
    deleted = conn.execute(
        keeping_written(
            sql.SQL(
                "DELETE FROM {target} AS t WHERE {in_keys} "
                "AND NOT EXISTS (SELECT 1 FROM {fresh} AS f WHERE f = t)"
            ).format(target=target, in_keys=in_keys, fresh=fresh),
            written,
            "t",
        ),
        params,
    ).rowcount
    inserted = conn.execute(
        keeping_written(
            sql.SQL(
                "INSERT INTO {target} SELECT * FROM {fresh} AS f WHERE NOT EXISTS "
                "(SELECT 1 FROM {target} AS t WHERE {in_keys} AND t = f)"
            ).format(target=target, in_keys=in_keys, fresh=fresh),
            written,
        ),
        params,
    ).rowcount
    conn.execute(sql.SQL("DROP TABLE {}").format(fresh))
    return deleted + inserted


def _settle(
    conn: Connection,
    table: ViewSql,
    keys: list[object],
    written: WrittenRows | None,
) -> int:
    """Work the over_rows columns out for the keys' rows; update those that moved."""
    if not keys:
        return 0
    key_type = next(c.type for c in table.columns if c.name == table.settle_key)
    columns = [sql.Identifier(name) for name in table.over_rows]
    fresh = [sql.Identifier("s", name) for name in table.over_rows]
    stored = [sql.Identifier("s", f"stored_{name}") for name in table.over_rows]
    moved = sql.Identifier("refresh_moved")
    # Rows compare in the settling query itself, and the few that moved are
    # found again by row id: no join with every row of the keys.
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {moved} ON COMMIT DROP AS SELECT s.* "
            "FROM ({settle} WHERE {key} = ANY(%s::{key_type}[])) AS s "
            "WHERE ROW({fresh}) IS DISTINCT FROM ROW({stored})"
        ).format(
            moved=moved,
            settle=escaped(table.settle_select),
            key=sql.Identifier("_rows", table.settle_key),
            key_type=sql.SQL(key_type),
            fresh=sql.SQL(", ").join(fresh),
            stored=sql.SQL(", ").join(stored),
        ),
        (keys,),
    )
    conn.execute(sql.SQL("ANALYZE {}").format(moved))
    update = sql.SQL(
        "UPDATE {target} AS t SET ({columns}) = ROW({fresh}) "
        "FROM {moved} AS s WHERE t.ctid = s.row_id"
    ).format(
        target=sql.Identifier(table.schema, table.name),
        columns=sql.SQL(", ").join(columns),
        fresh=sql.SQL(", ").join(fresh),
        moved=moved,
    )
    # Only the over_rows columns move: the other columns, those another
    # table is rebuilt by, are as they were.
    count: int = conn.execute(keeping_written(update, written, "t")).rowcount
    conn.execute(sql.SQL("DROP TABLE {}").format(moved))
    return count
