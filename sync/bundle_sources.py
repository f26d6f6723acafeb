"""The sources of the dashboard bundle, rendered into its files.

dashboards_export/sources/ holds what a person writes; `bundle generate`
renders it into the files Superset imports, byte for byte the same each
time, and `bundle generate --check` (run by the tests) fails on any drift:

    database.yaml        the database connection, as Superset exports it
    datasets.yaml        one entry per reporting view the dashboards read:
                         its bundle id and uuid, time column, column labels
                         and metrics; the columns themselves (name, type,
                         description) come from the view's spec in datasets/
    filters.yaml         the native filters a dashboard may offer
    dashboards/*.yaml    a dashboard: title, uuid, filters, rows of charts
                         (chart specs: sync/bundle_charts.py)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .bundle_charts import ChartSpec, DatasetRef, chart_params, read_chart
from .bundle_checks import ASSET_KINDS, BUNDLE_VERSION
from .bundle_files import (
    Doc,
    asset_path,
    canonical_chart,
    canonical_dashboard,
    canonical_database,
    canonical_dataset,
    dump_doc,
)
from .chart_query import query_context
from .errors import BundleError
from .views.spec import ViewSpec, load_spec

logger = logging.getLogger(__name__)

SOURCES = "sources"
ROOT = "ROOT_ID"
GRID = "GRID_ID"
# Superset's column types for the view specs' declared types.
COLUMN_TYPES = {
    "bigint": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "integer": "INTEGER",
    "jsonb": "JSONB",
    "numeric": "NUMERIC",
    "text": "TEXT",
    "text[]": "TEXT[]",
    "timestamptz": "TIMESTAMP WITH TIME ZONE",
}
_TEMPORAL = frozenset({"date", "timestamptz"})
# Words a derived column label writes other than capitalised.
_WORDS = {"id": "ID", "gci": "GCI", "ytd": "YTD", "yoy": "YoY", "pct": "%"}
_GRID_WIDTH = 12


@dataclass(frozen=True)
class Dataset:
    """A dataset of the bundle: its source entry and its view's spec."""

    ref: DatasetRef
    source: Mapping[str, Any]
    view: ViewSpec


@dataclass(frozen=True)
class Sources:
    """Everything under sources/, read and cross-checked."""

    database: Doc
    datasets: dict[str, Dataset]
    filters: dict[str, Mapping[str, Any]]
    dashboards: list[tuple[str, Doc, list[list[ChartSpec]]]]


def render_files(dashboards_dir: Path, datasets_dir: Path) -> dict[str, bytes]:
    """Every generated bundle file by path inside dashboards_dir."""
    sources = read_sources(dashboards_dir / SOURCES, datasets_dir)
    database = canonical_database(sources.database)
    name = str(database["database_name"])
    docs: dict[str, Doc] = {asset_path("databases", database): database}
    for dataset in sources.datasets.values():
        doc = _dataset_doc(dataset, str(database["uuid"]))
        docs[asset_path("datasets", doc, name)] = doc
    for _, dashboard, rows in sources.dashboards:
        for chart in (chart for row in rows for chart in row):
            doc = _chart_doc(chart, sources.datasets[chart.dataset])
            path = asset_path("charts", doc)
            if path in docs:
                raise BundleError(f"two charts would be written to {path}")
            docs[path] = doc
        doc = _dashboard_doc(dashboard, rows, sources)
        docs[asset_path("dashboards", doc)] = doc
    return {path: dump_doc(doc) for path, doc in sorted(docs.items())}


def drift(dashboards_dir: Path, datasets_dir: Path) -> list[str]:
    """Bundle files that differ from what the sources render, or are extra."""
    wanted = render_files(dashboards_dir, datasets_dir)
    found = {
        path.relative_to(dashboards_dir).as_posix(): path
        for kind in ASSET_KINDS
        for path in sorted((dashboards_dir / kind).rglob("*.yaml"))
    }
    changed = [
        path
        for path, content in wanted.items()
        if path not in found or found[path].read_bytes() != content
    ]
    return sorted(changed + [path for path in found if path not in wanted])


def generate(dashboards_dir: Path, datasets_dir: Path) -> list[str]:
    """Write every generated file that changed; the paths written."""
    written = []
    for path, content in render_files(dashboards_dir, datasets_dir).items():
        target = dashboards_dir / path
        if target.is_file() and target.read_bytes() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(path)
    logger.info("bundle sources rendered: %d files written", len(written))
    return written


def read_sources(source_dir: Path, datasets_dir: Path) -> Sources:
    """Read and cross-check the sources; errors name the file and key."""
    database = _load(source_dir / "database.yaml")
    datasets_doc = _load(source_dir / "datasets.yaml")
    datasets = {}
    for index, raw in enumerate(datasets_doc.get("datasets") or []):
        where = f"datasets.yaml: datasets[{index}]"
        dataset = _read_dataset(where, raw, datasets_dir)
        if dataset.ref.table in datasets:
            raise BundleError(f"{where}: table {dataset.ref.table} is listed twice")
        datasets[dataset.ref.table] = dataset
    _check_unique("datasets.yaml", "id", [d.ref.bundle_id for d in datasets.values()])
    filters = dict(_load(source_dir / "filters.yaml"))
    dashboards = []
    for path in sorted((source_dir / "dashboards").glob("*.yaml")):
        doc = _load(path)
        rows = _read_rows(path.name, doc, datasets)
        for key in doc.get("filters") or []:
            if key not in filters:
                raise BundleError(f"{path.name}: filters: no filter {key!r}")
        dashboards.append((path.name, doc, rows))
    charts = [c for _, _, rows in dashboards for row in rows for c in row]
    _check_unique("dashboards", "chart key", [c.key for c in charts])
    _check_unique("dashboards", "chart uuid", [c.uuid for c in charts])
    return Sources(database, datasets, filters, dashboards)


def _load(path: Path) -> Doc:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BundleError(f"{path}: cannot be read ({exc})") from exc
    if not isinstance(doc, dict):
        raise BundleError(f"{path}: expected a mapping")
    return doc


def _check_unique(where: str, what: str, values: list[Any]) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise BundleError(f"{where}: {what} {value!r} is used twice")
        seen.add(value)


def _read_dataset(where: str, raw: Mapping[str, Any], datasets_dir: Path) -> Dataset:
    for key in ("table", "id", "uuid"):
        if key not in raw:
            raise BundleError(f"{where}: {key}: required")
    table = str(raw["table"])
    view = load_spec(datasets_dir / f"{table}.yaml")
    columns = frozenset(c.name for c in view.columns)
    time_column = raw.get("main_dttm_col")
    if time_column is not None and time_column not in columns:
        raise BundleError(f"{where}: main_dttm_col: {table} has no {time_column}")
    for name in raw.get("labels") or {}:
        if name not in columns:
            raise BundleError(f"{where}: labels: {table} has no column {name}")
    ref = DatasetRef(
        table=table,
        bundle_id=int(raw["id"]),
        uuid=str(raw["uuid"]),
        time_column=time_column,
        columns=columns,
        metrics=frozenset(str(m["name"]) for m in raw.get("metrics") or []),
    )
    return Dataset(ref, raw, view)


def _read_rows(
    name: str, doc: Mapping[str, Any], datasets: Mapping[str, Dataset]
) -> list[list[ChartSpec]]:
    for key in ("title", "uuid", "rows"):
        if key not in doc:
            raise BundleError(f"{name}: {key}: required")
    rows = []
    for number, row in enumerate(doc["rows"]):
        charts = []
        for index, raw in enumerate(row.get("charts") or []):
            where = f"{name}: rows[{number}].charts[{index}]"
            chart = read_chart(where, raw)
            if chart.dataset not in datasets:
                raise BundleError(f"{where}: dataset: no dataset {chart.dataset}")
            charts.append(chart)
        if sum(chart.width for chart in charts) > _GRID_WIDTH:
            raise BundleError(f"{name}: rows[{number}]: wider than {_GRID_WIDTH}")
        rows.append(charts)
    return rows


def column_label(name: str) -> str:
    """A column's display name from its SQL name.

    >>> column_label("closing_month"), column_label("loop_id")
    ('Closing month', 'Loop ID')
    """
    words = [_WORDS.get(word, word) for word in name.split("_")]
    first = words[0] if words[0] in _WORDS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def _dataset_doc(dataset: Dataset, database_uuid: str) -> Doc:
    source, view = dataset.source, dataset.view
    labels = source.get("labels") or {}
    columns = [
        {
            "column_name": column.name,
            "verbose_name": labels.get(column.name, column_label(column.name)),
            "is_dttm": column.type in _TEMPORAL,
            "is_active": True,
            "type": COLUMN_TYPES[column.type],
            "advanced_data_type": None,
            "groupby": True,
            "filterable": True,
            "expression": None,
            "description": _text(column.description),
            "python_date_format": None,
            "datetime_format": None,
            "extra": None,
        }
        for column in view.columns
    ]
    metrics = [_metric(metric) for metric in source.get("metrics") or []]
    doc = {
        "table_name": view.name,
        "main_dttm_col": source.get("main_dttm_col"),
        "currency_code_column": None,
        "description": _text(source.get("description") or view.description),
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": "__REPORTING_SCHEMA__",
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "folders": None,
        "uuid": dataset.ref.uuid,
        "metrics": metrics,
        "columns": columns,
        "version": BUNDLE_VERSION,
        "database_uuid": database_uuid,
    }
    return canonical_dataset(
        doc,
        [c.name for c in view.columns],
        [str(m["name"]) for m in source.get("metrics") or []],
    )


def _metric(raw: Mapping[str, Any]) -> Doc:
    return {
        "metric_name": raw["name"],
        "verbose_name": raw.get("label", column_label(str(raw["name"]))),
        "metric_type": None,
        "expression": " ".join(str(raw["expression"]).split()),
        "description": _text(raw.get("description")),
        "d3format": raw.get("format"),
        "currency": None,
        "extra": None,
        "warning_text": None,
    }


def _text(value: Any) -> str | None:
    return None if value is None else " ".join(str(value).split())


def _chart_doc(chart: ChartSpec, dataset: Dataset) -> Doc:
    params = chart_params(chart, dataset.ref)
    doc = {
        "slice_name": chart.name,
        "description": chart.description or None,
        "certified_by": None,
        "certification_details": None,
        "viz_type": params["viz_type"],
        "params": params,
        "query_context": json.dumps(query_context(params)),
        "cache_timeout": None,
        "uuid": chart.uuid,
        "version": BUNDLE_VERSION,
        "dataset_uuid": dataset.ref.uuid,
    }
    return canonical_chart(doc, dataset.ref.bundle_id)


def _dashboard_doc(
    source: Mapping[str, Any], rows: list[list[ChartSpec]], sources: Sources
) -> Doc:
    title = str(source["title"])
    position = _position(title, rows)
    numbers = {
        chart.key: number
        for number, chart in enumerate((c for row in rows for c in row), start=1)
    }
    filters = [
        _native_filter(key, sources.filters[key], rows, numbers, sources)
        for key in source.get("filters") or []
    ]
    doc = {
        "dashboard_title": title,
        "description": _text(source.get("description")),
        "css": "",
        "slug": source.get("slug"),
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": str(source["uuid"]),
        "position": position,
        "metadata": {
            "color_scheme": "supersetColors",
            "color_scheme_domain": [],
            "cross_filters_enabled": False,
            "expanded_slices": {},
            "label_colors": dict(source.get("label_colors") or {}),
            "map_label_colors": {},
            "native_filter_configuration": filters,
            "refresh_frequency": 0,
            "shared_label_colors": [],
            "timed_refresh_immune_slices": [],
        },
        "theme_uuid": None,
        "version": BUNDLE_VERSION,
    }
    return canonical_dashboard(doc)


def _position(title: str, rows: list[list[ChartSpec]]) -> Doc:
    position: Doc = {
        "DASHBOARD_VERSION_KEY": "v2",
        ROOT: {"children": [GRID], "id": ROOT, "type": "ROOT"},
        GRID: {"children": [], "id": GRID, "parents": [ROOT], "type": "GRID"},
        "HEADER_ID": {"id": "HEADER_ID", "meta": {"text": title}, "type": "HEADER"},
    }
    number = 0
    for index, row in enumerate(rows, start=1):
        row_id = f"ROW-{index}"
        position[GRID]["children"].append(row_id)
        position[row_id] = {
            "children": [f"CHART-{chart.key}" for chart in row],
            "id": row_id,
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
            "parents": [ROOT, GRID],
            "type": "ROW",
        }
        for chart in row:
            number += 1
            position[f"CHART-{chart.key}"] = {
                "children": [],
                "id": f"CHART-{chart.key}",
                "meta": {
                    "chartId": number,
                    "height": chart.height or 50,
                    "sliceName": chart.name,
                    "uuid": chart.uuid,
                    "width": chart.width,
                },
                "parents": [ROOT, GRID, row_id],
                "type": "CHART",
            }
    return position


def _native_filter(
    key: str,
    source: Mapping[str, Any],
    rows: list[list[ChartSpec]],
    numbers: Mapping[str, int],
    sources: Sources,
) -> Doc:
    charts = [chart for row in rows for chart in row]
    if source.get("type") == "time_range":
        # The period replaces each chart's own default range: charts without
        # one (a trend over years, the pipeline) are out of its scope.
        excluded = [numbers[c.key] for c in charts if c.period is None]
        kind = "filter_time"
        targets: list[Doc] = [{}]
        controls: Doc = {}
    else:
        table, column = str(source["dataset"]), str(source["column"])
        if column not in sources.datasets[table].ref.columns:
            raise BundleError(f"filters.yaml: {key}: {table} has no column {column}")
        excluded = [
            numbers[c.key]
            for c in charts
            if column not in sources.datasets[c.dataset].ref.columns
        ]
        kind = "filter_select"
        targets = [
            {
                "column": {"name": column},
                "datasetUuid": sources.datasets[table].ref.uuid,
            }
        ]
        controls = {
            "enableEmptyFilter": False,
            "defaultToFirstItem": False,
            "multiSelect": True,
            "searchAllOptions": False,
            "inverseSelection": False,
        }
    return {
        "id": f"NATIVE_FILTER-{key}",
        "name": str(source["name"]),
        "description": _text(source.get("description")) or "",
        "filterType": kind,
        "type": "NATIVE_FILTER",
        "targets": targets,
        "controlValues": controls,
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "cascadeParentIds": [],
        "scope": {"rootPath": [ROOT], "excluded": sorted(excluded)},
    }
