"""The 44-loop ledger with its brokerage, read back through the views.

Every figure of tests/fixtures/ledger_expected.yaml, worked out by hand, is
compared with the views to the cent: each side, each agent credit, the
calendar year per agent, team, office and company, the agents at the anchor,
the production summary, the pipeline and the data-quality list. A failure
lists every figure that differs, not only the first.
"""

from __future__ import annotations

import datetime
import doctest
import filecmp
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

import tests.fixtures.ledger_full
from connector.secrets import Secret
from sync.brokerage import load_brokerage
from sync.db import apply_schema
from sync.settings import Settings
from sync.views import apply_views, refresh_reporting
from tests.fixtures.ledger import LEDGER_DIR, land_ledger
from tests.fixtures.ledger_full import (
    BROKERAGE_FILE,
    LEDGER_FULL_DIR,
    load_expected,
    render_ledger_full,
)

THIS_YEAR = datetime.date.today().year
EXPECTED = load_expected(THIS_YEAR)
ANCHOR: datetime.date = EXPECTED["anchor"]
CALENDAR_YEAR = (datetime.date(THIS_YEAR, 1, 1), datetime.date(THIS_YEAR, 12, 31))

CENT = Decimal("0.01")
# Figures compared to four places: a third of a unit, a percent change.
FOUR_PLACES = Decimal("0.0001")
_FINE = {
    "units",
    "unit_credit",
    "list_sides",
    "buy_sides",
    "ytd_units",
    "prior_ytd_units",
    "yoy_gci_change_pct",
}

Row = dict[str, Any]
Key = tuple[Any, ...]


@contextmanager
def _database(admin_url: str) -> Iterator[str]:
    """A new database for one module, dropped afterwards."""
    name = f"dlr_ledger_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


@contextmanager
def _landed(
    admin_url: str, root: Path, brokerage: Path | None, *, refresh: bool = False
) -> Iterator[psycopg.Connection[Any]]:
    """A database holding the ledger, its brokerage (if any) and the views.

    With refresh, the views are applied first and the brokerage loaded
    afterwards, then the reporting tables refreshed, as after a sync.
    """
    with (
        _database(admin_url) as url,
        psycopg.connect(url, autocommit=True) as conn,
    ):
        settings = Settings(database_url=Secret(url))
        apply_schema(conn, settings)
        land_ledger(conn, settings.raw_schema, root)
        if refresh:
            apply_views(conn, settings)
        if brokerage is not None:
            load_brokerage(conn, settings, brokerage)
        if refresh:
            refresh_reporting(conn, settings)
        else:
            apply_views(conn, settings)
        yield conn


@pytest.fixture(scope="module", params=["loaded_then_applied", "applied_then_loaded"])
def ledger(
    request: pytest.FixtureRequest,
    postgres_admin_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[psycopg.Connection[Any]]:
    """The ledger of this year with its brokerage, the anchor set to June 30.

    Once with the brokerage loaded before the views are applied, once loaded
    into views already applied and picked up by the refresh after a sync.
    """
    root = render_ledger_full(tmp_path_factory.mktemp("ledger_full"), THIS_YEAR)
    refresh = request.param == "applied_then_loaded"
    with _landed(postgres_admin_url, root, BROKERAGE_FILE, refresh=refresh) as conn:
        conn.execute(
            "SELECT set_config('dotloop_reporter.anchor_date', %s, false)",
            (ANCHOR.isoformat(),),
        )
        yield conn


@pytest.fixture(scope="module")
def ledger_without_roster(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[psycopg.Connection[Any]]:
    """The same ledger with no brokerage configuration loaded."""
    root = render_ledger_full(tmp_path_factory.mktemp("ledger_plain"), THIS_YEAR)
    with _landed(postgres_admin_url, root, None) as conn:
        yield conn


def _normal(field: str, value: Any) -> Any:
    """A value as compared: numbers rounded half up to the cent (or 0.0001)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float | Decimal):
        places = FOUR_PLACES if field in _FINE else CENT
        return Decimal(value).quantize(places, rounding=ROUND_HALF_UP)
    return value


def _differences(
    expected: Mapping[Key, Row], actual: Mapping[Key, Row], name: str
) -> list[str]:
    """Every missing or extra row and every field that differs, one per line."""
    lines = [f"{name} {key}: missing" for key in expected if key not in actual]
    lines += [f"{name} {key}: not expected" for key in actual if key not in expected]
    for key in sorted(set(expected) & set(actual), key=repr):
        for field, want in expected[key].items():
            got = _normal(field, actual[key].get(field))
            if _normal(field, want) != got:
                lines.append(f"{name} {key} {field}: expected {want}, got {got}")
    return lines


def _assert_same(
    expected: Mapping[Key, Row], actual: Mapping[Key, Row], name: str
) -> None:
    lines = _differences(expected, actual, name)
    assert not lines, f"{len(lines)} differences:\n" + "\n".join(lines)


def _rows(
    conn: psycopg.Connection[Any], query: str | sql.Composed, *params: Any
) -> list[Row]:
    cursor = conn.execute(query, params)
    names = [column.name for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _days(end: datetime.date | None, start: datetime.date | None) -> int | None:
    return None if end is None or start is None else (end - start).days


def test_ledger_full_keeps_the_eighteen_loops_as_they_are() -> None:
    originals = [p.relative_to(LEDGER_DIR) for p in LEDGER_DIR.rglob("*.json")]
    lists = {Path("profile.json")} | {p for p in originals if p.name == "loop.json"}

    changed = [
        str(path)
        for path in originals
        if path not in lists
        and not filecmp.cmp(LEDGER_DIR / path, LEDGER_FULL_DIR / path, shallow=False)
    ]
    assert changed == []
    for path in lists:
        before = json.loads((LEDGER_DIR / path).read_text("utf-8"))["data"]
        after = json.loads((LEDGER_FULL_DIR / path).read_text("utf-8"))["data"]
        assert after[: len(before)] == before, path


def test_ledger_full_has_at_least_forty_loops() -> None:
    loop_ids = {
        path.parent.name
        for path in LEDGER_FULL_DIR.glob("profile/*/loop/*/detail.json")
    }
    assert len(loop_ids) >= 40
    assert {int(side["loop"]) for side in EXPECTED["sides"]} <= {
        int(loop_id) for loop_id in loop_ids
    }


def test_doctests() -> None:
    failures, attempted = doctest.testmod(tests.fixtures.ledger_full)
    assert attempted > 0
    assert failures == 0


def test_each_side(ledger: psycopg.Connection[Any]) -> None:
    expected: dict[Key, Row] = {}
    for side in EXPECTED["sides"]:
        row = {k: v for k, v in side.items() if k not in {"loop", "side", "credits"}}
        row["days_to_close"] = _days(side["closing_date"], side["contract_date"])
        row["days_on_market"] = _days(side["contract_date"], side["listing_date"])
        expected[(int(side["loop"]), side["side"])] = row

    rows = _rows(
        ledger,
        """
        SELECT loop_id, side, office, status, closing_date, contract_date,
            listing_date, gci_rule, gci, referral_fee, adjusted_gci, volume,
            units, days_to_close, days_on_market
        FROM reporting.loop_sides
        """,
    )

    actual = {(row["loop_id"], row["side"]): row for row in rows}
    _assert_same(expected, actual, "loop_sides")


def test_each_agent_credit(ledger: psycopg.Connection[Any]) -> None:
    expected: dict[Key, Row] = {}
    for credit in EXPECTED["credits"]:
        key = (int(credit["loop"]), credit["side"], credit["agent"])
        expected[key] = {
            k: v for k, v in credit.items() if k not in {"loop", "side", "agent"}
        }
    # The worksheet's shares of each side, as units: a referral has none.
    shares = {
        (int(side["loop"]), side["side"], agent): {"unit_credit": share * side["units"]}
        for side in EXPECTED["sides"]
        for agent, share in side["credits"].items()
    }

    rows = _rows(
        ledger,
        """
        SELECT loop_id, side, agent_email, office, team, gci_credit,
            referral_fee_credit, adjusted_gci_credit, volume_credit, unit_credit,
            plan_name, company_dollar, deal_fees, agent_net, cap_year_start
        FROM reporting.agent_credits
        """,
    )

    actual = {(r["loop_id"], r["side"], r["agent_email"]): r for r in rows}
    _assert_same(shares, actual, "agent_credits (side worksheet)")
    _assert_same(expected, actual, "agent_credits")


_SIDE_FIGURES = """
    sum(gci) AS gci,
    sum(adjusted_gci) AS adjusted_gci,
    sum(volume) AS volume,
    coalesce(sum(units), 0) AS units,
    count(DISTINCT loop_id) AS transactions,
    coalesce(sum(units) FILTER (WHERE side = 'sell'), 0) AS list_sides,
    coalesce(sum(units) FILTER (WHERE side = 'buy'), 0) AS buy_sides
"""
_CREDIT_FIGURES = """
    sum(gci_credit) AS gci,
    sum(adjusted_gci_credit) AS adjusted_gci,
    sum(volume_credit) AS volume,
    coalesce(sum(unit_credit), 0) AS units,
    count(DISTINCT loop_id) AS transactions,
    coalesce(sum(unit_credit) FILTER (WHERE side = 'sell'), 0) AS list_sides,
    coalesce(sum(unit_credit) FILTER (WHERE side = 'buy'), 0) AS buy_sides,
    sum(company_dollar) AS company_dollar,
    sum(deal_fees) AS deal_fees,
    sum(agent_net) AS agent_net
"""
_PLAN_FIGURES = ("company_dollar", "deal_fees", "agent_net")


def _figures(
    conn: psycopg.Connection[Any], view: str, figures: str, group: str | None
) -> dict[Key, Row]:
    """Figures of sides or credits closed in this calendar year, by group."""
    by = sql.SQL("NULL") if group is None else sql.Identifier(group)
    query = sql.SQL(
        "SELECT {by} AS key, " + figures + " FROM {view} "
        "WHERE is_closed AND closing_date BETWEEN %s AND %s GROUP BY 1"
    ).format(by=by, view=sql.Identifier("reporting", view))
    rows = _rows(conn, query, *CALENDAR_YEAR)
    return {(row.pop("key"),): row for row in rows}


@pytest.mark.parametrize("level", ["company", "office", "team", "agent"])
def test_calendar_year_by_level(ledger: psycopg.Connection[Any], level: str) -> None:
    """Sides give company and office figures, credits team and agent ones.

    Plan figures exist on credits only: company and office take them from
    the credits (by the credit's office).
    """
    wanted = EXPECTED["calendar_year"][level]
    group = {"company": None, "office": "office", "team": "team"}.get(
        level, "agent_email"
    )
    if level in {"company", "office"}:
        actual = _figures(ledger, "loop_sides", _SIDE_FIGURES, group)
        plans = _figures(ledger, "agent_credits", _CREDIT_FIGURES, group)
        for key, row in actual.items():
            row.update({k: plans.get(key, {}).get(k) for k in _PLAN_FIGURES})
    else:
        actual = _figures(ledger, "agent_credits", _CREDIT_FIGURES, group)
        actual.pop((None,), None)

    expected = (
        {(None,): wanted}
        if level == "company"
        else {(key,): row for key, row in wanted.items()}
    )
    _assert_same(expected, actual, f"calendar {THIS_YEAR} by {level}")


def test_agents_at_the_anchor(ledger: psycopg.Connection[Any]) -> None:
    rows = _rows(
        ledger,
        """
        SELECT agent_email, agent_name, team, office, plan_name, cap,
            left_to_cap, period_anchor
        FROM reporting.agents
        """,
    )

    actual = {(row["agent_email"],): row for row in rows}
    expected = {
        (agent["agent_email"],): {**agent, "period_anchor": ANCHOR}
        for agent in EXPECTED["agents"]
    }
    _assert_same(expected, actual, "agents")


_SUMMARY_SUMS = (
    "ytd_gci",
    "prior_ytd_gci",
    "yoy_gci_change",
    "ytd_units",
    "prior_ytd_units",
    "ytd_volume",
    "prior_ytd_volume",
    "ytd_adjusted_gci",
    "ytd_transactions",
)


def test_production_summary_at_the_anchor(ledger: psycopg.Connection[Any]) -> None:
    rows = _rows(
        ledger,
        """
        SELECT grain, key, period_anchor, ytd_gci, prior_ytd_gci, yoy_gci_change,
            yoy_gci_change_pct, ytd_units, prior_ytd_units, ytd_volume,
            prior_ytd_volume, ytd_adjusted_gci, ytd_transactions
        FROM reporting.production_summary
        """,
    )

    expected = {
        (row["grain"], row["key"]): {
            **{k: v for k, v in row.items() if k not in {"grain", "key"}},
            "period_anchor": ANCHOR,
        }
        for row in EXPECTED["production_summary"]
    }
    # A period without deals may read NULL or 0: both mean no production.
    actual = {
        (row["grain"], row["key"]): {
            **row,
            **{k: 0 if row[k] is None else row[k] for k in _SUMMARY_SUMS},
        }
        for row in rows
        if (row["grain"], row["key"]) in expected
    }
    _assert_same(expected, actual, "production_summary")


def test_pipeline_by_month_and_office(ledger: psycopg.Connection[Any]) -> None:
    rows = _rows(
        ledger,
        """
        SELECT projected_close_month, office, sum(loops) AS loops,
            sum(sides) AS sides, sum(projected_gci) AS projected_gci,
            sum(projected_volume) AS projected_volume
        FROM reporting.pipeline
        GROUP BY projected_close_month, office
        """,
    )

    actual = {(row["projected_close_month"], row["office"]): row for row in rows}
    expected = {
        (row["projected_close_month"], row["office"]): row
        for row in EXPECTED["pipeline"]
    }
    _assert_same(expected, actual, "pipeline")


def test_data_quality_lists_every_problem(ledger: psycopg.Connection[Any]) -> None:
    rows = ledger.execute(
        "SELECT loop_id, side, metric, problem FROM reporting.data_quality"
    ).fetchall()

    expected = {
        (int(loop), side, m, p) for loop, side, m, p in EXPECTED["data_quality"]
    }
    found = set(rows)
    lines = [f"missing: {row}" for row in sorted(expected - found, key=repr)]
    lines += [f"not expected: {row}" for row in sorted(found - expected, key=repr)]
    assert not lines, "\n".join(lines)
    assert len(rows) == len(expected), "a problem is listed twice"


@pytest.mark.parametrize(
    ("loop_id", "side"), [tuple(s) for s in EXPECTED["not_represented"]]
)
def test_roster_leaves_out_sides_without_our_agents(
    ledger: psycopg.Connection[Any],
    ledger_without_roster: psycopg.Connection[Any],
    loop_id: int,
    side: str,
) -> None:
    query = "SELECT count(*) FROM reporting.loop_sides WHERE loop_id = %s AND side = %s"

    assert ledger_without_roster.execute(query, (loop_id, side)).fetchone() == (1,)
    assert ledger.execute(query, (loop_id, side)).fetchone() == (0,)


def test_without_roster_former_agent_shares_the_side(
    ledger_without_roster: psycopg.Connection[Any],
) -> None:
    rows = ledger_without_roster.execute(
        "SELECT agent_email, unit_credit FROM reporting.agent_credits "
        "WHERE loop_id = 5020 ORDER BY agent_email"
    ).fetchall()

    assert rows == [
        ("gina.park@summitrealty.example", Decimal("0.5")),
        ("nora.gone@summitrealty.example", Decimal("0.5")),
    ]
