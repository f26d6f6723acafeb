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
from .loop_sync import TRIGGER as WEBHOOK_TRIGGER
from .runs import RUN_IS_ALIVE
from .settings import Settings

# sync_run column, and its heading.
_RUN_COLUMNS = (
    ("run_id", "run"),
    ("trigger", "trigger"),
    ("status", "status"),
    ("started_at", "started"),
    ("finished_at", "finished"),
    ("loops_seen", "seen"),
    ("loops_changed", "changed"),
    ("loops_removed", "removed"),
    ("quarantined", "quarantined"),
    ("quarantine_retried", "retried"),
    ("quarantine_resolved", "resolved"),
    ("fetches_retried", "fetches retried"),
    ("fetches_pending", "pending"),
    ("profiles_busy", "busy"),
    ("requests", "requests"),
    ("throttled", "429s"),
)
_FRESHNESS_COLUMNS = (
    "profile",
    "last success",
    "hours ago",
    "watermark",
    "last sweep",
    "syncing now",
)


def print_status(settings: Settings, *, limit: int = 10) -> int:
    """Print runs, freshness and what is owed; 1 when the last run failed.

    A run skipped because its profiles were busy does not count as the last
    run, nor does a webhook's one-loop sync, which is not listed either.
    Read-only: it never creates or migrates anything, and leaves out what a
    schema older than this version does not have yet.
    """
    schema = settings.raw_schema
    with db.connect(settings) as conn, db.storage_errors("read the sync runs"):
        present = _columns(conn, schema)
        runs = _recent_runs(conn, schema, present.get("sync_run", set()), limit)
        freshness = _freshness(conn, schema, "profile_lease" in present)
        owed = _owed(conn, schema, present)
        under_way = listings_under_way(conn, schema)
    # Piped to a file, rich would wrap to 80 columns and cut the timestamps.
    console = Console(width=None if sys.stdout.isatty() else 200)
    headings, run_rows = runs
    console.print(_table("Recent sync runs", headings, run_rows))
    console.print(_table("Freshness by profile", _FRESHNESS_COLUMNS, freshness))
    if owed:
        columns = ("owed", "kind", "count", "since", "most attempts")
        console.print(_table("Owed to the next runs", columns, owed))
    if under_way:
        # A listing interrupted mid-way resumes from here on the next run.
        rows = [
            (c.profile_id, c.run_id, c.started_at, c.batch_number, c.bound)
            for c in under_way
        ]
        columns = ("profile_id", "run_id", "started_at", "pages_landed", "resume_at")
        console.print(_table("Listings under way", columns, rows))
    return _exit_code(run_rows)


def _columns(conn: Any, schema: str) -> dict[str, set[str]]:
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = %s",
        (schema,),
    ).fetchall()
    present: dict[str, set[str]] = {}
    for table, column in rows:
        present.setdefault(table, set()).add(column)
    return present


def _recent_runs(
    conn: Any, schema: str, present: set[str], limit: int
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    # Webhooks start a one-loop run per edit, many a day: they would crowd
    # out the syncs and sweeps, and a failed nightly run would hide behind
    # them.
    chosen = [(name, heading) for name, heading in _RUN_COLUMNS if name in present]
    query = sql.SQL(
        "SELECT {} FROM {} WHERE trigger <> %s ORDER BY run_id DESC LIMIT %s"
    ).format(
        sql.SQL(", ").join(sql.Identifier(name) for name, _ in chosen),
        sql.Identifier(schema, "sync_run"),
    )
    rows = list(conn.execute(query, (WEBHOOK_TRIGGER, limit)).fetchall())
    return tuple(heading for _, heading in chosen), rows


def _freshness(conn: Any, schema: str, leases: bool) -> list[tuple[Any, ...]]:
    """Per profile: last success, its age, watermark, last sweep, live holder."""
    holder: sql.Composable = sql.SQL("NULL::bigint")
    profiles: sql.Composable = sql.SQL("SELECT profile_id FROM {}").format(
        sql.Identifier(schema, "profile_sync_state")
    )
    if leases:
        holder = sql.SQL(
            "(SELECT run.run_id FROM {lease} AS lease JOIN {run} AS run USING "
            "(run_id) WHERE lease.profile_id = ids.profile_id AND {alive})"
        ).format(
            lease=sql.Identifier(schema, "profile_lease"),
            run=sql.Identifier(schema, "sync_run"),
            alive=sql.SQL(RUN_IS_ALIVE),
        )
        profiles = sql.SQL("{} UNION SELECT profile_id FROM {}").format(
            profiles, sql.Identifier(schema, "profile_lease")
        )
    query = sql.SQL(
        """
        SELECT ids.profile_id, state.last_success_at,
            round(extract(epoch FROM now() - state.last_success_at) / 3600, 1),
            state.watermark, state.last_sweep_at, {holder}
        FROM ({profiles}) AS ids
        LEFT JOIN {state} AS state USING (profile_id)
        ORDER BY ids.profile_id
        """
    ).format(
        holder=holder,
        profiles=profiles,
        state=sql.Identifier(schema, "profile_sync_state"),
    )
    return list(conn.execute(query).fetchall())


def _owed(
    conn: Any, schema: str, present: dict[str, set[str]]
) -> list[tuple[Any, ...]]:
    """Pending fetches by kind and open quarantine entries by source."""
    parts = []
    if "pending_fetch" in present:
        parts.append(
            sql.SQL(
                "SELECT 'pending fetch', kind, count(*), min(first_failed_at), "
                "max(attempts) FROM {} GROUP BY kind"
            ).format(sql.Identifier(schema, "pending_fetch"))
        )
    if "resolved_at" in present.get("quarantine", set()):
        parts.append(
            sql.SQL(
                "SELECT 'open quarantine', source, count(*), min(received_at), "
                "max(retries) FROM {} WHERE resolved_at IS NULL GROUP BY source"
            ).format(sql.Identifier(schema, "quarantine"))
        )
    if not parts:
        return []
    query = sql.SQL(" UNION ALL ").join(parts) + sql.SQL(" ORDER BY 1, 2")
    return list(conn.execute(query).fetchall())


def _exit_code(runs: list[tuple[Any, ...]]) -> int:
    # The status is the third column of the runs, newest first.
    decided = [run[2] for run in runs if run[2] != "skipped"]
    return 1 if decided and decided[0] == "failed" else 0


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
