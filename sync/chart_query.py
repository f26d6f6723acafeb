"""The query_context Superset 6.1's chart editor saves for a chart's params.

The chart editor turns a chart's form data (the `params` of a bundle) into
a query context with the `buildQuery` of the chart's plugin; Superset stores
that JSON and an embedded (guest) user may run nothing else. This is a port
of the 6.1.0 frontend code that does it, kept to the features our charts
use, in four parts: JavaScript's reading of form data (chart_form_data),
the base query object and context of superset-ui core (chart_query_object),
chart-controls' post-processing operators (chart_post_processing) and the
buildQuery of the plugins listed in BUILDERS (chart_builders). A form data
asking for anything else (time comparison, rolling windows, percent
metrics...) raises BundleError rather than produce a payload the editor
would not.

JavaScript's `undefined` is UNDEFINED here: a key holding it keeps its
place in the object but is left out of the JSON, as JSON.stringify does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .chart_builders import BUILDERS
from .chart_form_data import UNDEFINED, Json, strip_undefined
from .errors import BundleError

__all__ = ["BUILDERS", "REQUEST_KEYS", "UNDEFINED", "query_context"]

# What the editor adds to the form data when it asks for a chart's data.
REQUEST_KEYS: Json = {"force": False, "result_format": "json", "result_type": "full"}

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
    context: Json = strip_undefined(BUILDERS[viz_type](form_data))
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
