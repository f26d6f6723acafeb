"""Year to date against prior year to date, at the anchor date the session sets."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from connector.secrets import Secret
from sync.brokerage import Brokerage, Office, RosterAgent, Team, store_brokerage
from sync.db import apply_schema
from sync.settings import Settings
from sync.views import apply_views
from tests.sync.reporting_support import ALICE, BOB, Agent, land, sale

Conn = psycopg.Connection[Any]

BROKERAGE = Brokerage(
    offices=(Office("Downtown", (101,)),),
    teams=(Team("Duo"),),
    agents=(RosterAgent(ALICE, team="Duo"), RosterAgent(BOB, team="Duo")),
)
BOTH = (
    Agent("LISTING_AGENT", ALICE, "Alice Able"),
    Agent("LISTING_AGENT", BOB, "Bob Best"),
)
# Closing dates around a leap-year anchor, 2024-02-29, GCI in powers of two
# so that every sum names its deals.
DEALS = [
    sale(4001, "02/29/2024", "1,000"),
    sale(4002, "01/01/2024", "2,000", *BOTH),
    sale(4003, "03/01/2024", "4,000"),
    sale(4004, "02/28/2023", "8,000"),
    sale(4005, "03/01/2023", "16,000"),
    sale(4006, "12/31/2022", "32,000"),
    # Referral-only: GCI, no volume, no unit; still a transaction.
    sale(4007, "02/01/2024", "64", price="0"),
    # Closed on another profile, in no office.
    sale(4008, "02/02/2024", "128", profile_id=202),
    # Under contract: in the pipeline, not in production.
    sale(4009, "04/15/2024", "256", status="UNDER_CONTRACT"),
    sale(4010, "", "512", status="UNDER_CONTRACT"),
]
# grain, key: ytd_gci, prior_ytd_gci, yoy_gci_change, yoy_gci_change_pct,
# ytd_units, ytd_volume, ytd_transactions
AT_LEAP_DAY = {
    ("company", ""): ("3192", "8000", "-4808", "-0.601", "3", "1500000", 4),
    ("office", "Downtown"): ("3064", "8000", "-4936", "-0.617", "2", "1000000", 3),
    ("team", "Duo"): ("3192", "8000", "-4808", "-0.601", "3", "1500000", 4),
    ("agent", ALICE): ("2192", "8000", "-5808", "-0.726", "2.5", "1250000", 4),
    ("agent", BOB): ("1000", "0", "1000", None, "0.5", "250000", 1),
}


@pytest.fixture
def conn(database_url: str) -> Iterator[Conn]:
    settings = Settings(database_url=Secret(database_url))
    with psycopg.connect(database_url, autocommit=True) as connection:
        apply_schema(connection, settings)
        land(connection, settings, DEALS)
        store_brokerage(connection, settings, BROKERAGE)
        apply_views(connection, settings)
        yield connection


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return value


def _summary(conn: Conn) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = conn.execute(
        "SELECT grain, key, ytd_gci, prior_ytd_gci, yoy_gci_change, "
        "round(yoy_gci_change_pct, 3), ytd_units, ytd_volume, ytd_transactions "
        "FROM reporting.production_summary"
    ).fetchall()
    return {(grain, key): tuple(map(_plain, rest)) for grain, key, *rest in rows}


def test_year_to_date_at_a_leap_day_anchor(conn: Conn) -> None:
    conn.execute("SET dotloop_reporter.anchor_date = '2024-02-29'")

    assert _summary(conn) == AT_LEAP_DAY
    periods = conn.execute(
        "SELECT DISTINCT period_anchor, ytd_start, prior_ytd_start, prior_ytd_end "
        "FROM reporting.production_summary"
    ).fetchall()
    assert periods == [
        (
            datetime.date(2024, 2, 29),
            datetime.date(2024, 1, 1),
            datetime.date(2023, 1, 1),
            datetime.date(2023, 2, 28),
        )
    ]


def test_a_later_anchor_moves_both_periods(conn: Conn) -> None:
    conn.execute("SET dotloop_reporter.anchor_date = '2024-03-01'")

    company = _summary(conn)[("company", "")]

    # 4003 joins this year's figures, 4005 last year's.
    assert company[:4] == ("7192", "24000", "-16808", "-0.7")


def test_without_an_anchor_the_period_ends_today(conn: Conn) -> None:
    conn.execute("RESET dotloop_reporter.anchor_date")

    anchors = conn.execute(
        "SELECT DISTINCT period_anchor FROM reporting.production_summary"
    ).fetchall()
    agents = conn.execute("SELECT DISTINCT period_anchor FROM reporting.agents")

    today = conn.execute("SELECT current_date").fetchone()
    assert anchors in ([], [today])
    assert agents.fetchall() == [today]


def test_pipeline_by_projected_close_month(conn: Conn) -> None:
    rows = conn.execute(
        "SELECT projected_close_month, office, loops, sides, projected_gci "
        "FROM reporting.pipeline"
    ).fetchall()
    problems = conn.execute(
        "SELECT loop_id, side, metric, problem FROM reporting.data_quality "
        "WHERE problem = 'pipeline_without_closing_date'"
    ).fetchall()

    assert rows == [(datetime.date(2024, 4, 1), "Downtown", 1, 1, Decimal(256))]
    assert problems == [(4010, None, "closing_date", "pipeline_without_closing_date")]
