"""The reporting schema written for other warehouses, against golden files.

Regenerate after a deliberate change with:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/sync/test_views_dialects.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

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

    statements = [s for s in sqlglot.parse(script, dialect=dialect) if s]

    tables = {s.this.this.name for s in statements if s.key == "create"}
    assert tables == {"loops", "loop_participants", "loop_sides", "agent_credits"}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_left_out_views_are_named_in_the_header(dialect: str) -> None:
    script = render_views_sql(Settings(), dialect)

    header = [line for line in script.splitlines() if line.startswith("-- ")]
    assert any(
        line.startswith("-- Left out: data_quality: calls jsonb_each")
        for line in header
    )
    assert "jsonb" not in script.split("\n\n", 1)[1]
    assert "reporting_lib." not in script.split("\n\n", 1)[1]


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
