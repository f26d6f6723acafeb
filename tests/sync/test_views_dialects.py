"""The reporting schema written for other warehouses, against golden files.

Regenerate after a deliberate change with:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/sync/test_views_dialects.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from sync.errors import ConfigurationError
from sync.settings import Settings
from sync.views import render_views_sql

GOLDEN_DIR = Path(__file__).with_name("golden")
DIALECTS = ["duckdb", "bigquery", "snowflake", "trino"]
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_dialect_sql_matches_golden_file(dialect: str) -> None:
    script = render_views_sql(Settings(), dialect)
    golden = GOLDEN_DIR / dialect / "reporting.sql"

    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(script, "utf-8")

    assert golden.exists(), f"no golden file; run with UPDATE_GOLDEN=1 ({golden})"
    assert script == golden.read_text("utf-8")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_dialect_sql_parses_back_in_its_dialect(dialect: str) -> None:
    script = render_views_sql(Settings(), dialect)
    # sqlglot reads no COMMENT ON VIEW (the warehouses do): read the rest of
    # such a statement as a table's.
    texts = [
        text.replace("COMMENT ON VIEW ", "COMMENT ON TABLE ", 1)
        for text in script.split(";\n\n")
    ]

    statements = [s for text in texts for s in sqlglot.parse(text, dialect=dialect)]

    created = {
        (s.args["kind"], s.this.this.name if s.args["kind"] == "TABLE" else s.this.name)
        for s in statements
        if s and s.key == "create"
    }
    assert created == {
        ("TABLE", "loops"),
        ("TABLE", "loop_participants"),
        ("TABLE", "loop_sides"),
        ("TABLE", "agent_credits"),
        ("TABLE", "data_quality"),
        ("TABLE", "daily_production"),
        ("TABLE", "agent_monthly_production"),
        ("TABLE", "team_monthly_production"),
        ("TABLE", "agent_ytd_production"),
        ("TABLE", "pipeline"),
        ("VIEW", "production_pieces"),
        ("VIEW", "production_summary"),
    }


@pytest.mark.parametrize("dialect", DIALECTS)
def test_left_out_views_are_named_in_the_header(dialect: str) -> None:
    script = render_views_sql(Settings(), dialect)

    header = [line for line in script.splitlines() if line.startswith("-- ")]
    assert not [line for line in header if line.startswith("-- Left out: production")]
    assert (
        "-- Left out: agents: reads the brokerage configuration, which stays "
        "in Postgres." in header
    )
    # Views over the raw replica: the warehouse gets the fast tables only.
    for view in ("sync_freshness", "sync_runs"):
        assert (
            f"-- Left out: {view}: reads the dotloop_raw schema, which stays in "
            "Postgres." in header
        )
    assert "jsonb" not in script.split("\n\n", 1)[1]
    assert "reporting_lib." not in script.split("\n\n", 1)[1]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_year_to_date_runs_to_the_current_date_elsewhere(dialect: str) -> None:
    script = render_views_sql(Settings(), dialect)
    summary = next(
        s for s in script.split(";\n\n") if "VIEW reporting.production_pieces" in s
    )
    written = sqlglot.parse_one(summary, dialect=dialect)

    # The column keeps its name; only the Postgres function call goes.
    assert "period_anchor(" not in summary.replace(" ", "").lower()
    assert list(written.find_all(exp.CurrentDate))


@pytest.mark.parametrize(
    ("dialect", "money_type"),
    [
        ("duckdb", "gci DECIMAL(38, 9)"),
        ("bigquery", "gci NUMERIC(38, 9)"),
        ("snowflake", "gci DECIMAL(38, 9)"),
        ("trino", "gci DECIMAL(38, 9)"),
    ],
)
def test_money_keeps_its_cents(dialect: str, money_type: str) -> None:
    assert money_type in render_views_sql(Settings(), dialect)


def test_unknown_dialect_fails_naming_the_choices() -> None:
    with pytest.raises(ConfigurationError, match="duckdb, bigquery"):
        render_views_sql(Settings(), "oracle")
