"""`dotloop-reporter status`: recent sync runs and how fresh each profile is."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

from psycopg import sql
from rich.console import Console
from rich.table import Table

from . import db
from .checkpoints import listings_under_way
from .settings import Settings

_RUN_COLUMNS = (
    "run_id",
    "trigger",
    "status",
    "started_at",
    "finished_at",
    "loops_seen",
    "loops_changed",
    "loops_removed",
    "quarantined",
    "requests",
    "throttled",
)


def print_status(settings: Settings, *, limit: int = 10) -> int:
    """Print the last runs and per-profile freshness; 1 when the last run failed.

    Read-only: it never creates or migrates anything.
    """
    with db.connect(settings) as conn, db.storage_errors("read the sync runs"):
        runs = _recent_runs(conn, settings, limit)
        freshness = _freshness(conn, settings)
        under_way = listings_under_way(conn, settings.raw_schema)
    # Piped to a file, rich would wrap to 80 columns and cut the timestamps.
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(_table("Recent sync runs", _RUN_COLUMNS, runs))
    console.print(
        _table(
            "Freshness by profile",
            ("profile_id", "last_success_at", "watermark", "last_sweep_at"),
            freshness,
        )
    )
    if under_way:
        # A listing interrupted mid-way resumes from here on the next run.
        rows = [
            (c.profile_id, c.run_id, c.started_at, c.batch_number, c.bound)
            for c in under_way
        ]
        columns = ("profile_id", "run_id", "started_at", "pages_landed", "resume_at")
        console.print(_table("Listings under way", columns, rows))
    return 1 if runs and runs[0][2] == "failed" else 0


def _recent_runs(conn: Any, settings: Settings, limit: int) -> list[tuple[Any, ...]]:
    query = sql.SQL("SELECT {} FROM {}.sync_run ORDER BY run_id DESC LIMIT %s").format(
        sql.SQL(", ").join(map(sql.Identifier, _RUN_COLUMNS)),
        sql.Identifier(settings.raw_schema),
    )
    return list(conn.execute(query, (limit,)).fetchall())


def _freshness(conn: Any, settings: Settings) -> list[tuple[Any, ...]]:
    query = sql.SQL(
        "SELECT profile_id, last_success_at, watermark, last_sweep_at "
        "FROM {}.profile_sync_state ORDER BY profile_id"
    ).format(sql.Identifier(settings.raw_schema))
    return list(conn.execute(query).fetchall())


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(value) for value in row))
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return str(value)
