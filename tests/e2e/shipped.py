"""The shipped dashboards and charts as the Superset tests read them.

`SHIPPED` lists each dashboard of dashboards_export/ with its charts;
`guest_payload` is what an embedded dashboard sends for a chart: the
chart's stored query_context, on its dashboard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml

from sync.settings import PROJECT_ROOT
from sync.superset_api import SupersetClient

EXPORT_DIR = PROJECT_ROOT / "dashboards_export"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ShippedChart:
    """One chart of a shipped dashboard."""

    uuid: str
    name: str
    dashboard_uuid: str
    table: str


@dataclass(frozen=True)
class ShippedDashboard:
    """One dashboard of the bundle and its charts in layout order."""

    uuid: str
    title: str
    charts: tuple[ShippedChart, ...]


def _load(path: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def _shipped() -> tuple[ShippedDashboard, ...]:
    tables = {
        str(doc["uuid"]): str(doc["table_name"])
        for doc in map(_load, (EXPORT_DIR / "datasets").rglob("*.yaml"))
    }
    charts = {
        str(doc["uuid"]): doc
        for doc in map(_load, (EXPORT_DIR / "charts").glob("*.yaml"))
    }
    found = []
    for doc in map(_load, sorted((EXPORT_DIR / "dashboards").glob("*.yaml"))):
        uuid = str(doc["uuid"])
        placed = [
            charts[item["meta"]["uuid"]]
            for item in doc["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        ]
        found.append(
            ShippedDashboard(
                uuid,
                str(doc["dashboard_title"]),
                tuple(
                    ShippedChart(
                        str(c["uuid"]),
                        str(c["slice_name"]),
                        uuid,
                        tables[str(c["dataset_uuid"])],
                    )
                    for c in placed
                ),
            )
        )
    return tuple(found)


SHIPPED = _shipped()
CHARTS = {chart.name: chart for d in SHIPPED for chart in d.charts}


def guest_payload(client: SupersetClient, chart: ShippedChart) -> dict[str, Any]:
    """The stored query_context, as the chart's embedded dashboard sends it."""
    chart_id = client.chart_id(uuid=chart.uuid)
    context: dict[str, Any] = json.loads(client.chart(chart_id)["query_context"])
    dashboard_id = client.dashboard_id(uuid=chart.dashboard_uuid)
    context["form_data"].update(slice_id=chart_id, dashboardId=dashboard_id)
    return context


def cents(value: Any) -> Decimal:
    """A money figure as Superset returns it, to the cent (None as 0)."""
    return Decimal(str(value or 0)).quantize(CENT)
