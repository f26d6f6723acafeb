"""The query_context Superset 6.1's chart editor saves for a chart's params.

The chart editor turns a chart's form data (the `params` of a bundle) into
a query context with the `buildQuery` of the chart's plugin; Superset stores
that JSON and an embedded (guest) user may run nothing else. This module is
a port of the 6.1.0 frontend code that does it (superset-ui core:
buildQueryContext, buildQueryObject, extractQueryFields, processFilters,
normalizeOrderBy, normalizeTimeColumn; chart-controls' post-processing
operators; the buildQuery of the plugins listed in BUILDERS), kept to the
features our charts use. A form data asking for anything else (time
comparison, rolling windows, percent metrics...) raises BundleError rather
than produce a payload the editor would not.

JavaScript's `undefined` is UNDEFINED here: a key holding it keeps its
place in the object but is left out of the JSON, as JSON.stringify does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .errors import BundleError

__all__ = ["BUILDERS", "REQUEST_KEYS", "UNDEFINED", "query_context"]

Json = dict[str, Any]
Build = Callable[[Json], Json]


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()

# What the editor adds to the form data when it asks for a chart's data.
REQUEST_KEYS: Json = {"force": False, "result_format": "json", "result_type": "full"}

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
# Form data that asks for a feature this port leaves out.
_UNSUPPORTED = (
    "time_compare",
    "resample_rule",
    "resample_method",
    "contributionMode",
    "forecastEnabled",
    "percent_metrics",
    "show_totals",
    "server_pagination",
)


def query_context(params: Mapping[str, Any]) -> Json:
    """The query context the chart editor saves for a chart with these params.

    >>> context = query_context({
    ...     "datasource": "3__table", "viz_type": "big_number_total",
    ...     "metric": "gci", "adhoc_filters": [], "extra_form_data": {},
    ... })
    >>> context["datasource"], context["queries"][0]["metrics"]
    ({'id': 3, 'type': 'table'}, ['gci'])
    """
    viz_type = str(params.get("viz_type"))
    if viz_type not in BUILDERS:
        raise BundleError(
            f"no query_context builder for viz_type {viz_type!r}; "
            f"supported: {', '.join(sorted(BUILDERS))}"
        )
    _refuse_unsupported(viz_type, params)
    form_data = {**params, **REQUEST_KEYS}
    context: Json = _strip(BUILDERS[viz_type](form_data))
    return context


def _refuse_unsupported(viz_type: str, params: Mapping[str, Any]) -> None:
    for key in _UNSUPPORTED:
        if params.get(key):
            raise BundleError(
                f"{viz_type}: {key} is not supported by the query_context "
                "builder; build the chart in Superset and export it instead"
            )
    if params.get("rolling_type") not in (None, "None"):
        raise BundleError(f"{viz_type}: rolling_type is not supported")


def _strip(value: Any) -> Any:
    """JSON.stringify's view of a value: UNDEFINED keys left out."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [None if v is UNDEFINED else _strip(v) for v in value]
    return value


def _build_query_context(form_data: Json, build: Callable[[Json], list[Json]]) -> Json:
    queries = build(_query_object(form_data))
    for query in queries:
        if isinstance(query.get("post_processing"), list):
            query["post_processing"] = [
                op for op in query["post_processing"] if op not in (None, UNDEFINED)
            ]
    if _is_x_axis_set(form_data):
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
        annotation_layers=_default(form_data, "annotation_layers", []),
        row_limit=_number(row_limit),
        row_offset=_number(row_offset),
        series_columns=get("series_columns", UNDEFINED),
        series_limit=_series_limit(form_data),
        series_limit_metric=_series_limit_metric(form_data),
        group_others_when_limit_reached=_js_or(
            get("group_others_when_limit_reached"), False, nullish=True
        ),
        order_desc=_default(form_data, "order_desc", True),
        url_params=_js_or(_default(form_data, "url_params", {}), UNDEFINED),
        custom_params=_default(form_data, "custom_params", {}),
    )
    return {**query, "custom_form_data": extra.get("custom_form_data", {})}


def _js_or(value: Any, fallback: Any, *, nullish: bool = False) -> Any:
    """JavaScript's `value || fallback` (or `value ?? fallback` when nullish).

    >>> _js_or({}, "x"), _js_or("", "x"), _js_or(0, "x", nullish=True)
    ({}, 'x', 0)
    """
    if value is None or value is UNDEFINED:
        return fallback
    if nullish:
        return value
    falsy = (
        value is False
        or value == ""
        or (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and value == 0
        )
    )
    return fallback if falsy else value


def _default(form_data: Json, key: str, value: Any) -> Any:
    # A destructuring default: it applies to a missing key, not to null.
    return form_data.get(key, value)


def _number(value: Any) -> Any:
    if value is None:
        return UNDEFINED
    try:
        return int(value) if float(value) == int(float(value)) else float(value)
    except (TypeError, ValueError):
        return UNDEFINED


def _series_limit(form_data: Json) -> Any:
    if form_data.get("series_limit") is not None:
        return form_data["series_limit"]
    limit = form_data.get("limit")
    return _number(limit) if limit is not None else 0


def _series_limit_metric(form_data: Json) -> Any:
    metric = form_data.get("series_limit_metric")
    if _is_metric(metric):
        return metric
    fallback = form_data.get("timeseries_limit_metric")
    return UNDEFINED if fallback is None else fallback


def _is_metric(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, dict) and value.get("expressionType") in ("SIMPLE", "SQL")


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
        "columns": _unique([c for c in columns if c != ""], _column_label),
        "metrics": UNDEFINED if mode == "raw" else _unique(metrics, _metric_label),
        "orderby": [_orderby(o) for o in orderby] if orderby else UNDEFINED,
    }


def _orderby(item: Any) -> Any:
    return json.loads(item) if isinstance(item, str) else item


def _unique(items: list[Any], label: Callable[[Any], Any]) -> list[Any]:
    seen: set[Any] = set()
    kept = []
    for item in items:
        key = label(item)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _column_label(column: Any) -> Any:
    if isinstance(column, str):
        return column
    return column.get("label") or column.get("sqlExpression")


def _metric_label(metric: Any) -> Any:
    if isinstance(metric, str):
        return metric
    if metric.get("label"):
        return metric["label"]
    if metric.get("expressionType") == "SIMPLE":
        column = metric["column"]
        name = column.get("columnName") or column.get("column_name")
        return f"{metric['aggregate']}({name})"
    return metric.get("sqlExpression")


def _is_adhoc_column(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and "sqlExpression" in value
        and "label" in value
        and value.get("expressionType", "SQL") == "SQL"
    )


def _is_x_axis_set(form_data: Json) -> bool:
    x_axis = form_data.get("x_axis")
    return isinstance(x_axis, str) or _is_adhoc_column(x_axis)


def _x_axis_label(form_data: Json) -> Any:
    if not (form_data.get("granularity_sqla") or form_data.get("x_axis")):
        return UNDEFINED
    if _is_x_axis_set(form_data):
        return _column_label(form_data["x_axis"])
    return "__timestamp"


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
                _is_adhoc_column(column)
                and _is_adhoc_column(x_axis)
                and column["sqlExpression"] == x_axis["sqlExpression"]
            )
        ),
        None,
    )
    if index is None:
        return query
    grain = query.get("extras", {}).get("time_grain_sqla", UNDEFINED)
    base = {"timeGrain": grain, "columnType": "BASE_AXIS"}
    if _is_adhoc_column(columns[index]):
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


def _normalize_order_by(query: Json) -> Any:
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


def _extra_metrics(form_data: Json) -> list[Any]:
    """The sort-by metric a bar chart needs although it does not draw it."""
    metric = _as_list(form_data.get("timeseries_limit_metric"))
    sort = form_data.get("x_axis_sort")
    if (form_data.get("groupby") or []) or not metric:
        return []
    if _metric_label(metric[0]) != sort:
        return []
    drawn = form_data.get("metrics") or []
    if any(_metric_label(m) == sort for m in drawn):
        return []
    return [metric[0]]


def _as_list(value: Any) -> list[Any]:
    if value is None or value is UNDEFINED:
        return []
    return value if isinstance(value, list) else [value]


def _pivot(form_data: Json, query: Json) -> Any:
    metrics = [
        _metric_label(m)
        for m in [*_as_list(query.get("metrics")), *_extra_metrics(form_data)]
    ]
    index = _x_axis_label(form_data)
    columns = query.get("series_columns")
    if columns in (None, UNDEFINED):
        columns = query.get("columns")
    if index is UNDEFINED or not index or not metrics:
        return UNDEFINED
    return {
        "operation": "pivot",
        "options": {
            "index": [index],
            "columns": [_column_label(c) for c in _as_list(columns)],
            "aggregates": {m: {"operator": "mean"} for m in metrics},
            "drop_missing_columns": not form_data.get("show_empty_columns"),
        },
    }


def _rename(form_data: Json, query: Json) -> Any:
    metrics = _as_list(query.get("metrics"))
    columns = query.get("series_columns")
    if columns in (None, UNDEFINED):
        columns = query.get("columns")
    columns = _as_list(columns)
    compare = _as_list(form_data.get("time_compare"))
    if not metrics or _x_axis_label(form_data) in (UNDEFINED, None, ""):
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
            "columns": {_metric_label(metrics[0]): None},
            "level": 0,
            "inplace": True,
        },
    }


def _sort(form_data: Json) -> Any:
    index = _x_axis_label(form_data)
    labels = [
        index,
        *(_metric_label(m) for m in _as_list(form_data.get("metrics"))),
        *(_metric_label(m) for m in _extra_metrics(form_data)),
    ]
    sort = form_data.get("x_axis_sort")
    ascending = form_data.get("x_axis_sort_asc")
    if sort is None or ascending is None or sort not in labels:
        return UNDEFINED
    if form_data.get("groupby"):
        return UNDEFINED
    if sort == index:
        return {
            "operation": "sort",
            "options": {"is_sort_index": True, "ascending": ascending},
        }
    return {"operation": "sort", "options": {"by": sort, "ascending": ascending}}


def _flatten() -> Json:
    return {"operation": "flatten"}


def _x_axis_columns(form_data: Json) -> list[Any]:
    return [form_data["x_axis"]] if _is_x_axis_set(form_data) else []


def build_big_number_total(form_data: Json) -> Json:
    """The KPI without a trend: the base query object as it is."""
    return _build_query_context(form_data, lambda query: [query])


def build_big_number(form_data: Json) -> Json:
    """The KPI with a trendline over its x-axis (aggregation LAST_VALUE only)."""
    if form_data.get("aggregation") not in (None, "LAST_VALUE"):
        raise BundleError("big_number: only the LAST_VALUE aggregation is supported")
    axis = _x_axis_columns(form_data)

    def build(query: Json) -> list[Json]:
        shaped = {**query, "columns": list(axis)}
        if not axis:
            shaped["is_timeseries"] = True
        shaped["post_processing"] = [_pivot(form_data, query), _flatten()]
        return [shaped]

    return _build_query_context(form_data, build)


def build_timeseries(form_data: Json) -> Json:
    """Bar, line and the other ECharts timeseries charts."""
    groupby = form_data.get("groupby", UNDEFINED)

    def build(query: Json) -> list[Json]:
        shaped = {
            **query,
            "metrics": [*_as_list(query.get("metrics")), *_extra_metrics(form_data)],
            "columns": [*_x_axis_columns(form_data), *_as_list(groupby)],
            "series_columns": groupby,
        }
        if not _is_x_axis_set(form_data):
            shaped["is_timeseries"] = True
        shaped["orderby"] = _normalize_order_by(query)
        shaped["time_offsets"] = []
        shaped["post_processing"] = [
            _pivot(form_data, query),
            _rename(form_data, query),
            _sort(form_data),
            _flatten(),
        ]
        return [shaped]

    return _build_query_context(form_data, build)


def build_table(form_data: Json) -> Json:
    """The table chart, in aggregate or raw mode."""
    mode = _table_mode(form_data)
    if mode == "raw":
        form_data = {**form_data, "include_time": False}
    sort_metric = _as_list(form_data.get("timeseries_limit_metric"))
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

    return _build_query_context(form_data, build)


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
