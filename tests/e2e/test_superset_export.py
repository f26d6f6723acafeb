"""`bundle export` against a real Superset: round trips, and UI edits as diffs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sync.bundle import build_bundle, bundle_passwords
from sync.bundle_export import BundleIds, export_dashboard
from sync.bundle_sources import drift
from sync.settings import Settings, to_environ
from sync.superset_api import SupersetClient
from sync.superset_server import SupersetServer
from tests.e2e.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.e2e.shipped import CHARTS, EXPORT_DIR, SHIPPED, ShippedDashboard

DATASETS_DIR = EXPORT_DIR.parent / "datasets"
EDITED = "charts/GCI_by_office.yaml"


@pytest.fixture(scope="module")
def client(superset: SupersetServer) -> Iterator[SupersetClient]:
    with superset.client() as api:
        yield api


@pytest.fixture
def imported(
    reporting_settings: Settings, client: SupersetClient, tmp_path: Path
) -> Settings:
    """The bundle as committed, imported afresh for each test."""
    bundle = build_bundle(reporting_settings, tmp_path / "bundle.zip")
    client.import_bundle(bundle, bundle_passwords(reporting_settings))
    return reporting_settings


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A copy of dashboards_export/ to export into."""
    target = tmp_path / "dashboards_export"
    shutil.copytree(EXPORT_DIR, target)
    return target


@pytest.fixture(scope="module")
def ids() -> BundleIds:
    return BundleIds.from_sources(EXPORT_DIR, DATASETS_DIR, "reporting")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("dashboard", SHIPPED, ids=[d.title for d in SHIPPED])
def test_export_right_after_import_changes_no_file(
    imported: Settings,
    client: SupersetClient,
    out: Path,
    ids: BundleIds,
    dashboard: ShippedDashboard,
) -> None:
    changed = export_dashboard(client, dashboard.title, out, ids)

    assert changed == []
    assert _tree(out) == _tree(EXPORT_DIR)


def test_a_chart_edited_in_superset_exports_as_that_file_only(
    imported: Settings, client: SupersetClient, out: Path, ids: BundleIds
) -> None:
    chart_id = client.chart_id(uuid=CHARTS["GCI by office"].uuid)
    params = json.loads(client.chart(chart_id)["params"])
    params["row_limit"] = 3
    # What saving the chart in the editor sends.
    client.put_json(f"/api/v1/chart/{chart_id}", {"params": json.dumps(params)})

    changed = export_dashboard(client, "brokerage-gci", out, ids)

    assert changed == [EDITED]
    exported = yaml.safe_load((out / EDITED).read_text("utf-8"))
    committed = yaml.safe_load((EXPORT_DIR / EDITED).read_text("utf-8"))
    assert exported["params"] == committed["params"] | {"row_limit": 3}
    assert set(drift(out, DATASETS_DIR)) - set(drift(EXPORT_DIR, DATASETS_DIR)) == {
        EDITED
    }


def test_the_export_command_writes_into_the_given_folder(
    imported: Settings, superset: SupersetServer, out: Path
) -> None:
    chart_id = CHARTS["Agent leaderboard"].uuid
    env = {
        **os.environ,
        **to_environ(imported),
        "SUPERSET_URL": superset.url,
        "SUPERSET_USERNAME": ADMIN_USERNAME,
        "SUPERSET_PASSWORD": ADMIN_PASSWORD.reveal(),
    }
    (out / "charts" / "Agent_leaderboard.yaml").unlink()

    command = ["bundle", "export", "Agent performance", "--out", str(out)]
    completed = subprocess.run(
        [sys.executable, "-m", "sync.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "wrote charts/Agent_leaderboard.yaml" in completed.stdout
    assert chart_id in (out / "charts" / "Agent_leaderboard.yaml").read_text("utf-8")
    assert _tree(out) == _tree(EXPORT_DIR)
