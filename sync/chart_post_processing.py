"""The post-processing operations of the timeseries charts (pivot, rename, sort).

A port of chart-controls' operators as the 6.1.0 ECharts timeseries and big
number plugins use them. Each returns one operation, or UNDEFINED when the
form data does not call for it (build_query_context drops those).
"""

from __future__ import annotations

from typing import Any

from .chart_form_data import (
    UNDEFINED,
    Json,
    as_list,
    column_label,
    metric_label,
    x_axis_label,
)


def extra_metrics(form_data: Json) -> list[Any]:
    """The sort-by metric a bar chart needs although it does not draw it."""
    metric = as_list(form_data.get("timeseries_limit_metric"))
    sort = form_data.get("x_axis_sort")
    if (form_data.get("groupby") or []) or not metric:
        return []
    if metric_label(metric[0]) != sort:
        return []
    drawn = form_data.get("metrics") or []
    if any(metric_label(m) == sort for m in drawn):
        return []
    return [metric[0]]


def pivot(form_data: Json, query: Json) -> Any:
    """Metrics pivoted by the x-axis, one column per series."""
    metrics = [
        metric_label(m)
        for m in [*as_list(query.get("metrics")), *extra_metrics(form_data)]
    ]
    index = x_axis_label(form_data)
    columns = query.get("series_columns")
    if columns in (None, UNDEFINED):
        columns = query.get("columns")
    if index is UNDEFINED or not index or not metrics:
        return UNDEFINED
    return {
        "operation": "pivot",
        "options": {
            "index": [index],
            "columns": [column_label(c) for c in as_list(columns)],
            "aggregates": {m: {"operator": "mean"} for m in metrics},
            "drop_missing_columns": not form_data.get("show_empty_columns"),
        },
    }


def rename(form_data: Json, query: Json) -> Any:
    """Drop the metric's name from series labels when there is one metric."""
    metrics = as_list(query.get("metrics"))
    columns = query.get("series_columns")
    if columns in (None, UNDEFINED):
        columns = query.get("columns")
    columns = as_list(columns)
    compare = as_list(form_data.get("time_compare"))
    if not metrics or x_axis_label(form_data) in (UNDEFINED, None, ""):
        return UNDEFINED
    truncate = form_data.get("truncate_metric")
    if not ((columns or len(compare) > 1) and truncate):
        return UNDEFINED
    if form_data.get("comparison_type") in ("difference", "percentage", "ratio"):
        return UNDEFINED
    if len(metrics) != 1:
        return UNDEFINED
    return {
        "operation": "rename",
        "options": {
            "columns": {metric_label(metrics[0]): None},
            "level": 0,
            "inplace": True,
        },
    }


def sort(form_data: Json) -> Any:
    """The x-axis sort chosen in the editor, by the axis or by a metric."""
    index = x_axis_label(form_data)
    labels = [
        index,
        *(metric_label(m) for m in as_list(form_data.get("metrics"))),
        *(metric_label(m) for m in extra_metrics(form_data)),
    ]
    sort_by = form_data.get("x_axis_sort")
    ascending = form_data.get("x_axis_sort_asc")
    if sort_by is None or ascending is None or sort_by not in labels:
        return UNDEFINED
    if form_data.get("groupby"):
        return UNDEFINED
    if sort_by == index:
        return {
            "operation": "sort",
            "options": {"is_sort_index": True, "ascending": ascending},
        }
    return {"operation": "sort", "options": {"by": sort_by, "ascending": ascending}}


def flatten() -> Json:
    """Flatten the pivoted frame's column levels."""
    return {"operation": "flatten"}
