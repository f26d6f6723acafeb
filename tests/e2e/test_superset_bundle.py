"""The dashboard bundle in a real Superset: imported twice, every chart read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from sync.bundle import build_bundle, bundle_passwords, read_bundle
from sync.embedding import Viewer, issue_guest_token
from sync.errors import SupersetError
from sync.settings import PROJECT_ROOT, Settings
from sync.superset_api import SupersetClient
from sync.superset_server import SupersetServer
from tests.e2e.shipped import (
    CHARTS as BY_NAME,
)
from tests.e2e.shipped import (
    SHIPPED,
    ShippedChart,
    ShippedDashboard,
    guest_payload,
)

KINDS = ("database", "dataset", "chart", "dashboard")
CHART_FILES = sorted((PROJECT_ROOT / "dashboards_export" / "charts").glob("*.yaml"))
DATASET_FILES = sorted(
    (PROJECT_ROOT / "dashboards_export" / "datasets").rglob("*.yaml")
)
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
def embedded(
    imports: tuple[Snapshot, Snapshot], client: SupersetClient, portal_origin: str
) -> dict[str, str]:
    """The embedded uuid of each shipped dashboard, by dashboard uuid."""
    return {
        dashboard.uuid: client.embed_dashboard(
            client.dashboard_id(uuid=dashboard.uuid), [portal_origin]
        )
        for dashboard in SHIPPED
    }


@pytest.mark.parametrize(
    "chart", [pytest.param(c, id=c.name) for d in SHIPPED for c in d.charts]
)
def test_embedded_guest_reads_chart_with_its_stored_query_context(
    client: SupersetClient, embedded: dict[str, str], chart: ShippedChart
) -> None:
    # An office viewer's row clauses, one per dataset (the sync runs, which
    # have no profile, closed to it).
    token = issue_guest_token(client, embedded[chart.dashboard_uuid], Viewer.office(1))

    answer = client.guest_chart_data(token, guest_payload(client, chart))

    assert [r["status"] for r in answer["result"]] == ["success"]


def test_guest_token_row_filter_reaches_the_query(
    client: SupersetClient, embedded: dict[str, str]
) -> None:
    # A clause naming no column: the query fails only if the clause is applied.
    chart = BY_NAME["GCI this year"]
    token = client.guest_token(
        embedded[chart.dashboard_uuid], rls=[{"clause": "no_such_column = 1"}]
    )

    with pytest.raises(SupersetError, match="no_such_column"):
        client.guest_chart_data(token, guest_payload(client, chart))


def _metadata(client: SupersetClient, dashboard: ShippedDashboard) -> Any:
    dashboard_id = client.dashboard_id(uuid=dashboard.uuid)
    body = client.get_json(f"/api/v1/dashboard/{dashboard_id}")
    return json.loads(body["result"]["json_metadata"])


@pytest.mark.parametrize("dashboard", SHIPPED, ids=[d.title for d in SHIPPED])
def test_native_filter_targets_resolve_in_superset(
    imports: tuple[Snapshot, Snapshot],
    client: SupersetClient,
    dashboard: ShippedDashboard,
) -> None:
    datasets = {row["id"]: row for row in client.list_assets("dataset")}
    charts = {client.chart_id(uuid=chart.uuid) for chart in dashboard.charts}

    filters = _metadata(client, dashboard)["native_filter_configuration"]

    assert filters
    for native in filters:
        assert set(native["scope"]["excluded"]) <= charts, native["name"]
        for target in native["targets"]:
            if not target:
                continue  # the period filter targets no dataset
            columns = client.get_json(f"/api/v1/dataset/{target['datasetId']}")
            names = {c["column_name"] for c in columns["result"]["columns"]}
            assert target["datasetId"] in datasets, native["name"]
            assert target["column"]["name"] in names, native["name"]


@pytest.mark.parametrize("dashboard", SHIPPED, ids=[d.title for d in SHIPPED])
def test_every_native_filter_lists_its_values(
    imports: tuple[Snapshot, Snapshot],
    client: SupersetClient,
    dashboard: ShippedDashboard,
) -> None:
    for native in _metadata(client, dashboard)["native_filter_configuration"]:
        if native["filterType"] != "filter_select":
            continue
        (target,) = native["targets"]
        # What the filter bar asks for to fill a select filter.
        body = {
            "datasource": {"id": target["datasetId"], "type": "table"},
            "queries": [{"columns": [target["column"]["name"]], "metrics": []}],
            "form_data": {"type": "NATIVE_FILTER", "native_filter_id": native["id"]},
        }

        answer = client.post_json("/api/v1/chart/data", body)

        assert answer["result"][0]["status"] == "success", native["name"]


@pytest.mark.parametrize("path", DATASET_FILES, ids=[p.stem for p in DATASET_FILES])
def test_dataset_lists_exactly_the_columns_of_its_table(
    reporting_settings: Settings, path: Path
) -> None:
    dataset = _chart(path)
    assert reporting_settings.database_url is not None
    with psycopg.connect(reporting_settings.database_url.reveal()) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (reporting_settings.reporting_schema, dataset["table_name"]),
        ).fetchall()

    assert [c["column_name"] for c in dataset["columns"]] == [r[0] for r in rows]


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
