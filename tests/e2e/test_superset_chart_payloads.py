"""In Chromium, each shipped dashboard asks for exactly its charts' stored queries.

An embedded guest may run only what a chart stores, so the query_context of
every chart (sync/chart_query.py) must be what Superset's own frontend
builds. Here the real 6.1 frontend draws each dashboard and every chart
data request it sends is compared with what Superset stored at import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Request, sync_playwright

from sync.bundle import build_bundle, bundle_passwords
from sync.settings import Settings
from sync.superset_api import SupersetClient
from sync.superset_server import SupersetServer
from tests.e2e.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.e2e.portal_browser import (
    clean_context,
    launch,
    log_in_to_superset,
    wait_rendered,
)
from tests.e2e.shipped import SHIPPED, ShippedDashboard


@pytest.fixture(scope="module")
def client(superset: SupersetServer) -> Iterator[SupersetClient]:
    with superset.client() as api:
        yield api


@pytest.fixture(scope="module")
def imported(
    reporting_settings: Settings,
    client: SupersetClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    bundle = build_bundle(reporting_settings, tmp_path_factory.mktemp("bundle"))
    client.import_bundle(bundle, bundle_passwords(reporting_settings))
    return reporting_settings


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def sent_by_dashboard(
    browser: Browser, superset: SupersetServer, dashboard: ShippedDashboard
) -> dict[int, dict[str, Any]]:
    """The chart data requests the dashboard sends, by chart id."""
    context = clean_context(browser)
    log_in_to_superset(context, superset.url, ADMIN_USERNAME, ADMIN_PASSWORD)
    sent: dict[int, dict[str, Any]] = {}

    def record(request: Request) -> None:
        if request.method == "POST" and "/api/v1/chart/data" in request.url:
            body = json.loads(request.post_data or "{}")
            slice_id = body.get("form_data", {}).get("slice_id")
            if slice_id is not None:
                sent[int(slice_id)] = body

    try:
        page = context.new_page()
        page.on("request", record)
        page.goto(f"{superset.url}/superset/dashboard/{dashboard.uuid}/")
        wait_rendered(page, len(dashboard.charts))
    finally:
        context.close()
    return sent


@pytest.mark.parametrize("dashboard", SHIPPED, ids=[d.title for d in SHIPPED])
def test_the_dashboard_asks_exactly_for_the_stored_queries(
    imported: Settings,
    client: SupersetClient,
    browser: Browser,
    superset: SupersetServer,
    dashboard: ShippedDashboard,
) -> None:
    sent = sent_by_dashboard(browser, superset, dashboard)

    for chart in dashboard.charts:
        chart_id = client.chart_id(uuid=chart.uuid)
        stored = json.loads(client.chart(chart_id)["query_context"])
        assert chart_id in sent, f"{chart.name}: no data request"
        assert sent[chart_id]["queries"] == stored["queries"], chart.name
