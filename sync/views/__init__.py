"""The reporting model: dataset specs turned into typed, documented views.

load_specs(directory) -> list[ViewSpec]        datasets/*.yaml, checked
build_views(settings) -> list[ViewSql]         SQL of each view, in order
render_views_sql(settings) -> str              the whole script, to print
apply_views(conn, settings) -> None            create or update in Postgres
refresh_reporting(conn, settings) -> RefreshResult   after each sync run
try_refresh_reporting(conn, settings)          the same, None when one is running
"""

from __future__ import annotations

from .apply import apply_functions, apply_views, grant_statements, render_views_sql
from .build import ViewColumn, ViewSql, build_views
from .library import lib_schema
from .refresh import RefreshResult, refresh_reporting, try_refresh_reporting
from .spec import ColumnSpec, ViewSpec, load_spec, load_specs

__all__ = [
    "ColumnSpec",
    "RefreshResult",
    "ViewColumn",
    "ViewSpec",
    "ViewSql",
    "apply_functions",
    "apply_views",
    "build_views",
    "grant_statements",
    "lib_schema",
    "load_spec",
    "load_specs",
    "refresh_reporting",
    "render_views_sql",
    "try_refresh_reporting",
]
