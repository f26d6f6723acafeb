"""Commission plans in the views: company dollar, the cap per cap year, fees, net."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from connector.secrets import Secret
from sync.brokerage import Brokerage, Office, Plan, RosterAgent, store_brokerage
from sync.db import apply_schema
from sync.settings import Settings
from sync.views import apply_views, refresh_reporting
from tests.sync.reporting_support import ALICE, BOB, Agent, land, sale

Conn = psycopg.Connection[Any]
CAROL = "carol@brokerage.example"
DANA = "dana@brokerage.example"
ERIN = "erin@brokerage.example"

BROKERAGE = Brokerage(
    offices=(Office("Downtown", (101,)),),
    plans=(
        Plan("Capped 70/30", Decimal(70), Decimal(100), Decimal(10000)),
        Plan("Uncapped 60/40", Decimal(60)),
    ),
    agents=(
        RosterAgent(
            ALICE, "Alice Able", plan="Capped 70/30", anniversary=date(2019, 4, 1)
        ),
        RosterAgent(BOB, office="Downtown"),
        RosterAgent(CAROL, plan="Uncapped 60/40"),
        RosterAgent(DANA, plan="Capped 70/30"),
        RosterAgent(ERIN, plan="Capped 70/30", anniversary=date(2019, 9, 15)),
    ),
)

# Alice (cap 10,000 a year from April 1, 30% to the company, fee 100):
# 1000 pays 9,000 of the cap year from 2024-04-01; 1001 (pre-cap 3,000)
# crosses the cap and pays 1,000. 1002 opens the next cap year on the
# anniversary itself (6,000), 1003 crosses again (4,000 of 6,000), 1004
# pays nothing. Bob has no plan (1005); Carol's plan has no cap (1006).
# Dana's two deals of the same day go by loop id (1007, then 1008).
DEALS = [
    sale(1000, "06/01/2024", "30,000"),
    sale(1001, "03/31/2025", "10,000"),
    sale(1002, "04/01/2025", "20,000"),
    sale(1003, "05/01/2025", "20,000"),
    sale(1004, "06/01/2025", "5,000"),
    sale(1005, "02/01/2025", "8,000", Agent("LISTING_AGENT", BOB, "Bob Best")),
    sale(1006, "02/01/2025", "10,000", Agent("LISTING_AGENT", CAROL, "Carol C")),
    sale(1008, "07/01/2025", "30,000", Agent("LISTING_AGENT", DANA, "Dana D")),
    sale(1007, "07/01/2025", "30,000", Agent("LISTING_AGENT", DANA, "Dana D")),
    # Under contract: no plan figures before it closes.
    sale(1009, "09/01/2025", "9,000", status="UNDER_CONTRACT"),
    # Erin's cap year starts mid-month, on September 15.
    sale(1010, "09/10/2025", "1,000", Agent("LISTING_AGENT", ERIN, "Erin E")),
    sale(1011, "09/20/2025", "2,000", Agent("LISTING_AGENT", ERIN, "Erin E")),
    sale(1012, "10/05/2025", "4,000", Agent("LISTING_AGENT", ERIN, "Erin E")),
    sale(1013, "11/03/2025", "8,000", Agent("LISTING_AGENT", ERIN, "Erin E")),
]

# (loop, agent): (cap_year_start, company_dollar, deal_fees, agent_net)
EXPECTED_CREDITS = {
    (1000, ALICE): ("2024-04-01", "9000", "100", "20900"),
    (1001, ALICE): ("2024-04-01", "1000", "100", "8900"),
    (1002, ALICE): ("2025-04-01", "6000", "100", "13900"),
    (1003, ALICE): ("2025-04-01", "4000", "100", "15900"),
    (1004, ALICE): ("2025-04-01", "0", "100", "4900"),
    (1005, BOB): (None, None, None, None),
    (1006, CAROL): ("2025-01-01", "4000", "0", "6000"),
    (1007, DANA): ("2025-01-01", "9000", "100", "20900"),
    (1008, DANA): ("2025-01-01", "1000", "100", "28900"),
    (1009, ALICE): (None, None, None, None),
    (1010, ERIN): ("2024-09-15", "300", "100", "600"),
    (1011, ERIN): ("2025-09-15", "600", "100", "1300"),
    (1012, ERIN): ("2025-09-15", "1200", "100", "2700"),
    (1013, ERIN): ("2025-09-15", "2400", "100", "5500"),
}


def _connect(url: str) -> Conn:
    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=Secret(database_url))


@pytest.fixture
def plans(database_url: str, settings: Settings) -> Iterator[Conn]:
    """The deals above with the brokerage loaded and the views applied."""
    with _connect(database_url) as conn:
        apply_schema(conn, settings)
        land(conn, settings, DEALS)
        store_brokerage(conn, settings, BROKERAGE)
        apply_views(conn, settings)
        yield conn


def _anchor(conn: Conn, day: str) -> None:
    conn.execute("SELECT set_config('dotloop_reporter.anchor_date', %s, false)", (day,))


def _money(value: Any) -> str | None:
    return None if value is None else f"{Decimal(value).normalize():f}"


def test_company_dollar_stops_at_the_cap_and_restarts_each_cap_year(
    plans: Conn,
) -> None:
    rows = plans.execute(
        "SELECT loop_id, agent_email, cap_year_start, company_dollar, deal_fees, "
        "agent_net FROM reporting.agent_credits"
    ).fetchall()

    found = {
        (loop_id, email): (
            start and start.isoformat(),
            _money(company),
            _money(fees),
            _money(net),
        )
        for loop_id, email, start, company, fees, net in rows
    }
    assert found == EXPECTED_CREDITS


def test_no_plan_means_no_plan_figures(plans: Conn) -> None:
    row = plans.execute(
        "SELECT plan_name, pre_cap_company_dollar, company_dollar, deal_fees, "
        "agent_net, gci_credit FROM reporting.agent_credits WHERE loop_id = 1005"
    ).fetchone()

    assert row == (None, None, None, None, None, Decimal(8000))


@pytest.mark.parametrize(
    ("anchor", "alice", "dana"),
    [
        # Alice's cap year from 2024-04-01 is full; Dana has paid nothing.
        ("2025-03-31", ("2024-04-01", "0"), ("2025-01-01", "10000")),
        # On the anniversary only 1002's 6,000 counts.
        ("2025-04-01", ("2025-04-01", "4000"), ("2025-01-01", "10000")),
        ("2025-07-01", ("2025-04-01", "0"), ("2025-01-01", "0")),
    ],
)
def test_left_to_cap_at_the_anchor(
    plans: Conn,
    anchor: str,
    alice: tuple[str, str],
    dana: tuple[str, str],
) -> None:
    _anchor(plans, anchor)

    rows = plans.execute(
        "SELECT agent_email, cap_year_start, left_to_cap, period_anchor "
        "FROM reporting.agents"
    ).fetchall()

    found = {
        email: (start and start.isoformat(), _money(left))
        for email, start, left, _ in rows
    }
    assert found == {
        ALICE: alice,
        BOB: (None, None),
        CAROL: ("2025-01-01", None),
        DANA: dana,
        ERIN: ("2024-09-15", "10000"),
    }
    assert {day.isoformat() for *_, day in rows} == {anchor}


@pytest.mark.parametrize(
    ("anchor", "left"),
    [
        # The cap year's first month only, up to the anchor.
        ("2025-09-20", "9400"),
        # Its first month whole and no day of the next.
        ("2025-10-04", "9400"),
        ("2025-10-05", "8200"),
        # A whole month between the first and the anchor's.
        ("2025-11-10", "5800"),
        ("2025-09-14", "9700"),
    ],
)
def test_left_to_cap_from_a_mid_month_anniversary(
    plans: Conn, anchor: str, left: str
) -> None:
    _anchor(plans, anchor)

    row = plans.execute(
        "SELECT left_to_cap FROM reporting.agents WHERE agent_email = %s", (ERIN,)
    ).fetchone()

    assert row is not None
    assert _money(row[0]) == left


def test_agents_lists_the_roster_with_plans(plans: Conn) -> None:
    rows = plans.execute(
        "SELECT agent_email, agent_name, office, plan_name, cap "
        "FROM reporting.agents ORDER BY agent_email"
    ).fetchall()

    assert rows == [
        (ALICE, "Alice Able", None, "Capped 70/30", Decimal(10000)),
        (BOB, "Bob Best", "Downtown", None, None),
        (CAROL, "Carol C", None, "Uncapped 60/40", None),
        (DANA, "Dana D", None, "Capped 70/30", Decimal(10000)),
        (ERIN, "Erin E", None, "Capped 70/30", Decimal(10000)),
    ]


@pytest.mark.parametrize(
    ("anniversary", "day", "start"),
    [
        ("2019-04-01", "2025-03-31", "2024-04-01"),
        ("2019-04-01", "2025-04-01", "2025-04-01"),
        ("2020-02-29", "2023-02-27", "2022-02-28"),
        ("2020-02-29", "2023-02-28", "2023-02-28"),
        ("2020-02-29", "2024-02-29", "2024-02-29"),
        (None, "2025-12-31", "2025-01-01"),
        (None, None, None),
    ],
)
def test_cap_year_start(
    plans: Conn, anniversary: str | None, day: str | None, start: str | None
) -> None:
    row = plans.execute(
        "SELECT reporting_lib.cap_year_start(%s::date, %s::date)", (anniversary, day)
    ).fetchone()

    assert row is not None
    assert (row[0] and row[0].isoformat()) == start


def test_a_changed_deal_moves_the_cap_of_later_deals(
    plans: Conn, settings: Settings
) -> None:
    # 1002 brings less: 1003 no longer reaches the cap, and 1004 pays too.
    land(plans, settings, [sale(1002, "04/01/2025", "10,000")])

    refresh_reporting(plans, settings)

    rows = plans.execute(
        "SELECT loop_id, company_dollar FROM reporting.agent_credits "
        "WHERE loop_id IN (1002, 1003, 1004) ORDER BY loop_id"
    ).fetchall()
    assert [(lid, _money(cd)) for lid, cd in rows] == [
        (1002, "3000"),
        (1003, "6000"),
        (1004, "1000"),
    ]
    differences = plans.execute(
        "(SELECT * FROM reporting.agent_credits EXCEPT ALL "
        "SELECT * FROM reporting_lib.agent_credits) UNION ALL "
        "(SELECT * FROM reporting_lib.agent_credits EXCEPT ALL "
        "SELECT * FROM reporting.agent_credits)"
    ).fetchall()
    assert differences == []
