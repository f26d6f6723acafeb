"""apply_views against a real Postgres: idempotence, changes, role and grants."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from connector.secrets import Secret
from sync.db import apply_schema
from sync.settings import PROJECT_ROOT, Settings
from sync.views import apply_views, build_views, render_views_sql

# The reporting schema's objects: fast tables, and views over them.
OBJECTS = {
    "agent_credits": "table",
    "agent_monthly_production": "table",
    "agent_ytd_production": "table",
    "agents": "view",
    "daily_production": "table",
    "data_quality": "table",
    "loop_participants": "table",
    "loop_sides": "table",
    "loops": "table",
    "pipeline": "table",
    "production_pieces": "view",
    "production_summary": "view",
    "sync_freshness": "view",
    "sync_runs": "view",
    "team_monthly_production": "table",
}
PARSING_VIEWS = sorted(OBJECTS)


@pytest.fixture
def reader_role(database_url: str) -> Iterator[str]:
    """A role name of this test's own; dropped with whatever it was granted."""
    role = f"reader_{uuid.uuid4().hex[:10]}"
    yield role
    with psycopg.connect(database_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        if exists.fetchone():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def settings(database_url: str, reader_role: str) -> Settings:
    return Settings(
        database_url=Secret(database_url), reporting_reader_role=reader_role
    )


@pytest.fixture
def conn(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to a database with the raw schema applied."""
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url.reveal(), autocommit=True) as connection:
        apply_schema(connection, settings)
        yield connection


def objects(conn: psycopg.Connection[Any], schema: str) -> dict[str, str]:
    """Name and kind ('table' or 'view') of each relation in the schema."""
    rows = conn.execute(
        "SELECT c.relname, CASE c.relkind WHEN 'r' THEN 'table' ELSE 'view' END "
        "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'v')",
        (schema,),
    ).fetchall()
    return dict(rows)


def view_names(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    return sorted(n for n, kind in objects(conn, schema).items() if kind == "view")


def test_apply_creates_views_and_is_idempotent(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    apply_views(conn, settings)
    apply_views(conn, settings)

    assert objects(conn, "reporting") == OBJECTS
    assert view_names(conn, "reporting_lib") == PARSING_VIEWS
    for name in ("loops", "loop_sides", "agent_credits", "data_quality"):
        assert conn.execute(f"SELECT count(*) FROM reporting.{name}").fetchone() == (0,)


def test_every_view_and_column_is_commented(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    apply_views(conn, settings)

    missing = conn.execute(
        """
        SELECT c.relname, a.attname
        FROM pg_class AS c
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0
        WHERE n.nspname = 'reporting' AND c.relkind IN ('r', 'v')
          AND (col_description(c.oid, a.attnum) IS NULL
               OR obj_description(c.oid, 'pg_class') IS NULL)
        """
    ).fetchall()

    assert missing == []


def test_columns_are_typed_as_declared(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    apply_views(conn, settings)

    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'reporting' AND table_name = 'agent_credits'"
    ).fetchall()

    types = dict(rows)
    assert types["gci_credit"] == "numeric"
    assert types["closing_month"] == "date"
    assert types["is_closed"] == "boolean"
    assert types["loop_id"] == "bigint"


def test_changed_columns_drop_and_recreate_views(
    conn: psycopg.Connection[Any], settings: Settings, tmp_path: Path
) -> None:
    apply_views(conn, settings)
    shutil.copytree(PROJECT_ROOT / "datasets", tmp_path / "datasets")
    loops = tmp_path / "datasets" / "loops.yaml"
    text = loops.read_text("utf-8")
    loops.write_text(text.replace("  - name: county\n", "  - name: county_name\n"))
    changed = replace(settings, project_root=tmp_path)

    apply_views(conn, changed)

    columns = [
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'reporting' AND table_name = 'loops'"
        ).fetchall()
    ]
    assert "county_name" in columns
    assert "county" not in columns
    assert objects(conn, "reporting") == OBJECTS

    apply_views(conn, settings)

    assert conn.execute("SELECT county FROM reporting.loops").fetchall() == []


def test_reader_reads_reporting_and_nothing_raw(
    conn: psycopg.Connection[Any], settings: Settings, database_url: str
) -> None:
    apply_views(conn, replace(settings, reporting_reader_password=Secret("pw-1")))
    reader_url = make_conninfo(
        database_url, user=settings.reporting_reader_role, password="pw-1"
    )

    with psycopg.connect(reader_url, autocommit=True) as reader:
        assert reader.execute("SELECT count(*) FROM reporting.loop_sides").fetchone()
        parsed = reader.execute("SELECT reporting_lib.parse_money('$1,000')")
        assert parsed.fetchone() is not None
        assert reader.execute("SELECT count(*) FROM reporting.data_quality")
        assert reader.execute("SELECT count(*) FROM reporting.sync_freshness")
        assert reader.execute("SELECT count(*) FROM reporting.sync_runs")
        # The brokerage configuration only through the views that read it.
        assert reader.execute("SELECT count(*) FROM reporting.agents")
        assert reader.execute("SELECT count(*) FROM reporting.production_summary")
        for table in (
            "dotloop_raw.loop",
            "dotloop_raw.profile",
            "reporting_lib.loops",
            "reporting_lib.refresh_state",
            "reporting_config.agent",
            "reporting_config.plan",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(f"SELECT * FROM {table}")


def test_charts_call_the_anchor_date_as_superset_runs_them(
    conn: psycopg.Connection[Any], settings: Settings, database_url: str
) -> None:
    apply_views(conn, replace(settings, reporting_reader_password=Secret("pw-2")))
    reader_url = make_conninfo(
        database_url, user=settings.reporting_reader_role, password="pw-2"
    )

    with psycopg.connect(reader_url, autocommit=True) as reader:
        # What Superset's Postgres engine runs before a dataset's query.
        reader.execute('SET search_path = "reporting"')
        today = reader.execute("SELECT period_anchor(), current_date").fetchone()
        reader.execute("SET dotloop_reporter.anchor_date = '2024-02-29'")
        anchored = reader.execute("SELECT period_anchor()").fetchone()

    assert today is not None and today[0] == today[1]
    assert anchored == (date(2024, 2, 29),)


def test_reader_password_is_stored_hashed(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    with_password = replace(settings, reporting_reader_password=Secret("s3cret-pw"))

    apply_views(conn, with_password)
    apply_views(conn, with_password)

    row = conn.execute(
        "SELECT a.rolcanlogin, a.rolpassword, r.rolconfig FROM pg_authid AS a "
        "JOIN pg_roles AS r USING (oid) WHERE a.rolname = %s",
        (settings.reporting_reader_role,),
    ).fetchone()
    assert row is not None
    can_login, verifier, config = row
    assert can_login
    assert verifier.startswith(("SCRAM-SHA-256$", "md5"))
    assert "s3cret-pw" not in verifier
    assert config == ["jit=off"]


def test_rendered_script_applies_the_same_views(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    conn.execute(
        sql.SQL("CREATE ROLE {}").format(sql.Identifier(settings.reporting_reader_role))
    )

    conn.execute(render_views_sql(settings))

    assert objects(conn, "reporting") == OBJECTS
    assert view_names(conn, "reporting_lib") == PARSING_VIEWS


def test_configured_schema_names(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    custom = replace(
        settings, raw_schema="replica", reporting_schema="bi", config_schema="bi_conf"
    )
    apply_schema(conn, custom)

    apply_views(conn, custom)

    assert objects(conn, "bi") == OBJECTS
    assert objects(conn, "reporting") == {}
    assert objects(conn, "reporting_config") == {}
    assert sorted(objects(conn, "bi_conf")) == [
        "agent",
        "office",
        "office_profile",
        "plan",
        "team",
    ]


def test_views_are_built_in_dependency_order() -> None:
    order = [view.name for view in build_views(Settings())]

    assert order.index("loops") < order.index("loop_sides")
    assert order.index("loop_sides") < order.index("agent_credits")
    assert order.index("loop_sides") < order.index("data_quality")
    assert order.index("agent_credits") < order.index("production_summary")
