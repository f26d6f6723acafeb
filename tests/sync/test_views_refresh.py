"""Fast tables against the parsing views: filled whole, then refreshed by change."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connector.secrets import Secret
from sync.brokerage import load_brokerage
from sync.db import apply_schema
from sync.settings import PROJECT_ROOT, Settings
from sync.sweep import ProfileListing, mark_absent
from sync.views import apply_views, refresh_reporting
from tests.fixtures.ledger import land_ledger, render_ledger

TABLES = [
    "loops",
    "loop_participants",
    "loop_sides",
    "agent_credits",
    "data_quality",
    "daily_production",
    "agent_monthly_production",
    "team_monthly_production",
    "agent_ytd_production",
    "pipeline",
]
BROKERAGE_FILE = PROJECT_ROOT / "tests" / "fixtures" / "ledger_brokerage.yaml"
Conn = psycopg.Connection[Any]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=Secret(database_url))


@pytest.fixture(params=["no roster", "roster"])
def ledger(
    settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Conn]:
    """The ledger landed a day ago, the views applied and the tables filled.

    Once without a brokerage configuration, once with offices, teams, plans
    and a roster.
    """
    assert settings.database_url is not None
    root = render_ledger(tmp_path, datetime.date.today().year)
    with psycopg.connect(settings.database_url.reveal(), autocommit=True) as conn:
        apply_schema(conn, settings)
        land_ledger(conn, settings.raw_schema, root)
        if request.param == "roster":
            load_brokerage(conn, settings, BROKERAGE_FILE)
        conn.execute(
            "UPDATE dotloop_raw.loop SET fetched_at = now() - interval '1 day', "
            "first_seen_at = now() - interval '1 day'"
        )
        conn.execute(
            "UPDATE dotloop_raw.loop_profile "
            "SET first_seen_at = now() - interval '1 day'"
        )
        apply_views(conn, settings)
        yield conn


def differences(conn: Conn, table: str) -> list[tuple[Any, ...]]:
    """Rows in the fast table or the parsing view but not both (multisets)."""
    return conn.execute(
        f"(SELECT * FROM reporting.{table} EXCEPT ALL "
        f"SELECT * FROM reporting_lib.{table}) UNION ALL "
        f"(SELECT * FROM reporting_lib.{table} EXCEPT ALL "
        f"SELECT * FROM reporting.{table})"
    ).fetchall()


def change_price(conn: Conn) -> None:
    conn.execute(
        "UPDATE dotloop_raw.loop SET fetched_at = now(), details = jsonb_set("
        "details, '{Financials,Purchase/Sale Price}', '\"$700,000\"') "
        "WHERE loop_id = 5001"
    )


def move_closing_date(conn: Conn) -> None:
    # The days and months the loop closed in, before and after, both change.
    conn.execute(
        "UPDATE dotloop_raw.loop SET fetched_at = now(), details = jsonb_set("
        "details, '{Contract Dates,Closing Date}', '\"01/02/2020\"') "
        "WHERE loop_id = 5003"
    )


def rename_agent(conn: Conn) -> None:
    # Carla's newest loop renames her: her rows on other loops follow.
    conn.execute(
        "UPDATE dotloop_raw.loop SET fetched_at = now(), participants = ("
        "SELECT jsonb_agg(CASE WHEN p ->> 'fullName' = 'Carla Reyes-Lopez' "
        "THEN jsonb_set(p, '{fullName}', '\"Carla Lopez\"') ELSE p END) "
        "FROM jsonb_array_elements(participants) AS p) WHERE loop_id = 5013"
    )


def remove_loop(conn: Conn) -> None:
    conn.execute("UPDATE dotloop_raw.loop SET removed_at = now() WHERE loop_id = 5004")


def purge_loop(conn: Conn) -> None:
    conn.execute("DELETE FROM dotloop_raw.loop WHERE loop_id = 5003")


def add_loop(conn: Conn) -> None:
    conn.execute(
        "INSERT INTO dotloop_raw.loop (loop_id, summary, details, participants, "
        "loop_updated, first_seen_at, fetched_at) "
        "SELECT 9001, jsonb_set(summary, '{id}', '9001'), details, participants, "
        "loop_updated, now(), now() FROM dotloop_raw.loop WHERE loop_id = 5002"
    )


def link_lower_profile(conn: Conn) -> None:
    conn.execute(
        "INSERT INTO dotloop_raw.loop_profile VALUES (5015, 7, now(), now(), NULL)"
    )


CHANGES = [
    pytest.param(change_price, 1, id="price"),
    pytest.param(move_closing_date, 1, id="closing-date"),
    pytest.param(rename_agent, 1, id="agent-renamed"),
    pytest.param(remove_loop, 1, id="removed"),
    pytest.param(purge_loop, 1, id="purged"),
    pytest.param(add_loop, 1, id="new-loop"),
    pytest.param(link_lower_profile, 1, id="new-profile-link"),
]


def test_filled_tables_equal_the_parsing_views(ledger: Conn) -> None:
    for table in TABLES:
        assert differences(ledger, table) == [], table
        count = ledger.execute(f"SELECT count(*) FROM reporting.{table}").fetchone()
        # Without a roster there are no teams.
        assert count is not None, table
        assert count[0] > 0 or table == "team_monthly_production", table


def test_refresh_with_nothing_changed_touches_nothing(
    ledger: Conn, settings: Settings
) -> None:
    result = refresh_reporting(ledger, settings)

    assert not result.full
    assert result.loops_changed == 0
    assert result.rows_written == {}


@pytest.mark.parametrize(("change", "loops"), CHANGES)
def test_refresh_replaces_what_changed(
    ledger: Conn, settings: Settings, change: Callable[[Conn], None], loops: int
) -> None:
    change(ledger)

    result = refresh_reporting(ledger, settings)

    assert not result.full
    assert result.loops_changed == loops
    for table in TABLES:
        assert differences(ledger, table) == [], table


def test_deleted_loops_are_logged_until_a_later_refresh_passed_them(
    ledger: Conn, settings: Settings
) -> None:
    purge_loop(ledger)
    refresh_reporting(ledger, settings)
    logged = "SELECT loop_id FROM reporting_lib.loop_deletions"
    assert ledger.execute(logged).fetchall() == [(5003,)]
    # As if the next night's refresh came: the mark has moved past it.
    ledger.execute(
        "UPDATE reporting_lib.loop_deletions "
        "SET deleted_at = deleted_at - interval '1 day'"
    )

    result = refresh_reporting(ledger, settings)

    assert result.loops_changed == 0
    assert ledger.execute(logged).fetchall() == []
    assert differences(ledger, "loops") == []


def test_renamed_agent_is_renamed_on_every_loop(
    ledger: Conn, settings: Settings
) -> None:
    rename_agent(ledger)

    refresh_reporting(ledger, settings)

    names = ledger.execute(
        "SELECT DISTINCT agent_name FROM reporting.agent_credits "
        "WHERE agent_email = 'carla.reyes@summitrealty.example'"
    ).fetchall()
    assert names == [("Carla Lopez",)]


def test_a_loop_a_sweep_finds_again_comes_back(
    ledger: Conn, settings: Settings
) -> None:
    rows = ledger.execute(
        "SELECT loop_id FROM dotloop_raw.loop_profile WHERE profile_id = 101"
    ).fetchall()
    listed = frozenset(loop_id for (loop_id,) in rows)
    now = datetime.datetime.now(datetime.UTC)
    mark_absent(
        ledger,
        "dotloop_raw",
        ProfileListing(101, listed - {5001}, 1, complete=True),
        now,
    )
    refresh_reporting(ledger, settings)
    gone = ledger.execute("SELECT count(*) FROM reporting.loops WHERE loop_id = 5001")
    assert gone.fetchone() == (0,)

    later = now + datetime.timedelta(seconds=1)
    mark_absent(
        ledger, "dotloop_raw", ProfileListing(101, listed, 1, complete=True), later
    )
    result = refresh_reporting(ledger, settings)

    assert result.loops_changed >= 1
    for table in TABLES:
        assert differences(ledger, table) == [], table
    back = ledger.execute("SELECT count(*) FROM reporting.loops WHERE loop_id = 5001")
    assert back.fetchone() == (1,)


def test_refresh_after_spec_change_fills_again(
    ledger: Conn, settings: Settings
) -> None:
    ledger.execute("UPDATE reporting_lib.refresh_state SET definition_hash = 'old'")
    ledger.execute("DELETE FROM reporting.loop_sides")

    result = refresh_reporting(ledger, settings)

    assert result.full
    assert differences(ledger, "loop_sides") == []


EARLIEST_CAPPED_CREDIT = """
SELECT c.loop_id, c.agent_email, c.closing_month
FROM reporting.agent_credits AS c
WHERE c.plan_cap IS NOT NULL AND c.company_dollar > 0 AND EXISTS (
  SELECT 1 FROM reporting.agent_credits AS l
  WHERE l.agent_email = c.agent_email AND l.cap_year_start = c.cap_year_start
    AND l.closing_month > c.closing_month AND l.company_dollar > 0
)
ORDER BY c.closing_date, c.loop_id
LIMIT 1
"""


def company_dollar_by_month(conn: Conn, email: str) -> dict[Any, Any]:
    rows = conn.execute(
        "SELECT closing_month, sum(company_dollar) "
        "FROM reporting.agent_monthly_production WHERE agent_email = %s "
        "GROUP BY closing_month",
        (email,),
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("ledger", ["roster"], indirect=True)
def test_earlier_credit_filling_the_cap_moves_later_months(
    ledger: Conn, settings: Settings
) -> None:
    # The agent's earliest capped credit of a cap year pays the whole cap:
    # the later credits of that year, months the changed loop is not in, pay
    # nothing from now on, and their months are rebuilt too.
    found = ledger.execute(EARLIEST_CAPPED_CREDIT).fetchone()
    assert found is not None
    loop_id, email, month = found
    before = company_dollar_by_month(ledger, email)
    ledger.execute(
        "UPDATE dotloop_raw.loop SET fetched_at = now(), details = jsonb_set("
        "jsonb_set(details, '{Financials,Sale Commission Split $ - Buy Side}', "
        "'\"$250,000\"'), '{Financials,Sale Commission Split $ - Sell Side}', "
        "'\"$250,000\"') WHERE loop_id = %s",
        (loop_id,),
    )

    refresh_reporting(ledger, settings)

    after = company_dollar_by_month(ledger, email)
    assert any(after[m] != before[m] for m in before if m > month)
    for table in TABLES:
        assert differences(ledger, table) == [], table
