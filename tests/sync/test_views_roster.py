"""The roster, offices and referrals in the views, on small hand-made loops."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from connector.secrets import Secret
from sync.brokerage import Brokerage, Office, RosterAgent, Team, store_brokerage
from sync.db import apply_schema
from sync.settings import Settings
from sync.views import apply_views, refresh_reporting
from tests.sync.reporting_support import ALICE, BOB, OUTSIDER, Agent, Deal, land, sale

Conn = psycopg.Connection[Any]

BROKERAGE = Brokerage(
    offices=(Office("Downtown", (101,)), Office("Uptown", (202,))),
    teams=(Team("Able Team", "Downtown"),),
    agents=(
        RosterAgent(ALICE, team="Able Team", office="Uptown"),
        RosterAgent(BOB),
    ),
)
SPLITS = {
    "Sale Commission Rate": "5%",
    "Sale Commission Split % - Buy Side": "50",
    "Sale Commission Split % - Sell Side": "50",
}
LISTS = Agent("LISTING_AGENT", ALICE, "Alice Able")
BUYS = Agent("BUYING_AGENT", BOB, "Bob Best")
COOPERATES = Agent("BUYING_AGENT", OUTSIDER, "Olga Other")

DEALS = [
    # Alice lists, a cooperating agent of another brokerage buys, both
    # splits filled: dual agency without a roster, one side with it.
    Deal(2001, "03/01/2025", agents=(LISTS, COOPERATES), financials=SPLITS),
    # Both sides in-house: dual agency either way.
    Deal(2002, "03/01/2025", agents=(LISTS, BUYS), financials=SPLITS),
    # A purchase only an outsider works, on a profile of no office.
    Deal(
        2003,
        "03/01/2025",
        transaction_type="PURCHASE_OFFER",
        commission_total="9,000",
        agents=(COOPERATES,),
        profile_id=303,
    ),
    # Alice co-lists with an outsider: with a roster she takes the whole side.
    sale(2004, "03/01/2025", "12,000", LISTS, Agent("LISTING_AGENT", OUTSIDER)),
    # A listing with no agent at all.
    Deal(2005, "03/01/2025", commission_total="6,000", profile_id=202),
]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=Secret(database_url))


@pytest.fixture
def conn(database_url: str, settings: Settings) -> Iterator[Conn]:
    """The deals above landed, the views applied, no roster yet."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        apply_schema(connection, settings)
        land(connection, settings, DEALS)
        apply_views(connection, settings)
        yield connection


def _sides(conn: Conn) -> dict[tuple[int, str], tuple[Any, ...]]:
    rows = conn.execute(
        "SELECT loop_id, side, office, is_dual_agency, agent_count, gci "
        "FROM reporting.loop_sides"
    ).fetchall()
    return {(lid, side): tuple(rest) for lid, side, *rest in rows}


def _credits(conn: Conn) -> dict[tuple[int, str, str], tuple[Any, ...]]:
    rows = conn.execute(
        "SELECT loop_id, side, agent_email, gci_credit, office, team "
        "FROM reporting.agent_credits"
    ).fetchall()
    return {(lid, side, email): tuple(rest) for lid, side, email, *rest in rows}


def test_without_roster_every_agent_side_counts(conn: Conn) -> None:
    assert _sides(conn) == {
        (2001, "buy"): (None, True, 1, Decimal("12500.000")),
        (2001, "sell"): (None, True, 1, Decimal("12500.000")),
        (2002, "buy"): (None, True, 1, Decimal("12500.000")),
        (2002, "sell"): (None, True, 1, Decimal("12500.000")),
        (2003, "buy"): (None, False, 1, Decimal("9000")),
        (2004, "sell"): (None, False, 2, Decimal("12000")),
        (2005, "sell"): (None, False, 0, Decimal("6000")),
    }
    assert (2001, "buy", OUTSIDER) in _credits(conn)


def test_roster_leaves_out_sides_no_roster_agent_works(
    conn: Conn, settings: Settings
) -> None:
    store_brokerage(conn, settings, BROKERAGE)

    result = refresh_reporting(conn, settings)

    assert {"loop_sides", "agent_credits", "data_quality"} <= set(result.refilled)
    assert "loops" not in result.refilled
    assert _sides(conn) == {
        (2001, "sell"): ("Downtown", False, 1, Decimal("12500.000")),
        (2002, "buy"): ("Downtown", True, 1, Decimal("12500.000")),
        (2002, "sell"): ("Downtown", True, 1, Decimal("12500.000")),
        (2004, "sell"): ("Downtown", False, 1, Decimal("12000")),
    }
    assert _credits(conn) == {
        # Alice's office is her own on the roster, not the loop's.
        (2001, "sell", ALICE): (Decimal("12500.000"), "Uptown", "Able Team"),
        (2002, "buy", BOB): (Decimal("12500.000"), "Downtown", None),
        (2002, "sell", ALICE): (Decimal("12500.000"), "Uptown", "Able Team"),
        (2004, "sell", ALICE): (Decimal("12000"), "Uptown", "Able Team"),
    }


def test_sides_left_out_by_the_roster_are_listed(
    conn: Conn, settings: Settings
) -> None:
    store_brokerage(conn, settings, BROKERAGE)
    refresh_reporting(conn, settings)

    rows = conn.execute(
        "SELECT loop_id, side, metric, problem, value FROM reporting.data_quality"
    ).fetchall()

    assert sorted(rows) == [
        (2001, "buy", "sides", "outside_agents_only", OUTSIDER),
        (2003, "buy", "sides", "outside_agents_only", OUTSIDER),
        (2005, "sell", "agent_credit", "no_agent_on_side", None),
    ]


def test_roster_rows_an_admin_inserts_count_at_the_next_refresh(
    conn: Conn, settings: Settings
) -> None:
    conn.execute("INSERT INTO reporting_config.agent (email) VALUES (%s)", (BOB,))

    result = refresh_reporting(conn, settings)

    assert "agent_credits" in result.refilled
    sides = _sides(conn)
    assert set(sides) == {(2002, "buy")}
    assert sides[(2002, "buy")][1] is False

    again = refresh_reporting(conn, settings)

    assert again.refilled == []


@pytest.mark.parametrize("brokerage", [None, BROKERAGE], ids=["no roster", "roster"])
def test_an_agent_listed_twice_on_a_side_gets_one_credit(
    conn: Conn, settings: Settings, brokerage: Brokerage | None
) -> None:
    twice = sale(
        2006, "03/01/2025", "10,000", LISTS, Agent("LISTING_AGENT", ALICE.upper())
    )
    land(conn, settings, [twice])
    if brokerage is not None:
        store_brokerage(conn, settings, brokerage)
    refresh_reporting(conn, settings)

    side = conn.execute(
        "SELECT agent_count FROM reporting.loop_sides WHERE loop_id = 2006"
    ).fetchall()
    credits = conn.execute(
        "SELECT agent_email, gci_credit, unit_credit, transactions "
        "FROM reporting.agent_credits WHERE loop_id = 2006"
    ).fetchall()

    assert side == [(1,)]
    assert credits == [(ALICE, Decimal(10000), Decimal(1), 1)]


def test_readers_see_the_old_rows_while_a_new_roster_fills_the_tables(
    conn: Conn, database_url: str, settings: Settings
) -> None:
    reader = psycopg.connect(database_url, autocommit=True)
    reader.execute("SET lock_timeout = '2s'")
    before = reader.execute("SELECT count(*) FROM reporting.agent_credits").fetchone()

    # The refresh's transaction left open, as a minute-long fill holds it.
    with conn.transaction():
        store_brokerage(conn, settings, BROKERAGE)
        result = refresh_reporting(conn, settings)
        during = reader.execute(
            "SELECT count(*) FROM reporting.agent_credits"
        ).fetchone()
        in_refresh = conn.execute(
            "SELECT count(*) FROM reporting.agent_credits"
        ).fetchone()
    after = reader.execute("SELECT count(*) FROM reporting.agent_credits").fetchone()
    reader.close()

    assert "agent_credits" in result.refilled
    assert during == before
    assert after == in_refresh != before


@pytest.mark.parametrize(
    ("referral", "fee", "adjusted"),
    [
        ("25%", Decimal("2500"), Decimal("7500")),
        ("0.25", Decimal("2500"), Decimal("7500")),
        ("", Decimal("0"), Decimal("10000")),
        ("n/a", Decimal("0"), Decimal("10000")),
        ("a quarter", None, None),
    ],
)
def test_referral_fee_comes_off_the_gci(
    database_url: str,
    settings: Settings,
    referral: str,
    fee: Decimal | None,
    adjusted: Decimal | None,
) -> None:
    deal = sale(
        3001,
        "03/01/2025",
        "10,000",
        Agent("LISTING_AGENT", ALICE, "Alice Able"),
        Agent("LISTING_AGENT", BOB, "Bob Best"),
        referral_percent=referral,
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_schema(conn, settings)
        land(conn, settings, [deal])
        apply_views(conn, settings)

        side = conn.execute(
            "SELECT gci, referral_fee, adjusted_gci FROM reporting.loop_sides"
        ).fetchone()
        shares = conn.execute(
            "SELECT referral_fee_credit, adjusted_gci_credit "
            "FROM reporting.agent_credits"
        ).fetchall()
        problems = conn.execute(
            "SELECT metric FROM reporting.data_quality WHERE loop_id = 3001"
        ).fetchall()

    assert side is not None
    assert side[0] == Decimal(10000)
    assert (side[1], side[2]) == (fee, adjusted)
    half = [None if v is None else v / 2 for v in (fee, adjusted)]
    assert [tuple(row) for row in shares] == [tuple(half)] * 2
    assert problems == ([("referral_percent",)] if fee is None else [])
