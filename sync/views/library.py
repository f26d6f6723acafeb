"""The helper schema: the SQL functions that read detail strings."""

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
