"""Creating the reporting schema in Postgres: functions, views, role, grants."""

from __future__ import annotations

import logging

from psycopg import sql

from connector.secrets import Secret

from ..db import Connection, storage_errors
from ..settings import Settings
from .build import ViewSql, build_views
from .library import create_schema, functions_sql, lib_schema, set_search_path

logger = logging.getLogger(__name__)

# Two processes applying views at once race on the catalog.
_LOCK_KEY = "dotloop-reporter:views"

# format_type() spellings of the declared column types that differ from them.
_CATALOG_TYPES = {"timestamptz": "timestamp with time zone"}


def apply_views(conn: Connection, settings: Settings) -> None:
    """Create or update the reporting schema in one transaction; idempotent.

    Views whose columns changed are dropped and created again; the reader
    role is created when missing and may read the views and nothing else.
    """
    # TODO: the views parse every payload on each query (about 100 us a loop
    # for agent_credits, so seconds for 30,000 loops); dashboards at scale
    # need them materialized into tables refreshed after each sync run.
    views = build_views(settings)
    with storage_errors("apply the reporting views"), conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
        conn.execute(create_schema(settings.reporting_schema))
        apply_functions(conn, lib_schema(settings))
        dropped = _drop_changed_views(conn, settings.reporting_schema, views)
        for view in views:
            for statement in view.statements:
                conn.execute(statement)
        _ensure_reader_role(conn, settings)
        for grant in grant_statements(settings):
            conn.execute(grant)
    logger.info(
        "applied %d reporting views in schema %s (%d recreated)",
        len(views),
        settings.reporting_schema,
        dropped,
    )


def apply_functions(conn: Connection, schema: str) -> None:
    """Create the helper schema and its parse functions (inside a transaction)."""
    path = conn.execute("SELECT current_setting('search_path')").fetchone()
    conn.execute(create_schema(schema))
    conn.execute(set_search_path(schema))
    conn.execute(sql.SQL(functions_sql()))
    conn.execute(
        "SELECT set_config('search_path', %s, true)", (path[0] if path else "",)
    )


def render_views_sql(settings: Settings) -> str:
    """Every statement apply_views runs, as one script (the role aside)."""
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
        functions_sql().strip(),
        "RESET search_path;",
        *(view.sql.strip() for view in build_views(settings)),
        f"-- The role {settings.reporting_reader_role} must exist; "
        "`dotloop-reporter views apply` creates it.",
        *(f"{grant.as_string(None)};" for grant in grant_statements(settings)),
        "COMMIT;",
    ]
    return "\n\n".join(parts) + "\n"


def grant_statements(settings: Settings) -> list[sql.Composed]:
    """Read access to the reporting views and helper functions, nothing more."""
    role = sql.Identifier(settings.reporting_reader_role)
    reporting = sql.Identifier(settings.reporting_schema)
    lib = sql.Identifier(lib_schema(settings))
    return [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(reporting, role),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
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
