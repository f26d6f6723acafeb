"""`bundle validate`: broken bundles are refused, each problem by file and key."""

from __future__ import annotations

import doctest
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import sync.bundle_schema
from connector.secrets import Secret
from sync.bundle import (
    BUNDLE_ROOT,
    DATABASE_FILE,
    Problem,
    build_bundle,
    read_bundle,
    validate_bundle_file,
    zip_bytes,
)
from sync.settings import Settings

DATABASE_URI = "postgresql://app:app-owner-secret@127.0.0.1:5432/dotloop"
DATASET = "datasets/Dotloop_Reporting/loop_sides.yaml"
CHART = "charts/GCI_by_month.yaml"
PIPELINE_DATASET = "datasets/Dotloop_Reporting/pipeline.yaml"
PIPELINE_CHART = "charts/Pipeline_by_projected_close_month.yaml"
DASHBOARD = "dashboards/Brokerage_GCI.yaml"
Docs = dict[str, dict[str, Any]]
Mutation = Callable[[Docs], None]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    settings = Settings(reporting_reader_password=Secret("reader"))
    output = tmp_path_factory.mktemp("bundle") / "bundle.zip"
    return read_bundle(build_bundle(settings, output, database_uri=DATABASE_URI))


def docs_of(files: dict[str, bytes]) -> Docs:
    return {name: yaml.safe_load(body) for name, body in files.items()}


def write(tmp_path: Path, docs: Docs) -> Path:
    path = tmp_path / "bundle.zip"
    files = {name: yaml.safe_dump(doc).encode() for name, doc in docs.items()}
    path.write_bytes(zip_bytes(files))
    return path


def at(path: str, value: Any) -> Mutation:
    """Set the value at "file:key:key..." (list indexes as numbers)."""
    name, *keys = path.split(":")

    def change(docs: Docs) -> None:
        target: Any = docs[name]
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[keys[-1]] = value

    return change


def drop(path: str) -> Mutation:
    name, key = path.split(":")

    def change(docs: Docs) -> None:
        del docs[name][key]

    return change


def native_filter(dataset_uuid: str) -> Mutation:
    def change(docs: Docs) -> None:
        docs[DASHBOARD]["metadata"]["native_filter_configuration"] = [
            {"id": "NATIVE_FILTER-agent", "targets": [{"datasetUuid": dataset_uuid}]}
        ]

    return change


FILTER_KEY = "metadata.native_filter_configuration[0].targets[0].datasetUuid"
CHART_META = "position.CHART-gci-this-year.meta."
BROKEN = [
    pytest.param(
        at("metadata.yaml:version", "2.0.0"), "metadata.yaml", "version", "1.0.0"
    ),
    pytest.param(
        at("metadata.yaml:type", "Dashboard"), "metadata.yaml", "type", "assets"
    ),
    pytest.param(
        at("metadata.yaml:exported_by", "me"), "metadata.yaml", "exported_by", "unknown"
    ),
    pytest.param(at(f"{CHART}:colour", "red"), CHART, "colour", "unknown key"),
    pytest.param(drop(f"{CHART}:viz_type"), CHART, "viz_type", "required"),
    pytest.param(
        at(f"{DATASET}:columns:0:width", 3), DATASET, "columns[0].width", "unknown"
    ),
    pytest.param(
        at(f"{DATASET}:metrics:1:format", "$"), DATASET, "metrics[1].format", "unknown"
    ),
    pytest.param(
        at(f"{DATABASE_FILE}:extra:pool_size", 5),
        DATABASE_FILE,
        "extra.pool_size",
        "unknown",
    ),
    pytest.param(
        at(f"{DASHBOARD}:owners", ["admin"]), DASHBOARD, "owners", "unknown key"
    ),
    pytest.param(
        at(f"{CHART}:query_context", {"queries": []}),
        CHART,
        "query_context",
        "JSON string",
    ),
    pytest.param(
        at(f"{CHART}:query_context", "{not json"), CHART, "query_context", "not JSON"
    ),
    pytest.param(
        at(f"{CHART}:params:datasource", "9__table"),
        CHART,
        "query_context.datasource",
        "does not match",
    ),
    pytest.param(
        at(f"{CHART}:params:row_limit", 5),
        CHART,
        "query_context.form_data",
        "other params",
    ),
    pytest.param(
        at(f"{DATASET}:database_uuid", "0" * 32),
        DATASET,
        "database_uuid",
        "not in the bundle",
    ),
    pytest.param(
        at(f"{CHART}:dataset_uuid", "1" * 32), CHART, "dataset_uuid", "not in the"
    ),
    pytest.param(
        at(f"{CHART}:dataset_uuid", "not-a-uuid"), CHART, "dataset_uuid", "uuid"
    ),
    pytest.param(
        at(f"{DASHBOARD}:position:CHART-gci-this-year:meta:uuid", "2" * 32),
        DASHBOARD,
        CHART_META + "uuid",
        "not in the bundle",
    ),
    pytest.param(native_filter("3" * 32), DASHBOARD, FILTER_KEY, "not in the bundle"),
    pytest.param(
        at(f"{DATABASE_FILE}:sqlalchemy_uri", "postgresql://r:plain@h/db"),
        DATABASE_FILE,
        "sqlalchemy_uri",
        "holds a password",
    ),
    pytest.param(
        at(f"{DATABASE_FILE}:password", "plain"),
        DATABASE_FILE,
        "password",
        "must not be in the bundle",
    ),
    pytest.param(
        at(f"{PIPELINE_DATASET}:metrics", []),
        PIPELINE_CHART,
        "query_context.queries[0].metrics",
        "metric 'gci'",
    ),
]


@pytest.mark.parametrize(("mutate", "file", "key", "message"), BROKEN)
def test_validate_names_the_file_and_key(
    shipped: dict[str, bytes],
    tmp_path: Path,
    mutate: Mutation,
    file: str,
    key: str,
    message: str,
) -> None:
    docs = docs_of(shipped)
    mutate(docs)

    problems = validate_bundle_file(write(tmp_path, docs))

    assert [p for p in problems if (p.file, p.key) == (file, key)], problems
    assert any(message in p.message for p in problems if p.key == key), problems


def test_shipped_bundle_has_no_problem(
    shipped: dict[str, bytes], tmp_path: Path
) -> None:
    assert validate_bundle_file(write(tmp_path, docs_of(shipped))) == []


def test_native_filter_on_a_shipped_dataset_passes(
    shipped: dict[str, bytes], tmp_path: Path
) -> None:
    docs = docs_of(shipped)
    native_filter(docs[DATASET]["uuid"])(docs)

    assert validate_bundle_file(write(tmp_path, docs)) == []


def _zip(tmp_path: Path, names: list[str]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "version: 1.0.0\n")
    path = tmp_path / "odd.zip"
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize(
    ("names", "file", "message"),
    [
        (
            [f"{BUNDLE_ROOT}/metadata.yaml", "other/metadata.yaml"],
            "/",
            "one root folder",
        ),
        (["metadata.yaml"], "metadata.yaml", "outside the root folder"),
        ([f"{BUNDLE_ROOT}/charts.yaml"], "metadata.yaml", "missing"),
        ([f"{BUNDLE_ROOT}/metadata.yaml", f"{BUNDLE_ROOT}/x/a.yaml"], "x/a.yaml", ""),
    ],
)
def test_layout_problems(
    tmp_path: Path, names: list[str], file: str, message: str
) -> None:
    problems = validate_bundle_file(_zip(tmp_path, names))

    assert [p for p in problems if p.file == file and message in p.message], problems


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(b"plain text")

    assert validate_bundle_file(path) == [
        Problem("bundle.zip", "", "not a readable zip file (File is not a zip file)")
    ]


def test_problem_reads_file_key_message() -> None:
    problem = Problem("charts/A.yaml", "params", "params must be a mapping")

    assert str(problem) == "charts/A.yaml: params: params must be a mapping"


def test_doctests() -> None:
    failures, attempted = doctest.testmod(sync.bundle_schema)

    assert attempted > 0
    assert failures == 0
