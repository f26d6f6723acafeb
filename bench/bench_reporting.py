"""Dashboard queries over the fast tables vs the parsing views, and the refresh.

Writes N generated loops straight into the raw tables of a fresh database
with COPY (bench/reporting_loops.py: payloads shaped as the API returns them,
messy values included) and loads a roster of offices, teams and commission
plans; applies the views, which fills the fast tables. Then times, warm,
every query behind the shipped dashboards (the SQL Superset builds from each
chart's query_context and for each select filter's values, bench/chart_sql.py)
and the queries of the reporting views the dashboards read (production_summary,
pipeline, agents, data quality counts, freshness), over reporting.* (fast
tables) and over reporting_lib.* (views that parse the payloads when read).
The parsing side runs fewer times, each under a statement timeout: at a
million loops a parsing query can take minutes. Last, the refresh after 2% of
the loops change, after nothing changed, and after the roster changed.
Figures only.

    .venv/bin/python -m bench.bench_reporting               # 100,000 loops
    .venv/bin/python -m bench.bench_reporting --loops 1000000 --parsing-runs 1
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from bench.chart_sql import chart_queries, filter_queries
from bench.harness import scratch_database
from bench.reporting_loops import copy_loops, roster
from connector.secrets import Secret
from sync import db
from sync.brokerage import store_brokerage
from sync.settings import PROJECT_ROOT, Settings
from sync.views import apply_views, refresh_reporting

T = TypeVar("T")
TARGET_P95_MS = 150.0
# The reporting views the dashboards read besides the charts' own tables.
VIEW_QUERIES = {
    "production_summary, company": (
        "SELECT * FROM {schema}.production_summary WHERE grain = 'company'"
    ),
    "production_summary, offices": (
        "SELECT * FROM {schema}.production_summary WHERE grain = 'office' "
        "ORDER BY ytd_gci DESC"
    ),
    "production_summary, teams": (
        "SELECT * FROM {schema}.production_summary WHERE grain = 'team' "
        "ORDER BY ytd_gci DESC"
    ),
    "production_summary, agents": (
        "SELECT * FROM {schema}.production_summary WHERE grain = 'agent' "
        "ORDER BY ytd_gci DESC LIMIT 100"
    ),
    "production_summary, one agent": (
        "SELECT * FROM {schema}.production_summary "
        "WHERE grain = 'agent' AND key = 'agent7@brokerage.example'"
    ),
    "pipeline by month and office": (
        "SELECT projected_close_month, office, loops, sides, projected_gci "
        "FROM {schema}.pipeline ORDER BY 1, 2"
    ),
    "agents with left to cap": (
        "SELECT agent_email, agent_name, team, office, plan_name, left_to_cap "
        "FROM {schema}.agents ORDER BY left_to_cap NULLS LAST LIMIT 100"
    ),
    "data quality counts": (
        "SELECT problem, count(*) AS problems, count(DISTINCT loop_id) AS loops "
        "FROM {schema}.data_quality GROUP BY problem ORDER BY 2 DESC"
    ),
    "sync freshness": "SELECT * FROM {schema}.sync_freshness",
    "company dollar by office this year": (
        "SELECT office, sum(company_dollar), sum(agent_net) "
        "FROM {schema}.agent_monthly_production "
        "WHERE closing_month >= date_trunc('year', current_date) GROUP BY office"
    ),
}


@dataclass(frozen=True)
class Timing:
    """Warm timings of one query in ms; None where the timeout cut a run."""

    p50: float | None
    p95: float | None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20, help="fast query runs")
    parser.add_argument(
        "--parsing-runs", type=int, default=1, help="parsing view runs, no warm-up"
    )
    parser.add_argument(
        "--parsing-timeout",
        type=float,
        default=60.0,
        help="seconds a parsing-view query may take before it is cut",
    )
    args = parser.parse_args()
    with scratch_database() as url, psycopg.connect(url, autocommit=True) as conn:
        settings = Settings(
            database_url=Secret(url), reporting_reader_role="bench_reader"
        )
        print(f"{args.loops:,} loops, {args.agents:,} agents")
        build(conn, settings, args.loops, args.agents)
        # The reader role Superset logs in as runs without JIT.
        conn.execute("SET jit = off")
        time_queries(conn, args)
        time_refreshes(conn, settings, args.loops)


def load(conn: Any, settings: Settings, loops: int, agents: int) -> None:
    """COPY `loops` generated loops into raw and store their brokerage's roster."""
    copy_loops(conn, settings, loops, agents)
    store_brokerage(conn, settings, roster(agents))


def build(conn: Any, settings: Settings, loops: int, agents: int) -> None:
    db.apply_schema(conn, settings)
    timed("generate + COPY + roster", lambda: load(conn, settings, loops, agents))
    conn.execute("VACUUM ANALYZE")
    timed("apply_views (fills the tables)", lambda: apply_views(conn, settings))
    conn.execute("VACUUM ANALYZE")
    for table in (
        "loops",
        "loop_sides",
        "agent_credits",
        "data_quality",
        "daily_production",
        "agent_monthly_production",
        "team_monthly_production",
    ):
        row = conn.execute(
            sql.SQL(
                "SELECT count(*), pg_size_pretty(pg_total_relation_size(%s)) FROM {}"
            ).format(sql.Identifier(settings.reporting_schema, table)),
            (f"{settings.reporting_schema}.{table}",),
        ).fetchone()
        print(f"  reporting.{table}: {row[0]:,} rows, {row[1]}")


def time_queries(conn: Any, args: argparse.Namespace) -> None:
    charts, skipped = chart_queries(PROJECT_ROOT / "dashboards_export")
    charts += filter_queries(PROJECT_ROOT / "dashboards_export")
    queries = [(f"{q.chart} ({q.dataset})", q.sql) for q in charts]
    queries += list(VIEW_QUERIES.items())
    for chart, why in skipped:
        print(f"  left out: {chart}: {why}")
    print(f"{'query':48} {'fast p50':>9} {'p95':>8} | {'parsing p50':>12} | ratio")
    worst = 0.0
    for name, text in queries:
        fast = measure(conn, text.format(schema="reporting"), args.runs)
        slow = measure(
            conn,
            text.format(schema="reporting_lib"),
            args.parsing_runs,
            timeout=args.parsing_timeout,
        )
        worst = max(worst, fast.p95 or 0.0)
        timeout = args.parsing_timeout if args.parsing_runs else None
        print(
            f"{name[:48]:48} {_ms(fast.p50):>9} {_ms(fast.p95):>8} | "
            f"{_ms(slow.p50, timeout):>12} | {_ratio(fast, slow, timeout)}"
        )
    verdict = "within" if worst <= TARGET_P95_MS else "OVER"
    print(f"worst fast p95 {worst:.1f} ms: {verdict} the {TARGET_P95_MS:.0f} ms target")


def time_refreshes(conn: Any, settings: Settings, loops: int) -> None:
    """The refresh after a night's changes, after none, one, and a roster edit.

    A refresh looks again at what landed shortly before the one before it;
    here they follow each other within seconds, so the loops changed for one
    refresh are dated a day back before the next, as if a day had passed.
    """
    changed = change(conn, settings, max(1, loops // 50))
    result = timed(
        f"refresh after {changed:,} loops (2%) changed",
        lambda: refresh_reporting(conn, settings),
    )
    _print_tables(result.seconds, result.rows_written)
    a_day_later(conn, settings)
    timed("refresh with nothing new", lambda: refresh_reporting(conn, settings))
    one = change(conn, settings, 1)
    result = timed(
        f"refresh after {one} loop changed", lambda: refresh_reporting(conn, settings)
    )
    _print_tables(result.seconds, result.rows_written)
    a_day_later(conn, settings)
    conn.execute(
        sql.SQL(
            "UPDATE {} SET plan = CASE plan WHEN 'Senior 80/20' THEN 'Standard 70/30' "
            "ELSE 'Senior 80/20' END WHERE email = %s"
        ).format(sql.Identifier(settings.config_schema, "agent")),
        ("agent7@brokerage.example",),
    )
    result = timed(
        "refresh after one roster agent's plan changed",
        lambda: refresh_reporting(conn, settings),
    )
    print(f"  filled whole: {', '.join(result.refilled)}")
    _print_tables(result.seconds, result.rows_written)


def a_day_later(conn: Any, settings: Settings) -> None:
    """Date the loops landed in the last hour a day back."""
    conn.execute(
        sql.SQL(
            "UPDATE {} SET fetched_at = fetched_at - interval '1 day' "
            "WHERE fetched_at > now() - interval '1 hour'"
        ).format(sql.Identifier(settings.raw_schema, "loop"))
    )


def change(conn: Any, settings: Settings, count: int) -> int:
    """A nightly run's worth: new prices and a status on `count` random loops."""
    conn.execute(
        sql.SQL(
            "UPDATE {loop} SET fetched_at = now(), "
            "details = jsonb_set(details, '{{Financials,Purchase/Sale Price}}', "
            "to_jsonb('$' || (400000 + loop_id %% 1000 * 1000)::text)), "
            "summary = jsonb_set(summary, '{{status}}', '\"SOLD\"') "
            "WHERE loop_id IN (SELECT loop_id FROM {loop} ORDER BY random() LIMIT %s)"
        ).format(loop=sql.Identifier(settings.raw_schema, "loop")),
        (count,),
    )
    return count


def measure(
    conn: Any, query: str, runs: int, *, timeout: float | None = None
) -> Timing:
    """Median and 95th percentile in ms over `runs`.

    Without a timeout (the fast tables) after one warm-up run; with one (the
    parsing views, CPU-bound however warm) each run counts, and a run the
    timeout cuts gives no figure.
    """
    if runs < 1:
        return Timing(None, None)
    warm_up = 0 if timeout else 1
    conn.execute(
        "SELECT set_config('statement_timeout', %s, false)",
        (str(int((timeout or 0) * 1000)),),
    )
    try:
        samples = []
        for run in range(runs + warm_up):
            started = time.perf_counter()
            try:
                conn.execute(query).fetchall()
            except psycopg.errors.QueryCanceled:
                return Timing(None, None)
            if run >= warm_up:
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        conn.execute("SET statement_timeout = 0")
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(statistics.median(samples), p95)


def timed(label: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - started:.1f} s")
    return result


def _print_tables(seconds: dict[str, float], rows: dict[str, int]) -> None:
    for table, spent in seconds.items():
        print(f"  {table}: {spent:.1f} s, {rows.get(table, 0):,} rows written")


def _ms(value: float | None, timeout: float | None = None) -> str:
    if value is None:
        return f"> {timeout:.0f} s" if timeout else "-"
    return f"{value:.1f} ms"


def _ratio(fast: Timing, slow: Timing, timeout: float | None) -> str:
    if not fast.p50 or (slow.p50 is None and not timeout):
        return "-"
    if slow.p50 is None:
        assert timeout is not None
        return f"> {timeout * 1000 / fast.p50:,.0f}x"
    return f"{slow.p50 / fast.p50:,.0f}x"


if __name__ == "__main__":
    main()
