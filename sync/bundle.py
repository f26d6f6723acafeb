"""The Superset dashboard bundle: dashboards_export/ rendered into an import zip.

The sources are Superset's own export layout (format 1.0.0) with two
placeholders, __SQLALCHEMY_URI__ and __REPORTING_SCHEMA__, filled in per
environment. The zip is byte-for-byte reproducible: files in sorted order,
fixed timestamps, stored uncompressed. Every build is checked before it is
written: YAML parses, uuid references resolve, each chart's query_context
belongs to its params and dataset, and no database password is in it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import yaml

from .errors import BundleError, ConfigurationError
from .settings import Settings

logger = logging.getLogger(__name__)

BUNDLE_ROOT = "dotloop_reporter_dashboards"
BUNDLE_VERSION = "1.0.0"
BUNDLE_FILE_NAME = f"{BUNDLE_ROOT}.zip"
# What Superset writes in place of a password it will not export.
PASSWORD_MASK = "X" * 10
DATABASE_FILE = "databases/Dotloop_Reporting.yaml"

ASSET_KINDS = ("databases", "datasets", "charts", "dashboards")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_PLACEHOLDER = re.compile(r"__([A-Z][A-Z0-9_]*)__")
# Keys the chart editor adds to form_data when it builds the query_context.
_REQUEST_KEYS = ("force", "result_format", "result_type")
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}
# libyaml's loader when PyYAML has it: same documents, several times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def build_bundle(
    settings: Settings, output: Path, *, database_uri: str | None = None
) -> Path:
    """Write the bundle zip to `output` (a .zip path or a directory); return it.

    `database_uri` is any URL of the reporting database (default: DATABASE_URL);
    the bundle connects as settings.reporting_reader_role with a masked
    password, which the import receives separately (bundle_passwords).
    """
    if database_uri is None:
        if settings.database_url is None:
            raise ConfigurationError(
                "DATABASE_URL is not set: the bundle needs the reporting "
                "database's address"
            )
        database_uri = settings.database_url.reveal()
    values = {
        "SQLALCHEMY_URI": superset_database_uri(
            database_uri, settings.reporting_reader_role
        ),
        "REPORTING_SCHEMA": settings.reporting_schema,
    }
    files = render_sources(settings.dashboards_dir, values)
    validate_bundle(files)

    target = output / BUNDLE_FILE_NAME if output.is_dir() else output
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(zip_bytes(files))
    os.replace(partial, target)
    logger.info("wrote dashboard bundle %s (%d files)", target, len(files))
    return target


def bundle_passwords(settings: Settings) -> dict[str, str]:
    """The `passwords` form field of the import: the reader's password by file."""
    if settings.reporting_reader_password is None:
        raise ConfigurationError(
            "REPORTING_READER_PASSWORD is not set: Superset needs it to connect "
            f"to the reporting database as {settings.reporting_reader_role}"
        )
    return {DATABASE_FILE: settings.reporting_reader_password.reveal()}


def superset_database_uri(database_url: str, user: str) -> str:
    """The psycopg2 URL of the same database as `user`, password masked.

    >>> superset_database_uri("postgresql://app:pw@127.0.0.1:5432/db", "reader")
    'postgresql+psycopg2://reader:XXXXXXXXXX@127.0.0.1:5432/db'
    >>> superset_database_uri("postgresql://postgres:@/db?host=/tmp/pg", "reader")
    'postgresql+psycopg2://reader:XXXXXXXXXX@/db?host=/tmp/pg'
    """
    parts = urlsplit(database_url)
    scheme = parts.scheme.lower()
    if scheme not in _POSTGRES_SCHEMES | {"postgresql+psycopg2"}:
        raise ConfigurationError(
            f"the reporting database must be PostgreSQL, not {parts.scheme!r}"
        )
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise ConfigurationError("the reporting database URL has a bad port") from None
    netloc = f"{quote(user, safe='')}:{PASSWORD_MASK}@{host}{port}"
    return urlunsplit(("postgresql+psycopg2", netloc, parts.path, parts.query, ""))


def render_sources(source_dir: Path, values: Mapping[str, str]) -> dict[str, bytes]:
    """Every YAML file under `source_dir` by bundle path, placeholders filled."""
    if not (source_dir / "metadata.yaml").is_file():
        raise BundleError(f"{source_dir} holds no metadata.yaml: not a bundle source")
    files: dict[str, bytes] = {}
    for path in sorted(source_dir.rglob("*.yaml")):
        name = path.relative_to(source_dir).as_posix()
        text = path.read_text(encoding="utf-8")
        files[name] = _fill(name, text, values).encode("utf-8")
    return files


def _fill(name: str, text: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise BundleError(f"{name}: unknown placeholder __{key}__")
        # A JSON string is a valid double-quoted YAML scalar.
        return json.dumps(values[key])

    return _PLACEHOLDER.sub(value, text)


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """The zip of `files` under one root folder, identical for identical input."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{name}", date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            bundle.writestr(info, files[name])
    return buffer.getvalue()


def read_bundle(path: Path) -> dict[str, bytes]:
    """The files of a bundle zip by path inside the root folder."""
    try:
        with zipfile.ZipFile(path) as bundle:
            return {
                PurePosixPath(*PurePosixPath(name).parts[1:]).as_posix(): bundle.read(
                    name
                )
                for name in bundle.namelist()
                if not name.endswith("/")
            }
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{path} is not a zip file ({exc})") from exc


def validate_bundle(files: Mapping[str, bytes]) -> None:
    """Raise BundleError, naming the file and key, unless the bundle is sound."""
    docs = {name: _parse(name, content) for name, content in files.items()}
    _check_metadata(docs)
    assets = _assets_by_kind(docs)
    uuids = _check_uuids(assets)
    for name, doc in assets["databases"].items():
        _check_database(name, doc)
    for name, doc in assets["datasets"].items():
        _check_ref(name, doc, "database_uuid", uuids["databases"])
    datasets = {str(doc["uuid"]): doc for doc in assets["datasets"].values()}
    datasources: dict[str, str] = {}
    for name, doc in assets["charts"].items():
        _check_ref(name, doc, "dataset_uuid", uuids["datasets"])
        _check_chart(name, doc, datasets[str(doc["dataset_uuid"])], datasources)
    for name, doc in assets["dashboards"].items():
        _check_dashboard(name, doc, uuids)


def _parse(name: str, content: bytes) -> dict[str, Any]:
    try:
        doc = yaml.load(content.decode("utf-8"), Loader=_YAML_LOADER)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BundleError(f"{name}: not valid YAML ({exc})") from exc
    if not isinstance(doc, dict):
        raise BundleError(f"{name}: expected a mapping at the top level")
    return doc


def _check_metadata(docs: Mapping[str, dict[str, Any]]) -> None:
    metadata = docs.get("metadata.yaml")
    if metadata is None:
        raise BundleError("metadata.yaml is missing")
    if str(metadata.get("version")) != BUNDLE_VERSION:
        raise BundleError(f"metadata.yaml: version must be {BUNDLE_VERSION}")
    if metadata.get("type", "assets") != "assets":
        raise BundleError("metadata.yaml: type must be assets")


def _assets_by_kind(
    docs: Mapping[str, dict[str, Any]],
) -> dict[str, dict[str, dict[str, Any]]]:
    assets: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in ASSET_KINDS}
    for name, doc in docs.items():
        if name == "metadata.yaml":
            continue
        kind = name.split("/", 1)[0]
        if kind not in assets or "/" not in name:
            raise BundleError(f"{name}: not under one of {', '.join(ASSET_KINDS)}")
        assets[kind][name] = doc
    return assets


def _check_uuids(
    assets: Mapping[str, Mapping[str, dict[str, Any]]],
) -> dict[str, set[str]]:
    seen: dict[str, str] = {}
    by_kind: dict[str, set[str]] = {}
    for kind, docs in assets.items():
        by_kind[kind] = set()
        for name, doc in docs.items():
            if str(doc.get("version")) != BUNDLE_VERSION:
                raise BundleError(f"{name}: version must be {BUNDLE_VERSION}")
            value = _uuid(name, doc, "uuid")
            if value in seen:
                raise BundleError(f"{name}: uuid {value} is also used by {seen[value]}")
            seen[value] = name
            by_kind[kind].add(value)
    return by_kind


def _uuid(name: str, doc: Mapping[str, Any], key: str) -> str:
    try:
        return str(uuid.UUID(str(doc[key])))
    except (KeyError, ValueError):
        raise BundleError(f"{name}: {key} must be a uuid") from None


def _check_ref(name: str, doc: Mapping[str, Any], key: str, known: set[str]) -> None:
    if _uuid(name, doc, key) not in known:
        raise BundleError(f"{name}: {key} {doc[key]} is not in the bundle")


def _check_database(name: str, doc: Mapping[str, Any]) -> None:
    if doc.get("password"):
        raise BundleError(f"{name}: password must not be in the bundle")
    uri = doc.get("sqlalchemy_uri")
    if not isinstance(uri, str):
        raise BundleError(f"{name}: sqlalchemy_uri must be a string")
    password = urlsplit(uri).password
    if password not in (None, PASSWORD_MASK):
        raise BundleError(f"{name}: sqlalchemy_uri holds a password; mask it")


def _check_chart(
    name: str,
    chart: Mapping[str, Any],
    dataset: Mapping[str, Any],
    datasources: dict[str, str],
) -> None:
    params = chart.get("params")
    if not isinstance(params, dict):
        raise BundleError(f"{name}: params must be a mapping")
    context = _query_context(name, chart)
    datasource = str(params.get("datasource", ""))
    owner = datasources.setdefault(datasource, str(chart["dataset_uuid"]))
    if owner != str(chart["dataset_uuid"]):
        raise BundleError(
            f"{name}: params.datasource {datasource} names another dataset "
            "in a different chart"
        )
    ref = context.get("datasource") or {}
    if f"{ref.get('id')}__{ref.get('type')}" != datasource:
        raise BundleError(
            f"{name}: query_context.datasource does not match params.datasource"
        )
    form_data = {
        k: v for k, v in context.get("form_data", {}).items() if k not in _REQUEST_KEYS
    }
    if form_data != params:
        raise BundleError(
            f"{name}: query_context was built from other params; save the chart "
            "in Superset and export it again"
        )
    for query in context.get("queries") or []:
        _check_query_fields(name, query, dataset)


def _query_context(name: str, chart: Mapping[str, Any]) -> dict[str, Any]:
    raw = chart.get("query_context")
    if not isinstance(raw, str):
        raise BundleError(f"{name}: query_context must be a JSON string")
    try:
        context = json.loads(raw)
    except ValueError as exc:
        raise BundleError(f"{name}: query_context is not JSON ({exc})") from exc
    if not isinstance(context, dict) or not context.get("queries"):
        raise BundleError(f"{name}: query_context has no queries")
    return context


def _check_query_fields(
    name: str, query: Mapping[str, Any], dataset: Mapping[str, Any]
) -> None:
    metrics = {m["metric_name"] for m in dataset.get("metrics") or []}
    columns = {c["column_name"] for c in dataset.get("columns") or []}
    used_metrics = list(query.get("metrics") or [])
    used_metrics += [order[0] for order in query.get("orderby") or []]
    for metric in used_metrics:
        if isinstance(metric, str) and metric not in metrics:
            raise BundleError(
                f"{name}: metric {metric!r} is not in dataset {dataset['table_name']}"
            )
    for column in query.get("columns") or []:
        if isinstance(column, dict):
            if not column.get("isColumnReference"):
                continue
            column = column.get("sqlExpression")
        if column not in columns:
            raise BundleError(
                f"{name}: column {column!r} is not in dataset {dataset['table_name']}"
            )


def _check_dashboard(
    name: str, dashboard: Mapping[str, Any], uuids: Mapping[str, set[str]]
) -> None:
    position = dashboard.get("position")
    if not isinstance(position, dict):
        raise BundleError(f"{name}: position must be a mapping")
    for key, item in position.items():
        if isinstance(item, dict) and item.get("type") == "CHART":
            meta = item.get("meta") or {}
            if "chartId" not in meta:
                raise BundleError(f"{name}: position.{key}.meta has no chartId")
            _check_ref(f"{name}: position.{key}.meta", meta, "uuid", uuids["charts"])
    metadata = dashboard.get("metadata") or {}
    for native_filter in metadata.get("native_filter_configuration") or []:
        for target in native_filter.get("targets") or []:
            if "datasetUuid" in target:
                _check_ref(
                    f"{name}: native filter {native_filter.get('id')}",
                    target,
                    "datasetUuid",
                    uuids["datasets"],
                )
