"""The base query object and query context, as superset-ui core builds them.

A port of buildQueryContext, buildQueryObject, extractQueryFields,
processFilters, normalizeOrderBy and normalizeTimeColumn from the 6.1.0
frontend, kept to what our charts use. A chart's builder (chart_builders)
shapes the base query object into its queries; build_query_context wraps
them with the datasource and the form data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .chart_form_data import (
    UNDEFINED,
    Json,
    column_label,
    default,
    is_adhoc_column,
    is_metric,
    is_x_axis_set,
    js_or,
    metric_label,
    number,
    unique,
)
from .errors import BundleError

# Form data keys buildQueryObject takes for itself.
_OWN_KEYS = (
    "annotation_layers",
    "extra_form_data",
    "time_range",
    "since",
    "until",
    "row_limit",
    "row_offset",
    "order_desc",
    "limit",
    "timeseries_limit_metric",
    "granularity",
    "url_params",
    "custom_params",
    "series_columns",
    "series_limit",
    "series_limit_metric",
    "group_others_when_limit_reached",
)
_FIELD_ALIASES = {
    "metric": "metrics",
    "metric_2": "metrics",
    "secondary_metric": "metrics",
    "x": "metrics",
    "y": "metrics",
    "size": "metrics",
    "all_columns": "columns",
    "series": "groupby",
    "order_by_cols": "orderby",
}
_UNARY_OPERATORS = ("IS NOT NULL", "IS NULL")


def build_query_context(form_data: Json, build: Callable[[Json], list[Json]]) -> Json:
    """The query context of the queries build makes from the base query object."""
    queries = build(_query_object(form_data))
    for query in queries:
        if isinstance(query.get("post_processing"), list):
            query["post_processing"] = [
                op for op in query["post_processing"] if op not in (None, UNDEFINED)
            ]
    if is_x_axis_set(form_data):
        queries = [_normalize_time_column(form_data, query) for query in queries]
    return {
        "datasource": _datasource_key(form_data["datasource"]),
        "force": form_data.get("force") or False,
        "queries": queries,
        "form_data": form_data,
        "result_format": form_data.get("result_format") or "json",
        "result_type": form_data.get("result_type") or "full",
    }


def _datasource_key(datasource: str) -> Json:
    id_, _, kind = str(datasource).partition("__")
    return {"id": int(id_), "type": "query" if kind == "query" else "table"}


def _query_object(form_data: Json) -> Json:
    get = form_data.get
    residual = {k: v for k, v in form_data.items() if k not in _OWN_KEYS}
    extra = get("extra_form_data") or {}
    if set(extra) - {"adhoc_filters", "filters", "custom_form_data"}:
        # Native filters fill these in at run time; a saved chart has none.
        raise BundleError("extra_form_data overrides do not belong in saved params")
    fields = _extract_query_fields(residual)
    extras = _extract_extras(form_data)
    filters = {
        "filters": [*extras["filters"], *extra.get("filters", [])],
        "adhoc_filters": [
            *(get("adhoc_filters") or []),
            *extra.get("adhoc_filters", []),
        ],
    }
    processed = _process_filters({**form_data, **extras, **filters})
    row_limit = get("row_limit")
    row_offset = get("row_offset")
    query: Json = {
        "time_range": get("time_range") or UNDEFINED,
        "since": get("since") or UNDEFINED,
        "until": get("until") or UNDEFINED,
        "granularity": get("granularity") or UNDEFINED,
    }
    query.update(extras)
    query.update(processed)
    query.update(
        columns=fields["columns"],
        metrics=fields["metrics"],
        orderby=fields["orderby"],
        annotation_layers=default(form_data, "annotation_layers", []),
        row_limit=number(row_limit),
        row_offset=number(row_offset),
        series_columns=get("series_columns", UNDEFINED),
        series_limit=_series_limit(form_data),
        series_limit_metric=_series_limit_metric(form_data),
        group_others_when_limit_reached=js_or(
            get("group_others_when_limit_reached"), False, nullish=True
        ),
        order_desc=default(form_data, "order_desc", True),
        url_params=js_or(default(form_data, "url_params", {}), UNDEFINED),
        custom_params=default(form_data, "custom_params", {}),
    )
    return {**query, "custom_form_data": extra.get("custom_form_data", {})}


def _series_limit(form_data: Json) -> Any:
    if form_data.get("series_limit") is not None:
        return form_data["series_limit"]
    limit = form_data.get("limit")
    return number(limit) if limit is not None else 0


def _series_limit_metric(form_data: Json) -> Any:
    metric = form_data.get("series_limit_metric")
    if is_metric(metric):
        return metric
    fallback = form_data.get("timeseries_limit_metric")
    return UNDEFINED if fallback is None else fallback


def _extract_extras(form_data: Json) -> Json:
    return {
        "filters": [],
        "extras": {"time_grain_sqla": form_data.get("time_grain_sqla", UNDEFINED)},
        "applied_time_extras": {},
        "granularity": form_data.get("granularity")
        or form_data.get("granularity_sqla")
        or UNDEFINED,
    }


def _process_filters(form_data: Json) -> Json:
    extras = form_data.get("extras", {})
    filters = form_data.get("filters", [])
    where = [form_data["where"]] if form_data.get("where") else []
    having: list[str] = []
    for adhoc in form_data.get("adhoc_filters") or []:
        clause = adhoc.get("clause")
        if adhoc.get("expressionType") == "SIMPLE":
            if clause == "WHERE":
                filters.append(_convert_filter(adhoc))
        elif clause == "WHERE":
            where.append(adhoc["sqlExpression"])
        else:
            having.append(adhoc["sqlExpression"])
    extras["having"] = " AND ".join(_sanitize(c) for c in having)
    extras["where"] = " AND ".join(_sanitize(c) for c in where)
    return {"filters": filters, "extras": extras}


def _convert_filter(adhoc: Json) -> Json:
    operator = adhoc.get("operator")
    if operator in _UNARY_OPERATORS:
        return {"col": adhoc.get("subject"), "op": operator}
    return {"col": adhoc.get("subject"), "op": operator, "val": adhoc.get("comparator")}


def _sanitize(clause: str) -> str:
    """A freeform clause in parentheses; a line comment gets a newline first.

    >>> _sanitize("a = 1"), _sanitize("a = 1 -- why")
    ('(a = 1)', '(a = 1 -- why\\n)')
    """
    return f"({clause}\n)" if "--" in clause else f"({clause})"


def _extract_query_fields(residual: Json) -> Json:
    mode = residual.get("query_mode")
    columns: list[Any] = []
    metrics: list[Any] = []
    orderby: list[Any] = []
    for key, value in residual.items():
        if key == "query_mode" or value is None:
            continue
        name = _FIELD_ALIASES.get(key, key)
        if mode == "aggregate" and name == "columns":
            continue
        if mode == "raw" and name in ("groupby", "metrics"):
            continue
        items = value if isinstance(value, list) else [value]
        if name in ("groupby", "columns"):
            columns += items
        elif name == "metrics":
            metrics += items
        elif name == "orderby":
            orderby += items
    return {
        "columns": unique([c for c in columns if c != ""], column_label),
        "metrics": UNDEFINED if mode == "raw" else unique(metrics, metric_label),
        "orderby": [_orderby(o) for o in orderby] if orderby else UNDEFINED,
    }


def _orderby(item: Any) -> Any:
    return json.loads(item) if isinstance(item, str) else item


def _normalize_time_column(form_data: Json, query: Json) -> Json:
    x_axis = form_data["x_axis"]
    columns = query.get("columns")
    if not isinstance(columns, list):
        return query
    index = next(
        (
            i
            for i, column in enumerate(columns)
            if (isinstance(column, str) and column == x_axis)
            or (
                is_adhoc_column(column)
                and is_adhoc_column(x_axis)
                and column["sqlExpression"] == x_axis["sqlExpression"]
            )
        ),
        None,
    )
    if index is None:
        return query
    grain = query.get("extras", {}).get("time_grain_sqla", UNDEFINED)
    base = {"timeGrain": grain, "columnType": "BASE_AXIS"}
    if is_adhoc_column(columns[index]):
        axis = {**base, **columns[index]}
    else:
        axis = {
            **base,
            "sqlExpression": x_axis,
            "label": x_axis,
            "expressionType": "SQL",
            "isColumnReference": True,
        }
    normalized = {k: v for k, v in query.items() if k != "is_timeseries"}
    normalized["columns"] = [axis if i == index else c for i, c in enumerate(columns)]
    return normalized


def normalize_order_by(query: Json) -> Any:
    """The query's orderby, else one on its sort metric or first metric."""
    orderby = query.get("orderby")
    if isinstance(orderby, list) and orderby:
        first = orderby[0]
        if (
            isinstance(first, list)
            and len(first) == 2
            and first[0] not in (None, "", [], {})
            and isinstance(first[1], bool)
        ):
            return orderby
    ascending = not query.get("order_desc")
    for key in ("series_limit_metric", "legacy_order_by"):
        value = query.get(key)
        if value not in (None, UNDEFINED, "", [], {}):
            return [[value, ascending]]
    metrics = query.get("metrics")
    if isinstance(metrics, list) and metrics:
        return [[metrics[0], ascending]]
    return UNDEFINED
