"""Which rows of a fast table a refresh rebuilds, and the rows it wrote.

A table keyed by loop rebuilds the changed loops; one whose rows add up
loops (by agent, day, month) rebuilds the key values the changed loops had
before and have after, read from its source. The rows a refresh deletes,
inserts or updates in a table others are rebuilt from are kept, by their key
columns, in temporary tables: those keys are then all the others rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from ..db import Connection
from .build import ViewSql

# SQL built for one statement, or a piece of one.
Statement = sql.SQL | sql.Composed


@dataclass(frozen=True)
class WrittenRows:
    """A temporary table keeping the key columns of the rows a refresh writes."""

    table: sql.Identifier
    columns: tuple[str, ...]


def key_sources(tables: list[ViewSql]) -> dict[str, str]:
    """Tables rebuilt by keys that another's written rows give, and that table.

    Those rebuilt from a fast table's rows, and those without loop_id whose
    rebuild_from column is in a table refreshed before them loop by loop: the
    rows it deletes and inserts carry the values the changed loops had and
    have.
    """
    sources = {}
    refreshed: dict[str, ViewSql] = {}
    for table in tables:
        rows_of = rows_source(table)
        if rows_of is not None:
            sources[table.name] = rows_of
        elif table.materialize and table.materialize.rebuild_from:
            view = refreshed.get(table.materialize.rebuild_from[0])
            loop_by_loop = (
                view is not None
                and view.materialize is not None
                and view.materialize.key == "loop_id"
            )
            if loop_by_loop and not table.has_loop_id:
                sources[table.name] = table.materialize.rebuild_from[0]
        refreshed[table.name] = table
    return sources


def key_column(table: ViewSql) -> str:
    """The column of the source's written rows that gives the table's keys."""
    assert table.materialize is not None and table.materialize.rebuild_from
    return table.materialize.rebuild_from[1]


def start_recording(
    conn: Connection, tables: list[ViewSql], sources: dict[str, str]
) -> dict[str, WrittenRows]:
    """For each table others take keys from: where its written rows are kept.

    Of each row deleted as it was, inserted or updated as it is, the columns
    the tables reading it are rebuilt by (and the settle_key of a table with
    over_rows columns, whose partitions are worked out again).
    """
    wanted: dict[str, list[str]] = {}
    for table in tables:
        source = sources.get(table.name)
        if source is not None and table.materialize is not None:
            columns = (
                list(table.materialize.rebuild_by)
                if rows_source(table)
                else [key_column(table)]
            )
            wanted.setdefault(source, []).extend(columns)
        if table.over_rows:
            wanted.setdefault(table.name, []).append(table.settle_key)
    recorded = {}
    for table in tables:
        if table.name not in wanted:
            continue
        record = WrittenRows(
            sql.Identifier(f"refresh_written_{table.name}"),
            tuple(dict.fromkeys(wanted[table.name])),
        )
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} LIMIT 0"
            ).format(
                record.table,
                sql.SQL(", ").join(map(sql.Identifier, record.columns)),
                sql.Identifier(table.schema, table.name),
            )
        )
        recorded[table.name] = record
    return recorded


def recorded_keys(conn: Connection, record: WrittenRows, column: str) -> list[object]:
    """The values of one column on the rows written so far, NULL left out."""
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT {column} FROM {record} WHERE {column} IS NOT NULL"
        ).format(column=sql.Identifier(column), record=record.table)
    ).fetchall()
    return [value for (value,) in rows]


def rows_source(table: ViewSql) -> str | None:
    """The fast table whose written rows give this one's keys, if its spec says so."""
    return table.materialize.rebuild_rows_of if table.materialize else None


def keeping_written(
    statement: Statement, record: WrittenRows | None, alias: str | None = None
) -> Statement:
    """The statement, the key columns of its rows kept when there is a record."""
    if record is None:
        return statement
    returning = sql.SQL(", ").join(
        sql.Identifier(*((alias,) if alias else ()), column)
        for column in record.columns
    )
    return sql.SQL(
        "WITH written AS ({statement} RETURNING {returning}) "
        "INSERT INTO {recorded} SELECT * FROM written"
    ).format(statement=statement, returning=returning, recorded=record.table)


def keys_before(
    conn: Connection,
    tables: list[ViewSql],
    changed: list[int],
    refilled: list[str],
    sources: dict[str, str],
) -> dict[str, list[object]]:
    """For tables without loop_id: the keys the changed loops have before the refresh.

    Such a table (rows adding up many loops, say one per month) cannot tell
    which of its rows a loop was in, so its source's values are read before
    any table is refreshed, unless that source's written rows give them.
    """
    return {
        table.name: source_keys(conn, table, changed)
        for table in tables
        if changed
        and not table.has_loop_id
        and table.name not in refilled
        and table.name not in sources
        and table.materialize is not None
        and table.materialize.rebuild_from is not None
    }


def source_keys(conn: Connection, table: ViewSql, changed: list[int]) -> list[object]:
    """Values of the rebuild_from column for the changed loops, as they are now."""
    assert table.materialize is not None and table.materialize.rebuild_from
    source, column = table.materialize.rebuild_from
    return _loop_values(conn, sql.Identifier(table.schema, source), column, changed)


def rebuild_keys(
    conn: Connection, table: ViewSql, changed: list[int], before: list[object] | None
) -> list[object]:
    """Values of rebuild_by that the changed loops had before or have now."""
    assert table.materialize is not None
    if table.materialize.key == "loop_id":
        return list(changed)
    assert table.materialize.rebuild_from
    if not table.has_loop_id:
        now = source_keys(conn, table, changed)
        return list(dict.fromkeys([*(before or []), *now]))
    source, column = table.materialize.rebuild_from
    key = sql.Identifier(table.materialize.key)
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


def settle_keys(conn: Connection, table: ViewSql, changed: list[int]) -> list[object]:
    """The settle_key values of the changed loops' rows in the table now."""
    target = sql.Identifier(table.schema, table.name)
    return _loop_values(conn, target, table.settle_key, changed)


def _loop_values(
    conn: Connection, relation: sql.Identifier, column: str, changed: list[int]
) -> list[object]:
    """The distinct values of one column on the changed loops' rows, NULL left out."""
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT {column} FROM {relation} "
            "WHERE loop_id = ANY(%s::bigint[]) AND {column} IS NOT NULL"
        ).format(column=sql.Identifier(column), relation=relation),
        (changed,),
    ).fetchall()
    return [value for (value,) in rows]


def escaped(query: str) -> sql.SQL:
    """Generated SQL inside a statement with parameters: its % signs doubled."""
    return sql.SQL(query.replace("%", "%%"))
