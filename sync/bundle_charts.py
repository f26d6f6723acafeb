"""Chart params from the compact chart specs of dashboards_export/sources/.

A spec names what a chart shows (dataset, metrics, x-axis, grouping, sort,
filters, period, formats); `chart_params` expands it into the full form
data Superset's chart editor keeps for that kind of chart, and
chart_query.query_context turns those params into the payload the editor
would save. Spec keys by kind:

    every chart   key uuid name description dataset viz width [height]
                  [where] [period] [format] [options]
    kpi           metric [subtitle]
    trend         metric x grain [compare_lag] [compare_suffix]
    bar, line     metrics x [grain] [groupby] [sort] [limit] [rank_by]
                  [series_limit] [horizontal] [stack] [x_format] [legend]
                  [show_value] [x_title] [y_title]
    table         groupby + metrics (aggregate) or columns (raw)
                  [sort] [limit] [page_length] [formats] [cell_bars]

`where` is SQL (a string or a list), `period` the default closing-date
range ("Current year", "Last year", ...) that the dashboard's period filter
replaces, `x` a column name or {sql, label}, `sort` {by, ascending} (by
the x-axis or a drawn metric; with several metrics, by "sum", "max"...
of each bar), `rank_by` the metric whose top rows `limit` keeps, `options`
extra params set last. A horizontal bar chart draws its first row at the
bottom: sort it ascending to put the largest on top.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import BundleError

Doc = dict[str, Any]

VIZ_TYPES = {
    "kpi": "big_number_total",
    "trend": "big_number",
    "bar": "echarts_timeseries_bar",
    "line": "echarts_timeseries_line",
    "table": "table",
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Keys ChartSpec holds as attributes; the rest stay in ChartSpec.fields.
_IDENTITY_KEYS = _words("key uuid name description dataset viz width height")
_COMMON_KEYS = _IDENTITY_KEYS | _words("where period format options")
_KIND_KEYS = {
    "kpi": _words("metric subtitle"),
    "trend": _words("metric x grain compare_lag compare_suffix"),
    "bar": _words(
        "metrics x grain groupby sort limit rank_by series_limit horizontal "
        "stack x_format legend show_value x_title y_title"
    ),
    "table": _words("groupby metrics columns sort limit page_length formats cell_bars"),
}
_KIND_KEYS["line"] = _KIND_KEYS["bar"]
_REQUIRED = {
    "kpi": ("metric",),
    "trend": ("metric", "x", "grain"),
    "bar": ("metrics", "x"),
    "line": ("metrics", "x"),
    "table": (),
}
COLOR_SCHEME = "supersetColors"
CURRENCY = "$,.0f"


@dataclass(frozen=True)
class ChartSpec:
    """One chart of a dashboard source, as written there."""

    key: str
    uuid: str
    name: str
    viz: str
    dataset: str
    width: int
    description: str = ""
    height: int | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def period(self) -> str | None:
        value = self.fields.get("period")
        return None if value is None else str(value)


@dataclass(frozen=True)
class DatasetRef:
    """What a chart needs to know of its dataset."""

    table: str
    bundle_id: int
    uuid: str
    time_column: str | None
    columns: frozenset[str]
    metrics: frozenset[str]


def read_chart(where: str, raw: Mapping[str, Any]) -> ChartSpec:
    """A chart spec from its mapping; errors name `where` and the key."""
    viz = str(raw.get("viz"))
    if viz not in VIZ_TYPES:
        raise BundleError(f"{where}: viz: one of {', '.join(VIZ_TYPES)}, not {viz}")
    unknown = set(raw) - _COMMON_KEYS - _KIND_KEYS[viz]
    if unknown:
        raise BundleError(f"{where}: {sorted(unknown)[0]}: unknown key for a {viz}")
    for key in ("key", "uuid", "name", "dataset", "width", *_REQUIRED[viz]):
        if key not in raw:
            raise BundleError(f"{where}: {key}: required for a {viz}")
    if viz == "table" and ("columns" in raw) == ("metrics" in raw):
        raise BundleError(f"{where}: columns: a table has columns or metrics")
    return ChartSpec(
        key=str(raw["key"]),
        uuid=str(raw["uuid"]),
        name=str(raw["name"]),
        viz=viz,
        dataset=str(raw["dataset"]),
        width=int(raw["width"]),
        description=" ".join(str(raw.get("description") or "").split()),
        height=int(raw["height"]) if "height" in raw else None,
        fields={k: v for k, v in raw.items() if k not in _IDENTITY_KEYS},
    )


def chart_params(spec: ChartSpec, dataset: DatasetRef) -> Doc:
    """The chart's params (form data), checked against its dataset."""
    builder = {
        "kpi": _kpi,
        "trend": _trend,
        "bar": _series,
        "line": _series,
        "table": _table,
    }[spec.viz]
    params = builder(spec, dataset)
    options = spec.fields.get("options") or {}
    params.update(options)
    _check_names(spec, dataset, params)
    return params


def _head(spec: ChartSpec, dataset: DatasetRef) -> Doc:
    datasource = f"{dataset.bundle_id}__table"
    return {"datasource": datasource, "viz_type": VIZ_TYPES[spec.viz]}


def _filters(spec: ChartSpec, dataset: DatasetRef) -> list[Doc]:
    """The adhoc filters: the period on the dataset's date, then `where`."""
    filters = []
    if spec.period is not None:
        if dataset.time_column is None:
            raise BundleError(
                f"{spec.key}: period: dataset {dataset.table} has no main_dttm_col"
            )
        filters.append(
            {
                "clause": "WHERE",
                "comparator": spec.period,
                "expressionType": "SIMPLE",
                "filterOptionName": "filter_period",
                "isExtra": False,
                "isNew": False,
                "operator": "TEMPORAL_RANGE",
                "sqlExpression": None,
                "subject": dataset.time_column,
            }
        )
    where = spec.fields.get("where") or []
    clauses = [where] if isinstance(where, str) else list(where)
    for number, clause in enumerate(clauses, start=1):
        filters.append(
            {
                "clause": "WHERE",
                "comparator": None,
                "expressionType": "SQL",
                "filterOptionName": f"filter_where_{number}",
                "isExtra": False,
                "isNew": False,
                "operator": None,
                "sqlExpression": " ".join(str(clause).split()),
                "subject": None,
            }
        )
    return filters


def _format(spec: ChartSpec) -> str:
    return str(spec.fields.get("format", CURRENCY))


def _kpi(spec: ChartSpec, dataset: DatasetRef) -> Doc:
    return {
        **_head(spec, dataset),
        "metric": spec.fields["metric"],
        "adhoc_filters": _filters(spec, dataset),
        "header_font_size": 0.4,
        "subtitle": spec.fields.get("subtitle", ""),
        "subtitle_font_size": 0.125,
        "y_axis_format": _format(spec),
        "time_format": "smart_date",
        "annotation_layers": [],
        "extra_form_data": {},
    }


def _trend(spec: ChartSpec, dataset: DatasetRef) -> Doc:
    fields = spec.fields
    return {
        **_head(spec, dataset),
        "x_axis": fields["x"],
        "time_grain_sqla": fields["grain"],
        "metric": fields["metric"],
        "adhoc_filters": _filters(spec, dataset),
        "compare_lag": int(fields.get("compare_lag", 1)),
        "compare_suffix": fields.get("compare_suffix", ""),
        "show_timestamp": False,
        "show_trend_line": True,
        "start_y_axis_at_zero": True,
        "header_font_size": 0.4,
        "subheader_font_size": 0.15,
        "y_axis_format": _format(spec),
        "time_format": "%Y",
        "rolling_type": "None",
        "annotation_layers": [],
        "extra_form_data": {},
    }


def _column(value: Any) -> Any:
    """A column by name, or an adhoc SQL column from {sql, label}."""
    if isinstance(value, Mapping):
        return {
            "expressionType": "SQL",
            "label": str(value["label"]),
            "sqlExpression": " ".join(str(value["sql"]).split()),
        }
    return value


def _series(spec: ChartSpec, dataset: DatasetRef) -> Doc:
    fields = spec.fields
    metrics = list(fields["metrics"])
    params = {**_head(spec, dataset), "x_axis": _column(fields["x"])}
    if "grain" in fields:
        params["time_grain_sqla"] = fields["grain"]
    sort = fields.get("sort")
    if sort is not None:
        params["x_axis_sort"] = sort["by"]
        params["x_axis_sort_asc"] = bool(sort.get("ascending", False))
    params.update(
        metrics=metrics,
        groupby=[_column(c) for c in fields.get("groupby") or []],
        adhoc_filters=_filters(spec, dataset),
    )
    if "rank_by" in fields:
        # Which rows the row limit keeps: the top ones by this metric.
        params["timeseries_limit_metric"] = fields["rank_by"]
    if "series_limit" in fields:
        params["series_limit"] = int(fields["series_limit"])
        params["series_limit_metric"] = fields["metrics"][0]
    params.update(
        order_desc=True,
        row_limit=int(fields.get("limit", 10000)),
        truncate_metric=True,
        show_empty_columns=True,
        comparison_type="values",
        annotation_layers=[],
    )
    return params | _series_look(spec)


def _series_look(spec: ChartSpec) -> Doc:
    fields = spec.fields
    look: Doc = {}
    if spec.viz == "bar":
        look["orientation"] = "horizontal" if fields.get("horizontal") else "vertical"
    look.update(
        x_axis_title=fields.get("x_title", ""),
        x_axis_title_margin=15 if fields.get("x_title") else 0,
        x_axis_time_format=fields.get("x_format", "smart_date"),
        y_axis_format=_format(spec),
        y_axis_title=fields.get("y_title", ""),
        y_axis_title_margin=15 if fields.get("y_title") else 0,
        truncateXAxis=True,
        show_legend=bool(fields.get("legend", bool(fields.get("groupby")))),
        legendType="scroll",
        legendOrientation="top",
        show_value=bool(fields.get("show_value", False)),
        rich_tooltip=True,
        tooltipTimeFormat="smart_date",
        color_scheme=COLOR_SCHEME,
    )
    if spec.viz == "bar":
        look["stack"] = "Stack" if fields.get("stack") else None
        look["only_total"] = True
    else:
        look["markerEnabled"] = True
        look["markerSize"] = 6
    look["zoomable"] = False
    look["extra_form_data"] = {}
    return look


def _table(spec: ChartSpec, dataset: DatasetRef) -> Doc:
    fields = spec.fields
    raw = "columns" in fields
    params = {
        **_head(spec, dataset),
        "query_mode": "raw" if raw else "aggregate",
        "groupby": [] if raw else list(fields.get("groupby") or []),
        "metrics": [] if raw else list(fields.get("metrics") or []),
        "all_columns": list(fields["columns"]) if raw else [],
        "percent_metrics": [],
        "adhoc_filters": _filters(spec, dataset),
    }
    sort = fields.get("sort")
    if raw:
        order = [json.dumps([sort["by"], bool(sort.get("ascending"))])] if sort else []
        params["order_by_cols"] = order
    elif sort is not None:
        params["timeseries_limit_metric"] = sort["by"]
        params["order_desc"] = not sort.get("ascending", False)
    params.update(
        row_limit=int(fields.get("limit", 10000)),
        server_pagination=False,
        page_length=int(fields.get("page_length", 25)),
        include_search=True,
        show_cell_bars=bool(fields.get("cell_bars", not raw)),
        align_pn=False,
        color_pn=False,
        allow_rearrange_columns=False,
        table_timestamp_format="%Y-%m-%d %H:%M",
        column_config={
            name: {"d3NumberFormat": fmt}
            for name, fmt in (fields.get("formats") or {}).items()
        },
    )
    if raw:
        params["include_time"] = False
    params["annotation_layers"] = []
    params["extra_form_data"] = {}
    return params


def _check_names(spec: ChartSpec, dataset: DatasetRef, params: Doc) -> None:
    """Every metric and column the chart reads exists in its dataset."""
    metrics = [
        params.get("metric"),
        params.get("timeseries_limit_metric"),
        *(params.get("metrics") or []),
    ]
    for metric in metrics:
        if isinstance(metric, str) and metric not in dataset.metrics:
            raise BundleError(
                f"{spec.key}: metric {metric!r} is not in dataset {dataset.table}"
            )
    columns = [
        params.get("x_axis"),
        *(params.get("groupby") or []),
        *(params.get("all_columns") or []),
    ]
    for column in columns:
        if isinstance(column, str) and column not in dataset.columns:
            raise BundleError(
                f"{spec.key}: column {column!r} is not in dataset {dataset.table}"
            )
    for clause in [f.get("sqlExpression") or "" for f in params["adhoc_filters"]]:
        for name in _IDENTIFIER.findall(_STRING.sub("''", clause)):
            if name.startswith("_") or name in dataset.columns:
                continue
            if name.lower() in _SQL_WORDS:
                continue
            raise BundleError(
                f"{spec.key}: where: {name!r} is not a column of {dataset.table}"
            )


_STRING = re.compile(r"'[^']*'")
_IDENTIFIER = re.compile(r"(?<![\w'.])([a-z_][a-z0-9_]*)(?![\w'(])")
# Words a `where` clause may use besides the dataset's columns.
_SQL_WORDS = _words(
    "and or not is null true false in between like ilike interval date "
    "current_date year month day as case when then else end"
)
