"""reporting.sync_runs: each run's requests against the budget it was paced to."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from connector.secrets import Secret
from connector.simulator import Simulator, SimulatorConfig, generate_brokerage
from sync.db import apply_schema
from sync.engine import run_sync
from sync.runs import RunCounts, finish_run, start_run
from sync.settings import DotloopSettings, Settings
from sync.tasks import build_client
from sync.views import apply_views

SIM = SimulatorConfig(rate_limit_per_minute=1_000_000)
BUDGET = 6000
OAUTH = "/oauth/"


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to a database with the raw schema applied."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        apply_schema(connection, Settings(database_url=Secret(database_url)))
        yield connection


def runs(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(
        "SELECT run_id, trigger, status, requests, throttled, requests_per_minute, "
        "duration_seconds, request_budget, budget_share, added_budget "
        "FROM reporting.sync_runs ORDER BY run_id"
    )
    names = [column.name for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_a_sync_shows_the_requests_it_sent_and_its_budget(
    database_url: str, conn: psycopg.Connection[Any]
) -> None:
    with Simulator(generate_brokerage(40, seed=5), SIM) as simulator:
        settings = Settings(
            database_url=Secret(database_url),
            dotloop=DotloopSettings(
                api_url=simulator.base_url,
                auth_url=simulator.auth_url,
                client_id=SIM.client_id,
                client_secret=Secret(SIM.client_secret),
                refresh_token=Secret(SIM.refresh_token),
                requests_per_minute=BUDGET,
            ),
        )
        with build_client(settings) as client:
            result = run_sync(settings, client, trigger="test")
        served = simulator.stats()["requests_by_endpoint"]
    apply_views(conn, settings)

    (row,) = runs(conn)

    api_requests = sum(n for name, n in served.items() if OAUTH not in name)
    assert row["requests"] == result.counts.requests == api_requests
    assert (row["trigger"], row["status"], row["throttled"]) == ("test", "succeeded", 0)
    assert row["requests_per_minute"] == BUDGET
    # Seconds long, so the window counts one minute.
    assert row["duration_seconds"] < 60
    assert row["request_budget"] == row["added_budget"] == BUDGET
    assert row["budget_share"] == round(Decimal(row["requests"]) / BUDGET, 4)


@pytest.mark.parametrize(
    ("seconds", "per_minute", "requests", "budget", "share"),
    [
        (10, 50, 20, Decimal("50.0"), Decimal("0.4000")),
        (180, 50, 30, Decimal("150.0"), Decimal("0.2000")),
        (90, 100, 150, Decimal("150.0"), Decimal("1.0000")),
        (0, 50, 0, Decimal("50.0"), Decimal("0.0000")),
        (30, None, 5, None, None),
    ],
    ids=["under-a-minute", "three-minutes", "budget-bound", "skipped", "unknown"],
)
def test_the_budget_is_the_rate_times_the_run_s_minutes(
    database_url: str,
    conn: psycopg.Connection[Any],
    seconds: int,
    per_minute: int | None,
    requests: int,
    budget: Decimal | None,
    share: Decimal | None,
) -> None:
    settings = Settings(database_url=Secret(database_url))
    apply_views(conn, settings)
    run = start_run(conn, settings.raw_schema, "manual", requests_per_minute=per_minute)
    finish_run(
        conn,
        settings.raw_schema,
        run.run_id,
        RunCounts(requests=requests),
        status="succeeded",
    )
    conn.execute(
        "UPDATE dotloop_raw.sync_run "
        "SET started_at = finished_at - make_interval(secs => %s)",
        (seconds,),
    )

    (row,) = runs(conn)

    assert row["duration_seconds"] == seconds
    assert (row["request_budget"], row["budget_share"]) == (budget, share)
    # Alone, a run adds the whole budget of its window.
    assert row["added_budget"] == budget


def record(
    conn: psycopg.Connection[Any], settings: Settings, start: int, seconds: int
) -> None:
    """A finished run at 50 requests a minute, `start` seconds after the first."""
    run = start_run(conn, settings.raw_schema, "manual", requests_per_minute=50)
    finish_run(conn, settings.raw_schema, run.run_id, RunCounts(), status="succeeded")
    conn.execute(
        "UPDATE dotloop_raw.sync_run "
        "SET started_at = timestamptz '2026-03-02 01:00Z' + make_interval(secs => %s), "
        "finished_at = timestamptz '2026-03-02 01:00Z' + make_interval(secs => %s) "
        "WHERE run_id = %s",
        (start, start + seconds, run.run_id),
    )


def test_runs_that_overlap_add_each_minute_of_budget_once(
    database_url: str, conn: psycopg.Connection[Any]
) -> None:
    settings = Settings(database_url=Secret(database_url))
    apply_views(conn, settings)
    # Windows: 0-180 s; 60-120 s inside it; 150-210 s (a minute at least),
    # half inside; 300-330 s, alone, counting a minute.
    for start, seconds in [(0, 180), (60, 10), (150, 5), (300, 30)]:
        record(conn, settings, start, seconds)

    rows = runs(conn)

    assert [row["request_budget"] for row in rows] == [
        Decimal("150.0"),
        Decimal("50.0"),
        Decimal("50.0"),
        Decimal("50.0"),
    ]
    assert [row["added_budget"] for row in rows] == [
        Decimal("150.0"),
        Decimal("0.0"),
        Decimal("25.0"),
        Decimal("50.0"),
    ]


def test_a_running_run_is_measured_to_now(
    database_url: str, conn: psycopg.Connection[Any]
) -> None:
    settings = Settings(database_url=Secret(database_url))
    apply_views(conn, settings)
    start_run(conn, settings.raw_schema, "manual", requests_per_minute=50)
    conn.execute(
        "UPDATE dotloop_raw.sync_run SET started_at = now() - interval '2 minutes'"
    )

    (row,) = runs(conn)

    assert row["status"] == "running"
    assert row["duration_seconds"] >= 120
    assert row["request_budget"] >= 100
