"""The query_context port against payloads Superset 6.1.0 itself produced."""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import sync.chart_form_data
import sync.chart_query
import sync.chart_query_object
from sync.chart_query import REQUEST_KEYS, UNDEFINED, query_context
from sync.errors import BundleError

PAYLOADS = Path(__file__).with_name("chart_payloads")
SAVED = sorted(PAYLOADS.glob("*.yaml"))
REQUESTS = json.loads((PAYLOADS / "dashboard_requests.json").read_text("utf-8"))


def _saved(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return doc


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
def test_reproduces_what_the_chart_editor_saved(path: Path) -> None:
    chart = _saved(path)

    built = json.dumps(query_context(chart["params"]), indent=2) + "\n"

    assert built == chart["query_context"]


@pytest.mark.parametrize(
    "request_body",
    REQUESTS,
    ids=[
        f"{r['form_data']['viz_type']}-{r['form_data']['slice_id']}" for r in REQUESTS
    ],
)
def test_reproduces_what_the_dashboard_sent(request_body: dict[str, Any]) -> None:
    form_data = request_body["form_data"]
    params = {k: v for k, v in form_data.items() if k not in REQUEST_KEYS}

    built = query_context(params)

    # Key order included: the JSON text is the same.
    assert json.dumps(built) == json.dumps(request_body)


def test_the_recordings_cover_every_builder() -> None:
    kinds = {r["form_data"]["viz_type"] for r in REQUESTS}

    assert kinds == set(sync.chart_query.BUILDERS)


def _bar(**changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "datasource": "4__table",
        "viz_type": "echarts_timeseries_bar",
        "x_axis": "agent_name",
        "metrics": ["gci_credit"],
        "groupby": [],
        "adhoc_filters": [],
        "extra_form_data": {},
    }
    return params | changes


def test_sorting_by_an_undrawn_metric_queries_it_as_an_extra_metric() -> None:
    params = _bar(
        x_axis_sort="unit_credit",
        x_axis_sort_asc=False,
        timeseries_limit_metric="unit_credit",
    )

    (query,) = query_context(params)["queries"]

    assert query["metrics"] == ["gci_credit", "unit_credit"]
    assert query["orderby"] == [["unit_credit", False]]
    assert query["post_processing"][1] == {
        "operation": "sort",
        "options": {"by": "unit_credit", "ascending": False},
    }


def test_a_series_sort_is_left_to_the_chart_and_adds_no_query_step() -> None:
    params = _bar(metrics=["list_sides", "buy_sides"], x_axis_sort="sum")

    (query,) = query_context(params)["queries"]

    assert query["metrics"] == ["list_sides", "buy_sides"]
    assert [op["operation"] for op in query["post_processing"]] == [
        "pivot",
        "flatten",
    ]


def test_a_raw_table_asks_for_no_metric_and_orders_by_its_columns() -> None:
    params = {
        "datasource": "3__table",
        "viz_type": "table",
        "query_mode": "raw",
        "groupby": ["ignored"],
        "metrics": ["ignored"],
        "all_columns": ["loop_id", "problem"],
        "order_by_cols": ['["loop_id", true]'],
        "adhoc_filters": [],
        "include_time": False,
        "extra_form_data": {},
    }

    context = query_context(params)

    (query,) = context["queries"]
    assert "metrics" not in query
    assert query["columns"] == ["loop_id", "problem"]
    assert query["orderby"] == [["loop_id", True]]
    assert list(context["form_data"])[: len(params)] == list(params)


def test_a_simple_filter_becomes_a_filter_and_sql_a_where_clause() -> None:
    period = {
        "clause": "WHERE",
        "expressionType": "SIMPLE",
        "operator": "TEMPORAL_RANGE",
        "comparator": "Current year",
        "subject": "closing_date",
    }
    sql = {"clause": "WHERE", "expressionType": "SQL", "sqlExpression": "a -- b"}

    (query,) = query_context(_bar(adhoc_filters=[period, sql]))["queries"]

    assert query["filters"] == [
        {"col": "closing_date", "op": "TEMPORAL_RANGE", "val": "Current year"}
    ]
    assert query["extras"] == {"having": "", "where": "(a -- b\n)"}


@pytest.mark.parametrize(
    "change",
    [
        {"viz_type": "pie"},
        {"time_compare": ["1 year ago"]},
        {"rolling_type": "cumsum"},
        {"percent_metrics": ["gci"]},
        {"extra_form_data": {"time_range": "Last year"}},
    ],
    ids=["viz", "time-compare", "rolling", "percent", "override"],
)
def test_what_the_port_leaves_out_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(BundleError):
        query_context(_bar(**change))


def test_undefined_keys_are_left_out_as_json_stringify_does() -> None:
    (query,) = query_context(_bar())["queries"]

    # json.dumps would raise on an UNDEFINED left behind.
    assert json.dumps(query)
    assert not {"time_range", "granularity", "row_limit"} & set(query)
    assert UNDEFINED not in query["extras"].values()


@pytest.mark.parametrize(
    "module",
    [sync.chart_query, sync.chart_form_data, sync.chart_query_object],
    ids=lambda module: module.__name__,
)
def test_doctests(module: ModuleType) -> None:
    failures, attempted = doctest.testmod(module)

    assert attempted > 0
    assert failures == 0
