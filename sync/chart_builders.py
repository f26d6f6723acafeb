"""The buildQuery of each chart plugin our bundle ships, keyed by viz_type.

Each builder shapes the base query object (chart_query_object) the way the
plugin's buildQuery does in the 6.1.0 frontend.
"""

from __future__ import annotations

from collections.abc import Callable

from .chart_form_data import (
    UNDEFINED,
    Json,
    as_list,
    is_x_axis_set,
    x_axis_columns,
)
from .chart_post_processing import extra_metrics, flatten, pivot, rename, sort
from .chart_query_object import build_query_context, normalize_order_by
from .errors import BundleError

Build = Callable[[Json], Json]


def build_big_number_total(form_data: Json) -> Json:
    """The KPI without a trend: the base query object as it is."""
    return build_query_context(form_data, lambda query: [query])


def build_big_number(form_data: Json) -> Json:
    """The KPI with a trendline over its x-axis (aggregation LAST_VALUE only)."""
    if form_data.get("aggregation") not in (None, "LAST_VALUE"):
        raise BundleError("big_number: only the LAST_VALUE aggregation is supported")
    axis = x_axis_columns(form_data)

    def build(query: Json) -> list[Json]:
        shaped = {**query, "columns": list(axis)}
        if not axis:
            shaped["is_timeseries"] = True
        shaped["post_processing"] = [pivot(form_data, query), flatten()]
        return [shaped]

    return build_query_context(form_data, build)


def build_timeseries(form_data: Json) -> Json:
    """Bar, line and the other ECharts timeseries charts."""
    groupby = form_data.get("groupby", UNDEFINED)

    def build(query: Json) -> list[Json]:
        shaped = {
            **query,
            "metrics": [*as_list(query.get("metrics")), *extra_metrics(form_data)],
            "columns": [*x_axis_columns(form_data), *as_list(groupby)],
            "series_columns": groupby,
        }
        if not is_x_axis_set(form_data):
            shaped["is_timeseries"] = True
        shaped["orderby"] = normalize_order_by(query)
        shaped["time_offsets"] = []
        shaped["post_processing"] = [
            pivot(form_data, query),
            rename(form_data, query),
            sort(form_data),
            flatten(),
        ]
        return [shaped]

    return build_query_context(form_data, build)


def build_table(form_data: Json) -> Json:
    """The table chart, in aggregate or raw mode."""
    mode = _table_mode(form_data)
    if mode == "raw":
        form_data = {**form_data, "include_time": False}
    sort_metric = as_list(form_data.get("timeseries_limit_metric"))
    order_desc = form_data.get("order_desc", False)

    def build(query: Json) -> list[Json]:
        metrics = query.get("metrics")
        orderby = query.get("orderby")
        if orderby is UNDEFINED:
            orderby = []
        if mode == "aggregate":
            metrics = metrics or []
            if sort_metric:
                orderby = [[sort_metric[0], not order_desc]]
            elif metrics:
                orderby = [[metrics[0], False]]
        return [
            {
                **query,
                "columns": query.get("columns", []),
                "extras": query.get("extras", {}),
                "orderby": orderby,
                "metrics": metrics,
                "post_processing": [],
                "time_offsets": [],
            }
        ]

    return build_query_context(form_data, build)


def _table_mode(form_data: Json) -> str:
    mode = form_data.get("query_mode")
    if mode in ("aggregate", "raw"):
        return str(mode)
    return "raw" if form_data.get("all_columns") else "aggregate"


BUILDERS: dict[str, Build] = {
    "big_number_total": build_big_number_total,
    "big_number": build_big_number,
    "echarts_timeseries_bar": build_timeseries,
    "echarts_timeseries_line": build_timeseries,
    "table": build_table,
}
