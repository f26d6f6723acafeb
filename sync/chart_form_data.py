"""Form data as the chart editor's JavaScript reads it: undefined, labels, x-axis.

The query_context port (chart_query) mirrors frontend code, so it needs
JavaScript's view of a value: `undefined` beside `null`, `||` and `??`,
destructuring defaults, and the labels Superset derives from columns and
metrics. These helpers are shared by the query object, its post-processing
and the per-chart builders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Json = dict[str, Any]


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


# JavaScript's `undefined`: a key holding it keeps its place in the object
# but is left out of the JSON, as JSON.stringify does.
UNDEFINED: Any = _Undefined()


def strip_undefined(value: Any) -> Any:
    """JSON.stringify's view of a value: UNDEFINED keys left out.

    >>> strip_undefined({"a": UNDEFINED, "b": [UNDEFINED, 1]})
    {'b': [None, 1]}
    """
    if isinstance(value, dict):
        return {k: strip_undefined(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [None if v is UNDEFINED else strip_undefined(v) for v in value]
    return value


def js_or(value: Any, fallback: Any, *, nullish: bool = False) -> Any:
    """JavaScript's `value || fallback` (or `value ?? fallback` when nullish).

    >>> js_or({}, "x"), js_or("", "x"), js_or(0, "x", nullish=True)
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


def default(form_data: Json, key: str, value: Any) -> Any:
    """A destructuring default: it applies to a missing key, not to null."""
    return form_data.get(key, value)


def number(value: Any) -> Any:
    """JavaScript's Number() of a form value; UNDEFINED for what is not one.

    >>> number("10"), number(2.5), number(None), number("n/a")
    (10, 2.5, UNDEFINED, UNDEFINED)
    """
    if value is None:
        return UNDEFINED
    try:
        return int(value) if float(value) == int(float(value)) else float(value)
    except (TypeError, ValueError):
        return UNDEFINED


def as_list(value: Any) -> list[Any]:
    """Nothing, one item or a list, as a list."""
    if value is None or value is UNDEFINED:
        return []
    return value if isinstance(value, list) else [value]


def unique(items: list[Any], label: Callable[[Any], Any]) -> list[Any]:
    """Items whose label was not seen before, in order."""
    seen: set[Any] = set()
    kept = []
    for item in items:
        key = label(item)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def is_metric(value: Any) -> bool:
    """A saved metric name or an adhoc (SIMPLE or SQL) metric."""
    if isinstance(value, str):
        return True
    return isinstance(value, dict) and value.get("expressionType") in ("SIMPLE", "SQL")


def column_label(column: Any) -> Any:
    """The label Superset gives a physical or adhoc column."""
    if isinstance(column, str):
        return column
    return column.get("label") or column.get("sqlExpression")


def metric_label(metric: Any) -> Any:
    """The label Superset gives a metric: its name, label or `AGG(column)`.

    >>> metric_label({"expressionType": "SIMPLE", "aggregate": "SUM",
    ...               "column": {"column_name": "gci"}})
    'SUM(gci)'
    """
    if isinstance(metric, str):
        return metric
    if metric.get("label"):
        return metric["label"]
    if metric.get("expressionType") == "SIMPLE":
        column = metric["column"]
        name = column.get("columnName") or column.get("column_name")
        return f"{metric['aggregate']}({name})"
    return metric.get("sqlExpression")


def is_adhoc_column(value: Any) -> bool:
    """A SQL expression with a label standing in for a column."""
    return (
        isinstance(value, dict)
        and "sqlExpression" in value
        and "label" in value
        and value.get("expressionType", "SQL") == "SQL"
    )


def is_x_axis_set(form_data: Json) -> bool:
    """Whether the chart has an x-axis column (the generic-x-axis charts)."""
    x_axis = form_data.get("x_axis")
    return isinstance(x_axis, str) or is_adhoc_column(x_axis)


def x_axis_label(form_data: Json) -> Any:
    """The x-axis' label, `__timestamp` for a legacy time column, else UNDEFINED."""
    if not (form_data.get("granularity_sqla") or form_data.get("x_axis")):
        return UNDEFINED
    if is_x_axis_set(form_data):
        return column_label(form_data["x_axis"])
    return "__timestamp"


def x_axis_columns(form_data: Json) -> list[Any]:
    """The x-axis as a list of query columns (empty without one)."""
    return [form_data["x_axis"]] if is_x_axis_set(form_data) else []
