"""The hand-worked ledger, landed into raw tables, read back through the views."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connector.secrets import Secret
from sync.db import apply_schema
from sync.settings import Settings
from sync.views import apply_views, refresh_reporting
from tests.fixtures.ledger import (
    EXPECTED_COMPANY_GCI_THIS_YEAR,
    EXPECTED_COMPANY_UNITS_THIS_YEAR,
    EXPECTED_COMPANY_VOLUME_THIS_YEAR,
    EXPECTED_DATA_QUALITY,
    EXPECTED_GCI_BY_AGENT_THIS_YEAR,
    EXPECTED_GCI_RULES,
    EXPECTED_PROFILE_OF_SHARED_LOOP,
    EXPECTED_SIDE_GCI,
    EXPECTED_UNITS_BY_AGENT_THIS_YEAR,
    land_ledger,
    render_ledger,
)

CENT = Decimal("0.01")
THIS_YEAR = datetime.date.today().year


@pytest.fixture
def ledger(database_url: str, tmp_path: Path) -> Iterator[psycopg.Connection[Any]]:
    """A fresh database holding the ledger of this year, with the views applied."""
    settings = Settings(database_url=Secret(database_url))
    root = render_ledger(tmp_path, THIS_YEAR)
    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_schema(conn, settings)
        land_ledger(conn, settings.raw_schema, root)
        apply_views(conn, settings)
        yield conn


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def test_gci_by_agent_this_year(ledger: psycopg.Connection[Any]) -> None:
    rows = ledger.execute(
        """
        SELECT agent_name, sum(gci_credit), sum(unit_credit)
        FROM reporting.agent_credits
        WHERE is_closed AND date_part('year', closing_date) = %s
        GROUP BY agent_name
        """,
        (THIS_YEAR,),
    ).fetchall()

    gci = {name: _cents(total) for name, total, _ in rows}
    units = {name: count for name, _, count in rows}
    assert gci == EXPECTED_GCI_BY_AGENT_THIS_YEAR
    assert units == EXPECTED_UNITS_BY_AGENT_THIS_YEAR


def test_company_totals_this_year_come_from_sides(
    ledger: psycopg.Connection[Any],
) -> None:
    gci, volume, units = ledger.execute(
        """
        SELECT sum(gci), sum(volume), sum(units)
        FROM reporting.loop_sides
        WHERE is_closed AND date_part('year', closing_month) = %s
        """,
        (THIS_YEAR,),
    ).fetchone() or (None, None, None)

    assert _cents(gci) == EXPECTED_COMPANY_GCI_THIS_YEAR
    assert volume == EXPECTED_COMPANY_VOLUME_THIS_YEAR
    assert units == EXPECTED_COMPANY_UNITS_THIS_YEAR
    assert sum(EXPECTED_GCI_BY_AGENT_THIS_YEAR.values()) < gci


def test_each_side_has_its_rule_and_gci(ledger: psycopg.Connection[Any]) -> None:
    rows = ledger.execute(
        "SELECT loop_id, side, gci_rule, gci FROM reporting.loop_sides"
    ).fetchall()

    assert {(lid, side): rule for lid, side, rule, _ in rows} == EXPECTED_GCI_RULES
    assert {(lid, side): _cents(g) for lid, side, _, g in rows} == EXPECTED_SIDE_GCI


def test_agent_credits_share_each_side_exactly(ledger: psycopg.Connection[Any]) -> None:
    unequal = ledger.execute(
        """
        SELECT s.loop_id, s.side, s.gci, sum(c.gci_credit), s.units, sum(c.unit_credit)
        FROM reporting.loop_sides AS s
        JOIN reporting.agent_credits AS c USING (loop_id, side)
        GROUP BY s.loop_id, s.side, s.gci, s.units
        HAVING round(sum(c.gci_credit), 2) IS DISTINCT FROM s.gci
            OR sum(c.unit_credit) <> s.units
        """
    ).fetchall()

    assert unequal == []


def test_data_quality_lists_every_problem(ledger: psycopg.Connection[Any]) -> None:
    rows = ledger.execute(
        "SELECT loop_id, side, metric, problem, reason FROM reporting.data_quality"
    ).fetchall()

    assert {row[:4] for row in rows} == EXPECTED_DATA_QUALITY
    assert len(rows) == len(EXPECTED_DATA_QUALITY)
    assert all(reason for *_, reason in rows)


def test_unreadable_price_names_field_and_value(
    ledger: psycopg.Connection[Any],
) -> None:
    row = ledger.execute(
        "SELECT reason, value FROM reporting.data_quality "
        "WHERE loop_id = 5009 AND metric = 'price'"
    ).fetchone()

    assert row is not None
    reason, value = row
    assert "Financials / Purchase/Sale Price" in reason
    assert value == "about 450k"


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("carla.reyes@summitrealty.example", "Carla Reyes-Lopez"),
        ("erin.walsh@summitrealty.example", "Erin Walsh"),
    ],
)
def test_agents_are_one_per_folded_email(
    ledger: psycopg.Connection[Any], email: str, name: str
) -> None:
    rows = ledger.execute(
        "SELECT DISTINCT agent_email, agent_name FROM reporting.agent_credits "
        "WHERE lower(agent_email) = %s",
        (email,),
    ).fetchall()

    assert rows == [(email, name)]


def test_shared_loop_is_one_row_with_the_lowest_profile(
    ledger: psycopg.Connection[Any],
) -> None:
    rows = ledger.execute(
        "SELECT loop_id, profile_id FROM reporting.loops WHERE loop_id = %s",
        (EXPECTED_PROFILE_OF_SHARED_LOOP[0],),
    ).fetchall()

    assert rows == [EXPECTED_PROFILE_OF_SHARED_LOOP]


@pytest.mark.parametrize(
    ("loop_id", "side", "is_referral_only", "volume", "units"),
    [
        (5006, "buy", True, Decimal("0"), Decimal("0")),
        (5007, "buy", False, Decimal("2400"), Decimal("1")),
        (5009, "buy", False, None, Decimal("1")),
        (5017, "sell", False, Decimal("3000"), Decimal("1")),
    ],
)
def test_referrals_and_leases_count_volume_and_units_by_rule(
    ledger: psycopg.Connection[Any],
    loop_id: int,
    side: str,
    is_referral_only: bool,
    volume: Decimal | None,
    units: Decimal,
) -> None:
    row = ledger.execute(
        "SELECT is_referral_only, volume, units FROM reporting.loop_sides "
        "WHERE loop_id = %s AND side = %s",
        (loop_id, side),
    ).fetchone()

    assert row == (is_referral_only, volume, units)


@pytest.mark.parametrize("schema", ["reporting", "reporting_lib"])
def test_removed_loops_leave_every_view(
    ledger: psycopg.Connection[Any], database_url: str, schema: str
) -> None:
    ledger.execute(
        "UPDATE dotloop_raw.loop SET removed_at = now() WHERE loop_id = 5001"
    )

    refresh_reporting(ledger, Settings(database_url=Secret(database_url)))

    for view in ("loops", "loop_participants", "loop_sides", "agent_credits"):
        found = ledger.execute(
            f"SELECT count(*) FROM {schema}.{view} WHERE loop_id = 5001"
        ).fetchone()
        assert found == (0,), view


def test_unknown_transaction_type_is_listed(
    ledger: psycopg.Connection[Any], database_url: str
) -> None:
    ledger.execute(
        "UPDATE dotloop_raw.loop SET fetched_at = now(), summary = jsonb_set("
        "summary, '{transactionType}', '\"TIMESHARE\"') WHERE loop_id = 5002"
    )

    refresh_reporting(ledger, Settings(database_url=Secret(database_url)))

    rows = ledger.execute(
        "SELECT metric, problem, reason, value FROM reporting.data_quality "
        "WHERE loop_id = 5002"
    ).fetchall()
    assert [row[:2] for row in rows] == [("sides", "no_represented_side")]
    assert rows[0][2].startswith("unknown transaction type TIMESHARE")
    assert rows[0][3] == "TIMESHARE"


def test_freshness_shows_last_success_per_profile(
    ledger: psycopg.Connection[Any],
) -> None:
    ledger.execute(
        "INSERT INTO dotloop_raw.sync_run (trigger, status, finished_at) "
        "VALUES ('nightly', 'succeeded', now())"
    )
    ledger.execute(
        "INSERT INTO dotloop_raw.profile_sync_state (profile_id, last_success_at) "
        "VALUES (101, now() - interval '3 hours')"
    )

    rows = ledger.execute(
        "SELECT profile_id, hours_since_success, latest_run_status "
        "FROM reporting.sync_freshness ORDER BY profile_id"
    ).fetchall()

    assert rows == [
        (101, Decimal("3.0"), "succeeded"),
        (202, None, "succeeded"),
    ]
