"""The helper schema's SQL functions, and the wrappers chart SQL calls."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from psycopg import sql

from ..settings import Settings

FUNCTIONS_FILE = Path(__file__).with_name("functions.sql")

_FUNCTION = re.compile(r"^CREATE OR REPLACE FUNCTION (\w+)\(", re.MULTILINE)


def lib_schema(settings: Settings) -> str:
    """The helper schema's name: the reporting schema's, suffixed `_lib`."""
    return f"{settings.reporting_schema}_lib"


@functools.cache
def functions_sql() -> str:
    """The text of functions.sql, the one definition of the parse rules."""
    return FUNCTIONS_FILE.read_text("utf-8")


@functools.cache
def function_names() -> frozenset[str]:
    """Names of the helper functions, which spec SQL calls unqualified."""
    return frozenset(_FUNCTION.findall(functions_sql()))


def create_schema(schema: str) -> sql.Composed:
    """CREATE SCHEMA IF NOT EXISTS, for the reporting and helper schemas."""
    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))


def set_search_path(schema: str) -> sql.Composed:
    """Points unqualified names at the helper schema until the transaction ends.

    functions.sql names no schema: its functions land in the helper schema
    and bind the helpers they call while it is first on the path.
    """
    return sql.SQL("SET LOCAL search_path TO {}, pg_catalog").format(
        sql.Identifier(schema)
    )


# Helpers that chart SQL may call, by name. Superset runs a chart's query with
# search_path set to its dataset's schema (the reporting schema), where the
# helper schema is not on the path: each gets a wrapper there.
CHART_FUNCTIONS = {"period_anchor": "date"}


def chart_function_statements(settings: Settings) -> list[sql.Composed]:
    """CREATE OR REPLACE the reporting schema's wrappers of CHART_FUNCTIONS."""
    statements = []
    for name, returns in sorted(CHART_FUNCTIONS.items()):
        statements.append(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {}() RETURNS {} "
                "LANGUAGE sql STABLE PARALLEL SAFE RETURN {}()"
            ).format(
                sql.Identifier(settings.reporting_schema, name),
                sql.SQL(returns),
                sql.Identifier(lib_schema(settings), name),
            )
        )
    return statements
