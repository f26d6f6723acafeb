"""The dashboard bundle built from dashboards_export/, checked without Superset."""

from __future__ import annotations

import dataclasses
import doctest
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import sync.bundle
from connector.secrets import Secret
from sync.bundle import (
    BUNDLE_ROOT,
    DATABASE_FILE,
    PASSWORD_MASK,
    build_bundle,
    bundle_passwords,
    read_bundle,
    superset_database_uri,
    validate_bundle,
)
from sync.errors import BundleError, ConfigurationError
from sync.settings import PROJECT_ROOT, Settings

DATABASE_URI = "postgresql://app:app-owner-secret@127.0.0.1:5432/dotloop"
READER_PASSWORD = "reader-secret-do-not-ship"
Docs = dict[str, dict[str, Any]]
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.fixture
def settings() -> Settings:
    return Settings(reporting_reader_password=Secret(READER_PASSWORD))


@pytest.fixture
def bundle(settings: Settings, tmp_path: Path) -> Path:
    return build_bundle(settings, tmp_path / "bundle.zip", database_uri=DATABASE_URI)


@pytest.fixture
def docs(bundle: Path) -> Docs:
    files = read_bundle(bundle)
    return {name: yaml.load(body, Loader=LOADER) for name, body in files.items()}


def of_kind(docs: Docs, kind: str) -> Docs:
    return {name: doc for name, doc in docs.items() if name.startswith(f"{kind}/")}


def test_build_is_byte_for_byte_reproducible(
    settings: Settings, tmp_path: Path
) -> None:
    first = build_bundle(settings, tmp_path / "a.zip", database_uri=DATABASE_URI)
    second = build_bundle(settings, tmp_path / "b.zip", database_uri=DATABASE_URI)

    assert first.read_bytes() == second.read_bytes()


def test_bundle_has_one_root_folder_with_metadata(bundle: Path, docs: Docs) -> None:
    with zipfile.ZipFile(bundle) as archive:
        roots = {name.split("/", 1)[0] for name in archive.namelist()}

    assert roots == {BUNDLE_ROOT}
    assert docs["metadata.yaml"]["version"] == "1.0.0"
    assert docs["metadata.yaml"]["type"] == "assets"
    for kind in ("databases", "datasets", "charts", "dashboards"):
        assert of_kind(docs, kind), kind


def test_output_directory_receives_the_named_zip(
    settings: Settings, tmp_path: Path
) -> None:
    path = build_bundle(settings, tmp_path, database_uri=DATABASE_URI)

    assert path == tmp_path / f"{BUNDLE_ROOT}.zip"
    assert zipfile.is_zipfile(path)


def test_every_uuid_reference_resolves(docs: Docs) -> None:
    databases = {d["uuid"] for d in of_kind(docs, "databases").values()}
    datasets = {d["uuid"] for d in of_kind(docs, "datasets").values()}
    charts = {d["uuid"] for d in of_kind(docs, "charts").values()}
    placed = {
        item["meta"]["uuid"]
        for dashboard in of_kind(docs, "dashboards").values()
        for item in dashboard["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    }

    assert {d["database_uuid"] for d in of_kind(docs, "datasets").values()} <= databases
    assert {c["dataset_uuid"] for c in of_kind(docs, "charts").values()} <= datasets
    assert placed == charts


@pytest.mark.parametrize(
    ("chart", "table"),
    [
        ("GCI this year", "daily_production"),
        ("GCI year to date", "daily_production"),
        ("Volume year to date", "daily_production"),
        ("Sides year to date", "daily_production"),
        ("GCI by month", "daily_production"),
        ("GCI by office", "daily_production"),
        ("Pipeline by projected close month", "pipeline"),
        ("Agent leaderboard", "agent_monthly_production"),
        ("Top agents by GCI", "agent_monthly_production"),
        ("List and buy sides by agent", "agent_monthly_production"),
        ("GCI by agent and month", "agent_monthly_production"),
    ],
)
def test_company_totals_come_from_closed_sides_and_agents_from_credits(
    docs: Docs, chart: str, table: str
) -> None:
    tables = {d["uuid"]: d["table_name"] for d in of_kind(docs, "datasets").values()}
    by_name = {c["slice_name"]: c for c in of_kind(docs, "charts").values()}

    assert tables[by_name[chart]["dataset_uuid"]] == table


def test_query_context_parses_and_matches_the_chart_dataset(docs: Docs) -> None:
    datasets = {d["uuid"]: d for d in of_kind(docs, "datasets").values()}
    owners: dict[str, str] = {}
    for name, chart in of_kind(docs, "charts").items():
        context = json.loads(chart["query_context"])
        source = context["datasource"]
        dataset = datasets[chart["dataset_uuid"]]
        metrics = {m["metric_name"] for m in dataset["metrics"]}

        assert f"{source['id']}__{source['type']}" == chart["params"]["datasource"]
        assert (
            owners.setdefault(chart["params"]["datasource"], dataset["uuid"])
            == (dataset["uuid"])
        ), name
        assert context["form_data"]["viz_type"] == chart["viz_type"], name
        for query in context["queries"]:
            # A raw table asks for columns only.
            assert set(query.get("metrics", [])) <= metrics, name


# The summed tables hold closed sides or credits only, so their charts need
# no is_closed; they match the period by their own date column.
@pytest.mark.parametrize(
    ("chart", "column"),
    [("GCI this year", "closing_date"), ("Agent leaderboard", "closing_month")],
)
def test_this_year_means_closed_in_the_current_calendar_year(
    docs: Docs, chart: str, column: str
) -> None:
    by_name = {c["slice_name"]: c for c in of_kind(docs, "charts").values()}
    filters = by_name[chart]["params"]["adhoc_filters"]

    # The period filter of the dashboard replaces this default range.
    assert {
        "subject": column,
        "operator": "TEMPORAL_RANGE",
        "comparator": "Current year",
    }.items() <= filters[0].items()
    assert filters[1:] == []


# Tables whose every row is closed production, by their spec's where.
CLOSED_TABLES = ("daily_production", "agent_monthly_production")


@pytest.mark.parametrize("table", CLOSED_TABLES)
def test_the_summed_tables_hold_closed_production_only(table: str) -> None:
    spec = yaml.safe_load(
        (PROJECT_ROOT / "datasets" / f"{table}.yaml").read_text("utf-8")
    )

    assert "is_closed" in spec["where"]


def test_every_production_chart_counts_closed_deals_only(docs: Docs) -> None:
    tables = {d["uuid"]: d["table_name"] for d in of_kind(docs, "datasets").values()}
    production = [
        chart
        for chart in of_kind(docs, "charts").values()
        if tables[chart["dataset_uuid"]]
        in ("loop_sides", "agent_credits", *CLOSED_TABLES)
    ]

    assert len(production) == 10
    for chart in production:
        where = [f.get("sqlExpression") for f in chart["params"]["adhoc_filters"]]
        closed_table = tables[chart["dataset_uuid"]] in CLOSED_TABLES

        assert closed_table or "is_closed" in where, chart["slice_name"]
        assert not (closed_table and "is_closed" in where), chart["slice_name"]


def test_chart_sql_runs_to_the_anchor_date_as_the_views_do(docs: Docs) -> None:
    anchored = set()
    for chart in of_kind(docs, "charts").values():
        where = " ".join(
            f.get("sqlExpression") or "" for f in chart["params"]["adhoc_filters"]
        )

        # reporting.production_summary's "today": period_anchor().
        assert "current_date" not in where.lower(), chart["slice_name"]
        assert "now()" not in where.lower(), chart["slice_name"]
        if "period_anchor()" in where:
            anchored.add(chart["slice_name"])

    assert anchored == {
        "GCI year to date",
        "Volume year to date",
        "Sides year to date",
    }


def test_database_connects_as_the_reader_with_a_masked_password(
    docs: Docs, bundle: Path
) -> None:
    database = docs[DATABASE_FILE]

    assert database["sqlalchemy_uri"] == (
        f"postgresql+psycopg2://reporting_reader:{PASSWORD_MASK}@127.0.0.1:5432/dotloop"
    )
    assert database["expose_in_sqllab"] is True
    assert database["allow_dml"] is False
    assert "password" not in database


def test_no_password_is_in_the_zip(bundle: Path, settings: Settings) -> None:
    content = bundle.read_bytes()

    assert b"app-owner-secret" not in content
    assert READER_PASSWORD.encode() not in content
    assert bundle_passwords(settings) == {DATABASE_FILE: READER_PASSWORD}


def test_without_a_reader_password_nothing_is_masked_or_sent(
    tmp_path: Path, settings: Settings
) -> None:
    trusting = dataclasses.replace(settings, reporting_reader_password=None)

    files = read_bundle(build_bundle(trusting, tmp_path, database_uri=DATABASE_URI))

    database = yaml.safe_load(files[DATABASE_FILE])
    assert "XXXXXXXXXX" not in database["sqlalchemy_uri"]
    assert database["sqlalchemy_uri"].startswith("postgresql+psycopg2://")
    assert bundle_passwords(trusting) == {}


def test_build_needs_a_database_address(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        build_bundle(Settings(), tmp_path)


def test_reporting_schema_setting_reaches_the_datasets(tmp_path: Path) -> None:
    settings = Settings(reporting_schema="brokerage_reports")

    path = build_bundle(settings, tmp_path, database_uri=DATABASE_URI)

    for name, body in read_bundle(path).items():
        if name.startswith("datasets/"):
            assert yaml.safe_load(body)["schema"] == "brokerage_reports"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://u:p@db.internal:6543/r?sslmode=require",
            "postgresql+psycopg2://reader:XXXXXXXXXX@db.internal:6543/r"
            "?sslmode=require",
        ),
        (
            "postgresql+psycopg://u@[::1]/r",
            "postgresql+psycopg2://reader:XXXXXXXXXX@[::1]/r",
        ),
        (
            "postgresql://postgres:@/r?host=/run/pg",
            "postgresql+psycopg2://reader:XXXXXXXXXX@/r?host=/run/pg",
        ),
    ],
)
def test_superset_database_uri(url: str, expected: str) -> None:
    assert superset_database_uri(url, "reader") == expected


def test_superset_database_uri_refuses_other_databases() -> None:
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        superset_database_uri("mysql://u:p@h/db", "reader")


def test_doctests() -> None:
    failures, attempted = doctest.testmod(sync.bundle)

    assert attempted > 0
    assert failures == 0


def _set(path: str, value: Any) -> Callable[[Docs], None]:
    name, *keys = path.split(":")

    def change(docs: Docs) -> None:
        target: Any = docs[name]
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[keys[-1]] = value

    return change


def _stale_query_context(docs: Docs) -> None:
    chart = docs["charts/GCI_this_year.yaml"]
    chart["params"]["metric"] = "volume"


MUTATIONS = [
    pytest.param(_set("metadata.yaml:version", "2.0.0"), "version", id="version"),
    pytest.param(
        _set(f"{DATABASE_FILE}:sqlalchemy_uri", "postgresql://r:plain@h/db"),
        "holds a password",
        id="plain-password",
    ),
    pytest.param(
        _set("datasets/Dotloop_Reporting/loop_sides.yaml:database_uuid", "0" * 32),
        "database_uuid",
        id="dangling-database",
    ),
    pytest.param(
        _set("charts/GCI_by_month.yaml:dataset_uuid", "1" * 32),
        "dataset_uuid",
        id="dangling-dataset",
    ),
    pytest.param(
        _set(
            "dashboards/Brokerage_GCI.yaml:position:CHART-gci-this-year:meta:uuid",
            "2" * 32,
        ),
        "uuid",
        id="dangling-chart",
    ),
    pytest.param(
        _set("charts/GCI_by_month.yaml:uuid", "7aff33b7-1283-42cd-9b4d-b55a8af24689"),
        "also used",
        id="duplicate-uuid",
    ),
    pytest.param(
        _set("charts/GCI_by_month.yaml:query_context", "{not json"),
        "not JSON",
        id="query-context-not-json",
    ),
    pytest.param(_stale_query_context, "other params", id="stale-query-context"),
    pytest.param(
        _set("charts/GCI_by_month.yaml:params:datasource", "2__table"),
        "datasource",
        id="wrong-datasource",
    ),
    pytest.param(
        _set("datasets/Dotloop_Reporting/pipeline.yaml:metrics", []),
        "metric 'gci'",
        id="unknown-metric",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), MUTATIONS)
def test_validate_names_what_is_wrong(
    docs: Docs, mutate: Callable[[Docs], None], message: str
) -> None:
    mutate(docs)
    files = {name: yaml.safe_dump(doc).encode() for name, doc in docs.items()}

    with pytest.raises(BundleError, match=message):
        validate_bundle(files)


def test_valid_bundle_passes_validation(docs: Docs) -> None:
    files = {name: yaml.safe_dump(doc).encode() for name, doc in docs.items()}

    validate_bundle(files)


def test_unknown_placeholder_is_refused(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(PROJECT_ROOT / "dashboards_export", source)
    extra = source / "charts" / "Extra.yaml"
    extra.write_text("slice_name: __NO_SUCH_VALUE__\n", encoding="utf-8")
    settings = Settings(project_root=tmp_path, reporting_reader_password=Secret("x"))
    (tmp_path / "dashboards_export").symlink_to(source)

    with pytest.raises(BundleError, match="__NO_SUCH_VALUE__"):
        build_bundle(settings, tmp_path / "out.zip", database_uri=DATABASE_URI)
