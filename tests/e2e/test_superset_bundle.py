"""The dashboard bundle in a real Superset: imported twice, every chart read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sync.bundle import build_bundle, bundle_passwords, read_bundle
from sync.errors import SupersetError
from sync.settings import PROJECT_ROOT, Settings
from sync.superset_api import SupersetClient
from sync.superset_server import SupersetServer

KINDS = ("database", "dataset", "chart", "dashboard")
CHART_FILES = sorted((PROJECT_ROOT / "dashboards_export" / "charts").glob("*.yaml"))
Snapshot = dict[str, dict[str, int]]


def _chart(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


CHARTS = [pytest.param(_chart(p), id=p.stem) for p in CHART_FILES]


def snapshot(client: SupersetClient) -> Snapshot:
    """Every asset's id by uuid, for each kind."""
    return {
        kind: {str(row["uuid"]): int(row["id"]) for row in client.list_assets(kind)}
        for kind in KINDS
    }


@pytest.fixture(scope="module")
def bundle(
    reporting_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return build_bundle(reporting_settings, tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def imports(
    superset: SupersetServer, reporting_settings: Settings, bundle: Path
) -> tuple[Snapshot, Snapshot]:
    """What Superset holds after the first import and after the second."""
    passwords = bundle_passwords(reporting_settings)
    with superset.client() as client:
        client.import_bundle(bundle, passwords)
        first = snapshot(client)
        client.import_bundle(bundle, passwords)
        return first, snapshot(client)


@pytest.fixture(scope="module")
def client(superset: SupersetServer) -> Iterator[SupersetClient]:
    with superset.client() as api:
        yield api


def test_second_import_changes_no_count_or_id(
    imports: tuple[Snapshot, Snapshot],
) -> None:
    first, second = imports
    assert second == first


def test_import_creates_every_asset_of_the_bundle(
    imports: tuple[Snapshot, Snapshot], bundle: Path
) -> None:
    first, _ = imports
    files = read_bundle(bundle)
    for kind in KINDS:
        wanted = {
            str(yaml.safe_load(content)["uuid"])
            for name, content in files.items()
            if name.startswith(f"{kind}s/")
        }
        assert wanted and wanted <= set(first[kind]), kind


@pytest.mark.parametrize("chart", CHARTS)
def test_chart_reads_through_the_chart_data_api(
    imports: tuple[Snapshot, Snapshot],
    client: SupersetClient,
    chart: dict[str, Any],
) -> None:
    chart_id = client.chart_id(uuid=chart["uuid"])

    results = client.chart_data(chart_id)["result"]

    assert results
    for result in results:
        assert result["status"] == "success", result.get("error")
        assert result["error"] is None


@pytest.fixture(scope="module")
def dashboard_id(imports: tuple[Snapshot, Snapshot], client: SupersetClient) -> int:
    return client.dashboard_id(name="Brokerage GCI")


@pytest.fixture(scope="module")
def embedded_uuid(client: SupersetClient, dashboard_id: int, portal_origin: str) -> str:
    return client.embed_dashboard(dashboard_id, [portal_origin])


def guest_request(client: SupersetClient, chart_id: int, dashboard_id: int) -> Any:
    """What an embedded dashboard sends: the stored payload, on its dashboard."""
    context = json.loads(client.chart(chart_id)["query_context"])
    context["form_data"].update(slice_id=chart_id, dashboardId=dashboard_id)
    return context


@pytest.mark.parametrize("chart", CHARTS)
def test_embedded_guest_reads_chart_with_its_stored_query_context(
    client: SupersetClient,
    dashboard_id: int,
    embedded_uuid: str,
    chart: dict[str, Any],
) -> None:
    token = client.guest_token(embedded_uuid, rls=[{"clause": "profile_id > 0"}])
    chart_id = client.chart_id(uuid=chart["uuid"])

    answer = client.guest_chart_data(
        token, guest_request(client, chart_id, dashboard_id)
    )

    assert [r["status"] for r in answer["result"]] == ["success"]


def test_guest_token_row_filter_reaches_the_query(
    client: SupersetClient, dashboard_id: int, embedded_uuid: str
) -> None:
    # A clause naming no column: the query fails only if the clause is applied.
    token = client.guest_token(embedded_uuid, rls=[{"clause": "no_such_column = 1"}])
    chart_id = client.chart_id(name="GCI this year")

    with pytest.raises(SupersetError, match="no_such_column"):
        client.guest_chart_data(token, guest_request(client, chart_id, dashboard_id))


def test_database_is_exposed_in_sql_lab_and_read_only(
    imports: tuple[Snapshot, Snapshot], client: SupersetClient
) -> None:
    database_id = client.find_id("database", name="Dotloop Reporting")

    database = client.database(database_id)

    assert database["expose_in_sqllab"] is True
    assert database["allow_dml"] is False
    assert database["backend"] == "postgresql"


def test_only_the_portal_may_frame_superset(
    superset: SupersetServer, portal_origin: str
) -> None:
    response = httpx.get(f"{superset.url}/login/")

    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {portal_origin}" in policy
    assert "X-Frame-Options" not in response.headers
