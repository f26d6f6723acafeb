"""Check a dashboard bundle the way Superset 6.1's import will, before it does.

Every problem names the file inside the bundle and the key: one root folder,
metadata.yaml's version and type, each file's keys against the import
schemas (sync/bundle_schema.py), query_context a JSON string built from the
chart's own params and dataset, every uuid reference resolved (dashboard ->
chart -> dataset -> database, native filters -> dataset), and no password
in a database's sqlalchemy_uri other than Superset's mask.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml

from .bundle_schema import METADATA, SPECS, key_problems

BUNDLE_VERSION = "1.0.0"
BUNDLE_TYPE = "assets"
# What Superset writes in place of a password it will not export.
PASSWORD_MASK = "X" * 10
ASSET_KINDS = ("databases", "datasets", "charts", "dashboards")
# Keys the chart editor adds to form_data when it builds the query_context.
_REQUEST_KEYS = ("force", "result_format", "result_type")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_SUFFIXES = (".yaml", ".yml")

Doc = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """One reason Superset would refuse (or mis-import) a bundle."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


def validate_bundle_file(path: Path) -> list[Problem]:
    """Every problem of the bundle zip at `path`; empty when it is sound."""
    try:
        with zipfile.ZipFile(path) as bundle:
            names = [n for n in bundle.namelist() if not n.endswith("/")]
            contents = {name: bundle.read(name) for name in names}
    except (OSError, zipfile.BadZipFile) as exc:
        return [Problem(path.name, "", f"not a readable zip file ({exc})")]
    problems = _root_problems(names)
    if problems:
        return problems
    files = {
        PurePosixPath(*PurePosixPath(name).parts[1:]).as_posix(): content
        for name, content in contents.items()
        if _is_config(name)
    }
    return check_files(files)


def _root_problems(names: list[str]) -> list[Problem]:
    roots = {PurePosixPath(name).parts[0] for name in names}
    if len(roots) != 1:
        found = ", ".join(sorted(roots)) or "nothing"
        return [Problem("/", "", f"expected one root folder, found {found}")]
    loose = [name for name in names if len(PurePosixPath(name).parts) < 2]
    return [Problem(name, "", "outside the root folder") for name in loose]


def _is_config(name: str) -> bool:
    # Superset skips hidden files and anything that is not YAML.
    base = PurePosixPath(name).name
    return not base.startswith((".", "_")) and base.lower().endswith(_YAML_SUFFIXES)


def check_files(files: Mapping[str, bytes]) -> list[Problem]:
    """Every problem of a bundle given as {path inside the root: content}."""
    problems: list[Problem] = []
    docs: dict[str, Doc] = {}
    for name, content in sorted(files.items()):
        doc = _parse(name, content, problems)
        if doc is not None:
            docs[name] = doc
    _check_metadata(docs.pop("metadata.yaml", None), problems)
    assets = _assets_by_kind(docs, problems)
    for kind, by_name in assets.items():
        for name, doc in by_name.items():
            problems += _keys(name, doc, kind)
    uuids = _check_uuids(assets, problems)
    for name, doc in assets["databases"].items():
        _check_database(name, doc, problems)
    for name, doc in assets["datasets"].items():
        _check_ref(name, doc, "database_uuid", uuids["databases"], problems)
    datasets = {_norm(d.get("uuid")): d for d in assets["datasets"].values()}
    datasources: dict[str, str] = {}
    for name, doc in assets["charts"].items():
        if _check_ref(name, doc, "dataset_uuid", uuids["datasets"], problems):
            dataset = datasets[_norm(doc["dataset_uuid"])]
            _check_chart(name, doc, dataset, datasources, problems)
    for name, doc in assets["dashboards"].items():
        _check_dashboard(name, doc, uuids, problems)
    return problems


def _parse(name: str, content: bytes, problems: list[Problem]) -> Doc | None:
    try:
        doc = yaml.load(content.decode("utf-8"), Loader=_YAML_LOADER)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(name, "", f"not valid YAML ({exc})"))
        return None
    if not isinstance(doc, dict):
        problems.append(Problem(name, "", "expected a mapping at the top level"))
        return None
    return doc


def _check_metadata(metadata: Doc | None, problems: list[Problem]) -> None:
    name = "metadata.yaml"
    if metadata is None:
        problems.append(Problem(name, "", "metadata.yaml is missing"))
        return
    problems += _keys(name, metadata, "metadata")
    if str(metadata.get("version")) != BUNDLE_VERSION:
        message = f"version must be {BUNDLE_VERSION}"
        problems.append(Problem(name, "version", message))
    if metadata.get("type", BUNDLE_TYPE) != BUNDLE_TYPE:
        message = f"type must be {BUNDLE_TYPE} (an assets import)"
        problems.append(Problem(name, "type", message))


def _keys(name: str, doc: Doc, kind: str) -> list[Problem]:
    spec = METADATA if kind == "metadata" else SPECS[kind]
    found = []
    for text in key_problems(doc, spec):
        key, message = text.split(": ", 1)
        found.append(Problem(name, key, message))
    return found


def _assets_by_kind(
    docs: Mapping[str, Doc], problems: list[Problem]
) -> dict[str, dict[str, Doc]]:
    assets: dict[str, dict[str, Doc]] = {kind: {} for kind in ASSET_KINDS}
    for name, doc in docs.items():
        kind = name.split("/", 1)[0]
        if kind not in assets or "/" not in name:
            message = f"not under one of {', '.join(ASSET_KINDS)}"
            problems.append(Problem(name, "", message))
            continue
        assets[kind][name] = doc
    return assets


def _check_uuids(
    assets: Mapping[str, Mapping[str, Doc]], problems: list[Problem]
) -> dict[str, set[str]]:
    seen: dict[str, str] = {}
    by_kind: dict[str, set[str]] = {}
    for kind, docs in assets.items():
        by_kind[kind] = set()
        for name, doc in docs.items():
            if "version" in doc and str(doc["version"]) != BUNDLE_VERSION:
                message = f"version must be {BUNDLE_VERSION}"
                problems.append(Problem(name, "version", message))
            value = _uuid(name, doc, "uuid", problems)
            if value is None:
                continue
            if value in seen:
                message = f"uuid {value} is also used by {seen[value]}"
                problems.append(Problem(name, "uuid", message))
            seen[value] = name
            by_kind[kind].add(value)
    return by_kind


def _norm(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def _uuid(
    name: str,
    doc: Mapping[str, Any],
    key: str,
    problems: list[Problem],
    at: str = "",
) -> str | None:
    if key not in doc:
        return None  # the key check reports a missing required key
    try:
        return str(uuid.UUID(str(doc[key])))
    except ValueError:
        problems.append(Problem(name, at + key, "must be a uuid"))
        return None


def _check_ref(
    name: str,
    doc: Mapping[str, Any],
    key: str,
    known: set[str],
    problems: list[Problem],
    at: str = "",
) -> bool:
    value = _uuid(name, doc, key, problems, at)
    if value is None:
        return False
    if value not in known:
        message = f"{key} {doc[key]} is not in the bundle"
        problems.append(Problem(name, at + key, message))
        return False
    return True


def _check_database(name: str, doc: Mapping[str, Any], problems: list[Problem]) -> None:
    if doc.get("password"):
        message = "password must not be in the bundle; pass it at import"
        problems.append(Problem(name, "password", message))
    uri = doc.get("sqlalchemy_uri")
    if not isinstance(uri, str):
        message = "sqlalchemy_uri must be a string"
        problems.append(Problem(name, "sqlalchemy_uri", message))
        return
    try:
        password = urlsplit(uri).password
    except ValueError:
        password = None
    if password not in (None, PASSWORD_MASK):
        message = f"sqlalchemy_uri holds a password; mask it as {PASSWORD_MASK}"
        problems.append(Problem(name, "sqlalchemy_uri", message))


def _check_chart(
    name: str,
    chart: Mapping[str, Any],
    dataset: Mapping[str, Any],
    datasources: dict[str, str],
    problems: list[Problem],
) -> None:
    def problem(key: str, message: str) -> None:
        problems.append(Problem(name, key, message))

    params = chart.get("params")
    if not isinstance(params, dict):
        problem("params", "params must be a mapping")
        return
    context = _query_context(name, chart, problems)
    if context is None:
        return
    datasource = str(params.get("datasource", ""))
    owner = datasources.setdefault(datasource, _norm(chart["dataset_uuid"]))
    if owner != _norm(chart["dataset_uuid"]):
        problem(
            "params.datasource",
            f"datasource {datasource} names another dataset in a different chart",
        )
    ref = context.get("datasource") or {}
    if f"{ref.get('id')}__{ref.get('type')}" != datasource:
        problem(
            "query_context.datasource",
            "query_context.datasource does not match params.datasource",
        )
    form_data = {
        k: v for k, v in context.get("form_data", {}).items() if k not in _REQUEST_KEYS
    }
    if form_data != params:
        problem(
            "query_context.form_data",
            "query_context was built from other params; save the chart in "
            "Superset and export it again",
        )
    for index, query in enumerate(context.get("queries") or []):
        at = f"query_context.queries[{index}]"
        for key, message in _query_field_problems(query, dataset):
            problem(f"{at}.{key}", message)


def _query_context(
    name: str, chart: Mapping[str, Any], problems: list[Problem]
) -> dict[str, Any] | None:
    raw = chart.get("query_context")
    if not isinstance(raw, str):
        message = "query_context must be a JSON string"
        problems.append(Problem(name, "query_context", message))
        return None
    try:
        context = json.loads(raw)
    except ValueError as exc:
        message = f"query_context is not JSON ({exc})"
        problems.append(Problem(name, "query_context", message))
        return None
    if not isinstance(context, dict) or not context.get("queries"):
        message = "query_context has no queries"
        problems.append(Problem(name, "query_context", message))
        return None
    return context


def _query_field_problems(
    query: Mapping[str, Any], dataset: Mapping[str, Any]
) -> list[tuple[str, str]]:
    table = dataset.get("table_name")
    metrics = {m.get("metric_name") for m in dataset.get("metrics") or []}
    columns = {c.get("column_name") for c in dataset.get("columns") or []}
    found = [
        ("metrics", f"metric {metric!r} is not in dataset {table}")
        for metric in query.get("metrics") or []
        if isinstance(metric, str) and metric not in metrics
    ]
    # A raw table orders by columns, an aggregate query by metrics.
    found += [
        ("orderby", f"{name!r} is neither a metric nor a column of {table}")
        for name in (order[0] for order in query.get("orderby") or [])
        if isinstance(name, str) and name not in metrics | columns
    ]
    for column in query.get("columns") or []:
        if isinstance(column, dict):
            if not column.get("isColumnReference"):
                continue
            column = column.get("sqlExpression")
        if column not in columns:
            found.append(("columns", f"column {column!r} is not in dataset {table}"))
    return found


def _check_dashboard(
    name: str,
    dashboard: Mapping[str, Any],
    uuids: Mapping[str, set[str]],
    problems: list[Problem],
) -> None:
    position = dashboard.get("position")
    if not isinstance(position, dict):
        problems.append(Problem(name, "position", "position must be a mapping"))
        return
    for key, item in position.items():
        if isinstance(item, dict) and item.get("type") == "CHART":
            meta = item.get("meta") or {}
            at = f"position.{key}.meta."
            if "chartId" not in meta:
                problems.append(Problem(name, at + "chartId", "chartId is missing"))
            if "uuid" not in meta:
                problems.append(Problem(name, at + "uuid", "uuid is missing"))
            _check_ref(name, meta, "uuid", uuids["charts"], problems, at)
    metadata = dashboard.get("metadata") or {}
    filters = metadata.get("native_filter_configuration") or []
    for index, native_filter in enumerate(filters):
        for number, target in enumerate(native_filter.get("targets") or []):
            at = f"metadata.native_filter_configuration[{index}].targets[{number}]."
            if "datasetUuid" in target:
                known = uuids["datasets"]
                _check_ref(name, target, "datasetUuid", known, problems, at)
