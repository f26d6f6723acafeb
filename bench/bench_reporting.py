"""Dashboard queries over the fast tables vs the parsing views, and the refresh.

Writes N generated loops straight into the raw tables of a fresh database
with COPY (payload shapes as the API returns them, messy values included),
applies the views (which fills the fast tables), then times every query
behind the shipped dashboards, warm, over reporting.* (fast tables) and over
reporting_lib.* (the views that parse the payloads when read). Last, 2% of
the loops change and refresh_reporting() is timed. Figures only; no asserts.

    .venv/bin/python bench/bench_reporting.py [--loops 100000] [--runs 20]
    .venv/bin/python bench/bench_reporting.py --loops 1000000 --parsing-runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
from psycopg import sql

from connector.secrets import Secret
from sync import db
from sync.settings import Settings
from sync.views import apply_views, refresh_reporting

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
THIS_YEAR = "closing_date >= date_trunc('year', current_date)::date AND " + (
    "closing_date < (date_trunc('year', current_date) + interval '1 year')::date"
)
# The SQL Superset sends for each shipped chart (dashboards_export/charts).
QUERIES = {
    "GCI this year (KPI)": (
        f"SELECT sum(gci) AS gci FROM {{s}}.loop_sides WHERE is_closed AND {THIS_YEAR}"
    ),
    "GCI by month": (
        "SELECT date_trunc('month', closing_month) AS closing_month, sum(gci) AS gci "
        f"FROM {{s}}.loop_sides WHERE is_closed AND {THIS_YEAR} "
        "GROUP BY 1 ORDER BY 1 LIMIT 10000"
    ),
    "GCI this year by agent": (
        "SELECT agent_name, sum(gci_credit) AS gci_credit, "
        "sum(unit_credit) AS unit_credit FROM {s}.agent_credits "
        f"WHERE is_closed AND {THIS_YEAR} "
        "GROUP BY agent_name ORDER BY gci_credit DESC LIMIT 10000"
    ),
}
TYPES = ["PURCHASE_OFFER", "LISTING_FOR_SALE", "LEASE_OFFER", "LISTING_FOR_LEASE"]
STATUSES = ["SOLD", "SOLD", "SOLD", "UNDER_CONTRACT", "ACTIVE_LISTING", "ARCHIVED"]
PRICES = ["${:,}.00", "{:,}", "{}", "$ {:,}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--parsing-runs", type=int, default=3)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    with fresh_database(keep=args.keep) as settings, db.connect(settings) as conn:
        conn.autocommit = True
        db.apply_schema(conn, settings)
        timed("generate + COPY", lambda: load(conn, settings, args.loops, args.agents))
        conn.execute("VACUUM ANALYZE")
        timed("apply_views (fills the tables)", lambda: apply_views(conn, settings))
        conn.execute("VACUUM ANALYZE")
        for name, query in QUERIES.items():
            fast = measure(conn, query.format(s="reporting"), args.runs)
            slow = measure(conn, query.format(s="reporting_lib"), args.parsing_runs)
            print(
                f"{name:24} fast p50 {fast[0]:8.1f} ms  p95 {fast[1]:8.1f} ms | "
                f"parsing p50 {slow[0]:9.1f} ms | ratio {slow[0] / fast[0]:7.0f}x"
            )
        changed = change(conn, settings, args.loops // 50)
        result = timed(
            f"refresh after {changed} loops changed",
            lambda: refresh_reporting(conn, settings),
        )
        print(f"  per table: {result.seconds}")
        timed("refresh with nothing new", lambda: refresh_reporting(conn, settings))


def load(
    conn: psycopg.Connection[object], settings: Settings, n: int, agents: int
) -> None:
    """COPY n loops, their participants and profile links into raw."""
    rng = random.Random(7)
    raw = settings.raw_schema
    loop_copy = sql.SQL(
        "COPY {} (loop_id, summary, details, participants, loop_updated, "
        "first_seen_at, fetched_at) FROM STDIN"
    ).format(sql.Identifier(raw, "loop"))
    link_copy = sql.SQL(
        "COPY {} (loop_id, profile_id, first_seen_at, last_seen_at) FROM STDIN"
    ).format(sql.Identifier(raw, "loop_profile"))
    seen = "2020-01-01T00:00:00Z"
    with conn.cursor() as cur:
        with cur.copy(loop_copy) as copy:
            for loop_id, summary, details, people in loops(rng, n, agents):
                copy.write_row((loop_id, summary, details, people, None, seen, seen))
        with cur.copy(link_copy) as copy:
            for loop_id in range(1, n + 1):
                copy.write_row((loop_id, 100 + loop_id % 5, seen, seen))


def loops(
    rng: random.Random, n: int, agents: int
) -> Iterator[tuple[int, str, str, str]]:
    """(loop_id, summary, details, participants) as JSON text."""
    today = date.today()
    for loop_id in range(1, n + 1):
        kind = rng.choice(TYPES)
        price = rng.randrange(150, 2000) * 1000
        closing = today - timedelta(days=rng.randrange(0, 1500))
        summary = {
            "id": loop_id,
            "profileId": 100 + loop_id % 5,
            "name": f"{rng.randrange(1, 9999)} Main St, Springfield",
            "transactionType": kind,
            "status": rng.choice(STATUSES) if "LEASE" not in kind else "LEASED",
            "created": f"{closing.year - 1}-01-01T00:00:00Z",
            "updated": f"{closing.isoformat()}T12:00:00Z",
            "loopUrl": f"https://www.dotloop.com/loop/{loop_id}/view",
        }
        financials = {
            "Purchase/Sale Price": rng.choice(PRICES).format(price),
            "Sale Commission Rate": rng.choice(["3%", "3", "0.03", "2.5 %"]),
            "Sale Commission Split % - Buy Side": rng.choice(["50", "", "40%"]),
            "Sale Commission Split % - Sell Side": rng.choice(["50", "", "60%"]),
        }
        if rng.random() < 0.02:
            financials["Purchase/Sale Price"] = "TBD"
        details = {
            "Property Address": {"City": "Springfield", "State/Prov": "IL"},
            "Financials": financials,
            "Contract Dates": {
                "Closing Date": closing.strftime(rng.choice(["%m/%d/%Y", "%Y-%m-%d"])),
                "Contract Agreement Date": (closing - timedelta(days=30)).isoformat(),
            },
        }
        people = [
            {"id": 1, "fullName": "Buyer Person", "role": "BUYER"},
            agent(rng, agents, "LISTING_AGENT", 2),
            agent(rng, agents, "BUYING_AGENT", 3),
        ]
        if rng.random() < 0.1:
            people.append(agent(rng, agents, "BUYING_AGENT", 4))
        yield loop_id, json.dumps(summary), json.dumps(details), json.dumps(people)


def agent(rng: random.Random, agents: int, role: str, pid: int) -> dict[str, object]:
    number = rng.randrange(agents)
    return {
        "id": pid,
        "fullName": f"Agent {number}",
        "email": f"agent{number}@brokerage.example",
        "role": role,
    }


def change(conn: psycopg.Connection[object], settings: Settings, count: int) -> int:
    """A nightly run's worth of changes: new prices on `count` loops."""
    conn.execute(
        sql.SQL(
            "UPDATE {} SET fetched_at = now(), details = jsonb_set(details, "
            "'{{Financials,Purchase/Sale Price}}', '\"$500,000\"') "
            "WHERE loop_id IN (SELECT loop_id FROM {} ORDER BY random() LIMIT %s)"
        ).format(
            sql.Identifier(settings.raw_schema, "loop"),
            sql.Identifier(settings.raw_schema, "loop"),
        ),
        (count,),
    )
    return count


def measure(
    conn: psycopg.Connection[object], query: str, runs: int
) -> tuple[float, float]:
    """Median and 95th percentile in ms over runs, after one warm-up."""
    conn.execute(query).fetchall()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        conn.execute(query).fetchall()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def timed(label: str, action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - started:.1f} s")
    return result


class fresh_database:
    """A new database for the run, dropped afterwards unless kept."""

    def __init__(self, *, keep: bool) -> None:
        self.name = f"dlr_bench_{uuid.uuid4().hex[:8]}"
        self.keep = keep

    def __enter__(self) -> Settings:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name))
            )
        url = ADMIN_URL.rsplit("/", 1)[0] + f"/{self.name}"
        print(f"database {self.name}")
        return Settings(database_url=Secret(url), reporting_reader_role="bench_reader")

    def __exit__(self, *exc: object) -> None:
        if self.keep:
            return
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.name)
                )
            )


if __name__ == "__main__":
    main()
