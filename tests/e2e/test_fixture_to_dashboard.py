"""The main job end to end: fixture loops to the GCI dashboard in Superset.

The hand-worked ledger is served by the simulator over a socket, synced by
the `dotloop-reporter sync` command into a fresh Postgres database, imported
as the dashboard bundle into a real Superset, and read back through
Superset's chart data API. The figures must equal the ledger's, to the cent,
and the freshness dashboard's run charts the requests the simulator served.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql

from connector.secrets import Secret
from connector.simulator import Simulator, SimulatorConfig, load_fixtures
from sync.settings import Settings, to_environ
from sync.superset_server import SupersetServer
from sync.superset_setup import import_with
from tests.fixtures.ledger import (
    EXPECTED_COMPANY_GCI_THIS_YEAR,
    EXPECTED_GCI_BY_AGENT_THIS_YEAR,
    EXPECTED_UNITS_BY_AGENT_THIS_YEAR,
    render_ledger,
)

CENT = Decimal("0.01")
BUDGET = 3000


@pytest.fixture(scope="module")
def ledger_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """The ledger, with this year's dates, served like the Dotloop API."""
    root = render_ledger(tmp_path_factory.mktemp("ledger"), date.today().year)
    config = SimulatorConfig(rate_limit_per_minute=6000)
    with Simulator(load_fixtures(root), config) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def synced_settings(
    reporting_settings: Settings, ledger_simulator: Simulator
) -> Settings:
    """Run `dotloop-reporter sync` against the simulator, as a user would."""
    dotloop = dataclasses.replace(
        reporting_settings.dotloop,
        api_url=ledger_simulator.base_url,
        auth_url=ledger_simulator.auth_url,
        client_id="sim-client",
        client_secret=Secret("sim-secret"),
        refresh_token=Secret("sim-refresh"),
        requests_per_minute=BUDGET,
    )
    settings = dataclasses.replace(reporting_settings, dotloop=dotloop)
    completed = subprocess.run(
        [sys.executable, "-m", "sync.cli", "sync"],
        env={**os.environ, **to_environ(settings)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return settings


@pytest.fixture(scope="module")
def imported(superset: SupersetServer, synced_settings: Settings) -> str:
    with superset.client() as client:
        return import_with(client, synced_settings, url=superset.url, bundle=None)


def chart_rows(superset: SupersetServer, name: str) -> list[dict[str, Any]]:
    with superset.client() as client:
        chart_id = client.chart_id(name=name)
        result = client.chart_data(chart_id)["result"]
    rows: list[dict[str, Any]] = result[0]["data"]
    return rows


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_sync_landed_every_loop_once(synced_settings: Settings) -> None:
    assert synced_settings.database_url is not None
    with psycopg.connect(synced_settings.database_url.reveal()) as conn:
        loops, links = conn.execute(
            sql.SQL(
                "SELECT (SELECT count(*) FROM {}), (SELECT count(*) FROM {})"
            ).format(
                sql.Identifier(synced_settings.raw_schema, "loop"),
                sql.Identifier(synced_settings.raw_schema, "loop_profile"),
            )
        ).fetchone() or (0, 0)

    # 18 loops; loop 5005 is listed by both profiles but stored once.
    assert (loops, links) == (18, 19)


def test_dashboard_url_points_at_the_imported_dashboard(imported: str) -> None:
    assert "/superset/dashboard/" in imported


def test_gci_by_agent_chart_matches_the_ledger(
    superset: SupersetServer, imported: str
) -> None:
    rows = chart_rows(superset, "Agent leaderboard")

    by_agent = {row["agent_name"]: cents(row["gci_credit"]) for row in rows}
    assert by_agent == EXPECTED_GCI_BY_AGENT_THIS_YEAR
    assert [row["agent_name"] for row in rows] == sorted(
        by_agent, key=lambda agent: by_agent[agent], reverse=True
    )
    units = {row["agent_name"]: Decimal(str(row["unit_credit"])) for row in rows}
    assert units == EXPECTED_UNITS_BY_AGENT_THIS_YEAR


def test_gci_this_year_kpi_matches_the_ledger(
    superset: SupersetServer, imported: str
) -> None:
    rows = chart_rows(superset, "GCI this year")

    assert len(rows) == 1
    (value,) = rows[0].values()
    assert cents(value) == EXPECTED_COMPANY_GCI_THIS_YEAR


def test_gci_by_month_adds_up_to_the_kpi(
    superset: SupersetServer, imported: str
) -> None:
    rows = chart_rows(superset, "GCI by month")

    # One row per calendar month, a column per year: this year and last.
    this_year = [row.get(str(date.today().year)) for row in rows]
    assert rows, "the monthly chart returned no rows"
    assert sum(cents(v) for v in this_year if v is not None) == (
        EXPECTED_COMPANY_GCI_THIS_YEAR
    )


def test_run_charts_show_the_requests_the_sync_sent(
    superset: SupersetServer,
    synced_settings: Settings,
    ledger_simulator: Simulator,
    imported: str,
) -> None:
    served = ledger_simulator.stats()["requests_by_endpoint"]
    api_requests = sum(n for name, n in served.items() if "/oauth/" not in name)
    assert synced_settings.database_url is not None
    with psycopg.connect(synced_settings.database_url.reveal()) as conn:
        recorded = conn.execute(
            sql.SQL("SELECT trigger, status, requests, throttled FROM {}").format(
                sql.Identifier(synced_settings.raw_schema, "sync_run")
            )
        ).fetchall()

    daily = chart_rows(superset, "Requests used against budget")
    recent = chart_rows(superset, "Recent sync runs")
    (share,) = chart_rows(superset, "Request budget used")

    # One run, of the sync command, seconds long: a minute's budget.
    assert recorded == [("manual", "succeeded", api_requests, 0)]
    assert sum(row["requests"] for row in daily) == api_requests
    assert sum(row["request_budget"] for row in daily) == BUDGET
    assert [(r["trigger"], r["requests"]) for r in recent] == [("manual", api_requests)]
    (value,) = share.values()
    assert Decimal(str(value)).quantize(Decimal("0.0001")) == (
        Decimal(api_requests) / BUDGET
    ).quantize(Decimal("0.0001"))


def test_second_import_changes_nothing(
    superset: SupersetServer, synced_settings: Settings, imported: str
) -> None:
    again = import_with_fresh_client(superset, synced_settings)

    assert again == imported
    assert chart_rows(superset, "Agent leaderboard")


def import_with_fresh_client(superset: SupersetServer, settings: Settings) -> str:
    with superset.client() as client:
        return import_with(client, settings, url=superset.url, bundle=None)


def test_superset_action_log_keeps_no_database_password(
    superset: SupersetServer, synced_settings: Settings, imported: str
) -> None:
    password = synced_settings.reporting_reader_password
    assert password is not None
    metadata = sqlite3.connect(superset.local.home / "superset.db")
    try:
        rows = metadata.execute("SELECT json FROM logs").fetchall()
    finally:
        metadata.close()

    assert any("assets" in (row[0] or "") for row in rows), "import not logged"
    assert not [row for row in rows if password.reveal() in (row[0] or "")]
