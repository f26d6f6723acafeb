"""The Postgres SQL Superset runs for each shipped chart and filter, to time it.

Reads a chart's query_context (what a dashboard asks for) and its dataset's
saved metrics from dashboards_export/, and writes the SELECT Superset 6.1
builds for it: metrics and grouped columns, time grains as date_trunc, the
chart's filters and WHERE, order, row limit, and the top-N series subquery.
Close enough to time; a shape it does not know is named, not guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sync.views.library import CHART_FUNCTIONS

GRAINS = {"P1D": "day", "P1W": "week", "P1M": "month", "P3M": "quarter", "P1Y": "year"}
# Superset's named time ranges, as [start, end) in SQL.
RANGES = {
    "Current year": (
        "date_trunc('year', current_date)",
        "date_trunc('year', current_date) + interval '1 year'",
    ),
    "Current month": (
        "date_trunc('month', current_date)",
        "date_trunc('month', current_date) + interval '1 month'",
    ),
    "Last week": ("current_date - interval '1 week'", "current_date"),
    "Last month": ("current_date - interval '1 month'", "current_date"),
    "Last quarter": ("current_date - interval '3 months'", "current_date"),
    "Last year": ("current_date - interval '1 year'", "current_date"),
}
_CALL = re.compile(r"(DATETRUNC|DATEADD|DATETIME)\(", re.IGNORECASE)
# Superset runs chart SQL with search_path set to the dataset's schema, where
# these functions resolve unqualified; here they are qualified instead.
_SCHEMA_FUNCTION = re.compile(
    rf"(?<![\w.])({'|'.join(sorted(CHART_FUNCTIONS))})\(", re.IGNORECASE
)


class UnknownShape(ValueError):
    """A query_context this translation does not cover."""


@dataclass(frozen=True)
class Dataset:
    """A Superset dataset: the table it reads and its saved metrics."""

    name: str
    table: str
    metrics: dict[str, str]


@dataclass(frozen=True)
class ChartQuery:
    """One query of one chart, as SQL over the schema `{schema}` placeholder."""

    chart: str
    dataset: str
    sql: str


def load_datasets(export_dir: Path) -> dict[str, Dataset]:
    """Datasets of the export by uuid."""
    found = {}
    for path in sorted((export_dir / "datasets").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        metrics = {m["metric_name"]: m["expression"] for m in data.get("metrics") or []}
        found[data["uuid"]] = Dataset(data["table_name"], data["table_name"], metrics)
    return found


def chart_queries(
    export_dir: Path,
) -> tuple[list[ChartQuery], list[tuple[str, str]]]:
    """Every query of every chart, and the charts left out with why."""
    datasets = load_datasets(export_dir)
    queries: list[ChartQuery] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted((export_dir / "charts").glob("*.yaml")):
        chart = yaml.safe_load(path.read_text("utf-8"))
        name = chart["slice_name"]
        dataset = datasets.get(chart.get("dataset_uuid", ""))
        if dataset is None:
            skipped.append((name, "its dataset is not in the export"))
            continue
        context = json.loads(chart["query_context"])
        try:
            for query in context["queries"]:
                queries.append(ChartQuery(name, dataset.name, _select(query, dataset)))
        except (UnknownShape, KeyError) as exc:
            skipped.append((name, f"not translated: {exc}"))
    return queries, skipped


# Superset's filter_select asks for at most this many values.
FILTER_VALUE_LIMIT = 1000


def filter_queries(export_dir: Path) -> list[ChartQuery]:
    """The query each select filter runs for the values it offers, once a filter.

    A dashboard sends it when the filter bar opens: the filter's column
    grouped, in ascending order, up to Superset's filter row limit.
    """
    datasets = load_datasets(export_dir)
    queries: dict[str, ChartQuery] = {}
    for path in sorted((export_dir / "dashboards").glob("*.yaml")):
        dashboard = yaml.safe_load(path.read_text("utf-8"))
        metadata = dashboard.get("metadata") or {}
        for native in metadata.get("native_filter_configuration") or []:
            if native.get("filterType") != "filter_select":
                continue
            (target,) = native["targets"]
            dataset = datasets[target["datasetUuid"]]
            column = _quote(target["column"]["name"])
            queries[native["id"]] = ChartQuery(
                f"filter {native['name']}",
                dataset.name,
                f"SELECT {column} FROM {{schema}}.{dataset.table} "
                f"GROUP BY {column} ORDER BY {column} ASC "
                f"LIMIT {FILTER_VALUE_LIMIT}",
            )
    return list(queries.values())


def _select(query: dict[str, Any], dataset: Dataset) -> str:
    columns = [_column(c) for c in query.get("columns") or []]
    metrics = [_metric(m, dataset) for m in query.get("metrics") or []]
    table = f"{{schema}}.{dataset.table}"
    where = _where(query)
    items = [f"{sql} AS {_quote(label)}" for sql, label in columns + metrics]
    text = f"SELECT {', '.join(items)} FROM {table}"
    series = _series_join(query, columns, metrics, table, where)
    if series:
        text += series
    if where:
        text += f" WHERE {' AND '.join(where)}"
    if metrics and columns:
        text += f" GROUP BY {', '.join(sql for sql, _ in columns)}"
    # A table of raw rows (no metrics) orders by its columns, never a metric.
    order = [
        _order(item, dataset, bool(metrics)) for item in query.get("orderby") or []
    ]
    if order:
        text += f" ORDER BY {', '.join(order)}"
    if query.get("row_limit"):
        text += f" LIMIT {int(query['row_limit'])}"
    return text


def _column(column: Any) -> tuple[str, str]:
    if isinstance(column, str):
        return _quote(column), column
    expression = column["sqlExpression"]
    grain = column.get("timeGrain")
    if grain:
        if grain not in GRAINS:
            raise UnknownShape(f"time grain {grain}")
        expression = f"date_trunc('{GRAINS[grain]}', {expression})"
    return expression, column.get("label") or column["sqlExpression"]


def _metric(metric: Any, dataset: Dataset) -> tuple[str, str]:
    if isinstance(metric, str):
        if metric not in dataset.metrics:
            raise UnknownShape(f"metric {metric!r} is not saved in {dataset.name}")
        return dataset.metrics[metric], metric
    if metric.get("expressionType") == "SQL":
        return metric["sqlExpression"], metric["label"]
    column = metric["column"]["column_name"]
    return f"{metric['aggregate']}({_quote(column)})", metric["label"]


def _where(query: dict[str, Any]) -> list[str]:
    clauses = []
    for item in query.get("filters") or []:
        clauses += _filter(item)
    extra = (query.get("extras") or {}).get("where")
    if extra:
        qualified = _SCHEMA_FUNCTION.sub(r"{schema}.\1(", extra)
        clauses.append(f"({qualified})")
    return clauses


def _filter(item: dict[str, Any]) -> list[str]:
    column, op, value = _quote(item["col"]), item["op"], item.get("val")
    if op == "TEMPORAL_RANGE":
        bounds = _time_range(value)
        if bounds is None:
            return []
        start, end = bounds
        return [f"{column} >= {start}", f"{column} < {end}"]
    if op in ("==", "!=", ">", "<", ">=", "<="):
        sql_op = "=" if op == "==" else op
        return [f"{column} {sql_op} {_literal(value)}"]
    if op in ("IN", "NOT IN"):
        values = ", ".join(_literal(v) for v in value or [])
        return [f"{column} {op} ({values})"]
    raise UnknownShape(f"filter operator {op}")


def _time_range(value: Any) -> tuple[str, str] | None:
    if value in (None, "No filter", "No filter : No filter"):
        return None
    if value in RANGES:
        return RANGES[value]
    parts = str(value).split(" : ")
    if len(parts) != 2:
        raise UnknownShape(f"time range {value!r}")
    return _time_expression(parts[0]), _time_expression(parts[1])


def _time_expression(text: str) -> str:
    """DATETRUNC / DATEADD / DATETIME('today') of Superset's ranges, as SQL.

    >>> _time_expression("DATETRUNC(DATEADD(DATETIME('today'), -1, YEAR), YEAR)")
    "date_trunc('year', (current_date + interval '-1 year'))"
    """
    text = text.strip()
    match = _CALL.match(text)
    if match is None or not text.endswith(")"):
        raise UnknownShape(f"time expression {text!r}")
    name = match.group(1).upper()
    arguments = _split_arguments(text[match.end() : -1])
    if name == "DATETIME":
        if arguments != ["'today'"] and arguments != ['"today"']:
            raise UnknownShape(f"time expression {text!r}")
        return "current_date"
    if name == "DATEADD":
        inner, amount, unit = arguments
        return f"({_time_expression(inner)} + interval '{int(amount)} {unit.lower()}')"
    inner, unit = arguments
    return f"date_trunc('{unit.lower()}', {_time_expression(inner)})"


def _split_arguments(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    parts.append(current.strip())
    return parts


def _series_join(
    query: dict[str, Any],
    columns: list[tuple[str, str]],
    metrics: list[tuple[str, str]],
    table: str,
    where: list[str],
) -> str:
    """The inner query that keeps the top series_limit series, as Superset's."""
    limit = query.get("series_limit") or 0
    series = query.get("series_columns") or []
    if not limit or not series or not metrics:
        return ""
    pairs = [(_quote(name), _quote(name + "__")) for name in series]
    selected = ", ".join(f"{column} AS {alias}" for column, alias in pairs)
    inner = f"SELECT {selected}, {metrics[0][0]} AS mme_inner__ FROM {table}"
    if where:
        inner += f" WHERE {' AND '.join(where)}"
    grouped = ", ".join(column for column, _ in pairs)
    inner += f" GROUP BY {grouped} ORDER BY mme_inner__ DESC LIMIT {limit}"
    on = " AND ".join(f"{column} = series_limit.{alias}" for column, alias in pairs)
    return f" JOIN ({inner}) AS series_limit ON {on}"


def _order(item: list[Any], dataset: Dataset, aggregated: bool) -> str:
    key, ascending = item
    if isinstance(key, str):
        saved = dataset.metrics.get(key) if aggregated else None
        expression = saved or _quote(key)
    else:
        expression = _metric(key, dataset)[0]
    return f"{expression} {'ASC' if ascending else 'DESC'}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
