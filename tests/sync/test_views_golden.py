"""The views' SQL, byte for byte, against golden files.

Regenerate after a deliberate change with:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/sync/test_views_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sync.settings import PROJECT_ROOT, Settings
from sync.views import build_views, render_views_sql

GOLDEN_DIR = Path(__file__).with_name("golden")
SPEC_NAMES = sorted(path.stem for path in (PROJECT_ROOT / "datasets").glob("*.yaml"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_view_sql_matches_golden_file(name: str) -> None:
    views = {view.name: view for view in build_views(Settings())}
    golden = GOLDEN_DIR / f"{name}.sql"

    if UPDATE:
        GOLDEN_DIR.mkdir(exist_ok=True)
        golden.write_text(views[name].sql, "utf-8")

    assert golden.exists(), f"no golden file; run with UPDATE_GOLDEN=1 ({golden})"
    assert views[name].sql == golden.read_text("utf-8")


def test_no_golden_file_without_a_spec() -> None:
    golden = sorted(path.stem for path in GOLDEN_DIR.glob("*.sql"))

    assert golden == SPEC_NAMES


def test_sql_is_reproducible() -> None:
    settings = Settings()

    assert render_views_sql(settings) == render_views_sql(settings)


def test_views_come_after_the_views_they_read() -> None:
    order = [view.name for view in build_views(Settings())]

    for position, view in enumerate(build_views(Settings())):
        assert set(view.depends_on) <= set(order[:position]), view.name


def test_schema_names_come_from_settings() -> None:
    settings = Settings(
        raw_schema="replica", reporting_schema="bi", config_schema="bi_conf"
    )

    objects = build_views(settings) + build_views(settings, parsing=True)
    # Comments name reporting.<view> in prose; the statements must not.
    script = "\n".join(f"{view.create}\n{view.select}" for view in objects)

    assert "CREATE TABLE bi.loops (" in script
    assert "CREATE OR REPLACE VIEW bi_lib.loops AS" in script
    assert "FROM replica.loop AS l" in script
    assert "bi_lib.parse_money(" in script
    assert "JOIN bi_conf.agent AS r" in script
    assert "dotloop_raw" not in script
    assert "reporting" not in script
