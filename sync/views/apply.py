"""Creating the reporting schema in Postgres: functions, views, role, grants."""

from __future__ import annotations

import logging

from psycopg import sql

from connector.secrets import Secret

from ..brokerage import create_config_schema, render_config_schema
from ..db import Connection, storage_errors
from ..settings import Settings
from .build import ViewSql, build_views
from .dialects import render_dialect_sql
from .library import (
    chart_function_statements,
    create_schema,
    functions_sql,
    lib_schema,
    set_search_path,
)
from .refresh import LOCK_KEY, RefreshResult, refresh_tables
from .refresh_state import create_state_table, definition_hash, stored_hashes

logger = logging.getLogger(__name__)

# format_type() spellings of the declared column types that differ from them.
_CATALOG_TYPES = {"timestamptz": "timestamp with time zone"}


def apply_views(conn: Connection, settings: Settings) -> None:
    """Create or update the reporting schema in one transaction; idempotent.

    The helper schema gets the parse functions and the parsing views; the
    reporting schema the fast tables (filled here) and the other views; the
    config schema its (empty) brokerage tables if missing. An object whose
    columns or definition changed is dropped and created again; the reader
    role may read the reporting schema and nothing else.
    """
    apply_reporting(conn, settings)


def apply_reporting(conn: Connection, settings: Settings) -> RefreshResult:
    """apply_views(), returning what filling the fast tables did."""
    parsing = build_views(settings, parsing=True)
    objects = build_views(settings)
    tables = [view for view in objects if view.is_table]
    with storage_errors("apply the reporting views"), conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,))
        conn.execute(create_schema(settings.reporting_schema))
        create_config_schema(conn, settings)
        apply_functions(conn, lib_schema(settings))
        for wrapper in chart_function_statements(settings):
            conn.execute(wrapper)
        _create_change_indexes(conn, settings)
        create_state_table(conn, settings)
        dropped = _drop_changed_views(conn, lib_schema(settings), parsing)
        for view in parsing:
            for statement in view.statements:
                conn.execute(statement)
        stale = _drop_stale_objects(conn, settings, objects)
        for view in objects:
            for statement in _creating(conn, view):
                conn.execute(statement)
        result = refresh_tables(conn, settings, tables, full=bool(stale))
        _ensure_reader_role(conn, settings)
        for grant in grant_statements(settings):
            conn.execute(grant)
    logger.info(
        "applied %d reporting objects in schema %s (%d recreated, %d parsing "
        "views recreated)",
        len(objects),
        settings.reporting_schema,
        len(stale),
        dropped,
    )
    return result


def apply_functions(conn: Connection, schema: str) -> None:
    """Create the helper schema and its parse functions (inside a transaction)."""
    path = conn.execute("SELECT current_setting('search_path')").fetchone()
    conn.execute(create_schema(schema))
    conn.execute(set_search_path(schema))
    conn.execute(sql.SQL(functions_sql()))
    conn.execute(
        "SELECT set_config('search_path', %s, true)", (path[0] if path else "",)
    )


def render_views_sql(settings: Settings, dialect: str = "postgres") -> str:
    """Every statement apply_views runs, as one script (the role aside).

    Another dialect (duckdb, bigquery, snowflake, trino) gets what sqlglot
    can translate, its header naming what was left out and why.
    """
    if dialect != "postgres":
        return render_dialect_sql(settings, dialect)
    lib = lib_schema(settings)
    setup = [
        create_schema(settings.reporting_schema),
        create_schema(lib),
        set_search_path(lib),
    ]
    parts = [
        "-- The reporting schema of dotloop-reporter, generated from datasets/*.yaml.",
        "BEGIN;",
        *(f"{statement.as_string(None)};" for statement in setup),
        render_config_schema(settings).as_string(None).strip(),
        functions_sql().strip(),
        "RESET search_path;",
        *(
            f"{statement.as_string(None)};"
            for statement in chart_function_statements(settings)
        ),
        *(view.sql.strip() for view in build_views(settings, parsing=True)),
        *(view.sql.strip() for view in build_views(settings)),
        f"-- The role {settings.reporting_reader_role} must exist; "
        "`dotloop-reporter views apply` creates it.",
        *(f"{grant.as_string(None)};" for grant in grant_statements(settings)),
        "COMMIT;",
    ]
    return "\n\n".join(parts) + "\n"


def grant_statements(settings: Settings) -> list[sql.Composed]:
    """Read access to the reporting views and the functions, nothing more."""
    role = sql.Identifier(settings.reporting_reader_role)
    reporting = sql.Identifier(settings.reporting_schema)
    lib = sql.Identifier(lib_schema(settings))
    return [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(reporting, role),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            reporting, role
        ),
        sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {} TO {}").format(
            reporting, role
        ),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(lib, role),
        sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {} TO {}").format(lib, role),
    ]


def _drop_changed_views(conn: Connection, schema: str, views: list[ViewSql]) -> int:
    """Drop every existing view when any one's columns changed; returns how many.

    CREATE OR REPLACE VIEW can only append columns. Views read each other,
    so all are dropped (dependents first) and the caller creates them again.
    """
    existing = _existing_columns(conn, schema)
    changed = [
        view.name
        for view in views
        if view.name in existing and not _extends(existing[view.name], view)
    ]
    if not changed:
        return 0
    logger.info("columns changed in %s; recreating the views", ", ".join(changed))
    present = [view for view in reversed(views) if view.name in existing]
    for view in present:
        conn.execute(
            sql.SQL("DROP VIEW IF EXISTS {}").format(sql.Identifier(schema, view.name))
        )
    return len(present)


def _drop_stale_objects(
    conn: Connection, settings: Settings, objects: list[ViewSql]
) -> list[str]:
    """Drop reporting objects that must be created again; names stale tables.

    A table is stale when it is missing, was a view, or was filled by another
    definition; then every reporting view goes too (views read the tables)
    and the caller fills all fast tables again.
    """
    schema = settings.reporting_schema
    kinds = _existing_kinds(conn, schema)
    stored = stored_hashes(conn, settings)
    stale = [
        view.name
        for view in objects
        if view.is_table
        and (
            kinds.get(view.name) != "r"
            or stored.get(view.name) != definition_hash(view)
        )
    ]
    views = [view for view in objects if not view.is_table]
    if not stale and not any(kinds.get(view.name) == "r" for view in views):
        _drop_changed_views(conn, schema, views)
        return []
    logger.info("recreating reporting objects; stale tables: %s", ", ".join(stale))
    for view in reversed(objects):
        kind = kinds.get(view.name)
        if kind == "v":
            statement = "DROP VIEW IF EXISTS {}"
        elif kind == "r" and (view.name in stale or not view.is_table):
            statement = "DROP TABLE IF EXISTS {}"
        else:
            continue
        conn.execute(sql.SQL(statement).format(sql.Identifier(schema, view.name)))
    return stale


def _creating(conn: Connection, view: ViewSql) -> tuple[str, ...]:
    """The statements that create (or update) one reporting object."""
    if not view.is_table:
        return view.statements
    found = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (view.qualified_name,)
    ).fetchone()
    if found and found[0]:
        return view.comments
    return view.statements


def _create_change_indexes(conn: Connection, settings: Settings) -> None:
    """Indexes on raw that let the refresh find what changed without a scan."""
    raw = settings.raw_schema
    for table, name, column in (
        ("loop", "loop_fetched_at_idx", "fetched_at"),
        ("loop", "loop_removed_at_idx", "removed_at"),
        ("loop_profile", "loop_profile_first_seen_at_idx", "first_seen_at"),
    ):
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(name),
                sql.Identifier(raw, table),
                sql.Identifier(column),
            )
        )


def _existing_kinds(conn: Connection, schema: str) -> dict[str, str]:
    """relkind ('r' table, 'v' view) of each relation in the schema."""
    rows = conn.execute(
        "SELECT c.relname, c.relkind FROM pg_class AS c "
        "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm')",
        (schema,),
    ).fetchall()
    return {name: str(kind) for name, kind in rows}


def _existing_columns(
    conn: Connection, schema: str
) -> dict[str, list[tuple[str, str]]]:
    rows = conn.execute(
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_class AS c
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        JOIN pg_attribute AS a
            ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = %s AND c.relkind = 'v'
        ORDER BY c.relname, a.attnum
        """,
        (schema,),
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for view, column, column_type in rows:
        columns.setdefault(view, []).append((column, column_type))
    return columns


def _extends(existing: list[tuple[str, str]], view: ViewSql) -> bool:
    """Whether the new columns are the existing ones with others appended."""
    wanted = [(c.name, _CATALOG_TYPES.get(c.type, c.type)) for c in view.columns]
    return wanted[: len(existing)] == existing


def _ensure_reader_role(conn: Connection, settings: Settings) -> None:
    """Create the reader role (LOGIN) when missing; set its password if given."""
    role = settings.reporting_reader_role
    found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    exists = found.fetchone() is not None
    password = settings.reporting_reader_password
    if exists and password is None:
        return
    verb = sql.SQL("ALTER ROLE" if exists else "CREATE ROLE")
    statement = sql.SQL("{} {} LOGIN").format(verb, sql.Identifier(role))
    if password is not None:
        statement = sql.SQL("{} PASSWORD {}").format(
            statement, sql.Literal(_password_verifier(conn, role, password))
        )
    conn.execute(statement)
    if not exists:
        # JIT-compiling the views' wide expressions costs more than it saves
        # (measured 30-50% slower); a role someone else made keeps its own.
        conn.execute(
            sql.SQL("ALTER ROLE {} SET jit = off").format(sql.Identifier(role))
        )
    logger.info("%s role %s", "updated" if exists else "created", role)


def _password_verifier(conn: Connection, role: str, password: Secret) -> str:
    # Hashed by libpq, so the statement (and any server log of it) never holds
    # the password itself.
    verifier = conn.pgconn.encrypt_password(
        password.reveal().encode(), role.encode(), None
    )
    return verifier.decode("ascii")
