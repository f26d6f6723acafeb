"""Superset's export of a dashboard, turned back into the bundle's own files.

The export is made here the way Superset 6.1 makes it from an imported
bundle: its own ids, keys and lists in database order, the environment's
schema and database address, query_context as one line of JSON, file
names ending in ids. Normalising it must give back the generated files.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import yaml

from sync.bundle_export import BundleIds, normalise_export
from sync.bundle_sources import render_files
from sync.settings import PROJECT_ROOT

DASHBOARDS = PROJECT_ROOT / "dashboards_export"
DATASETS = PROJECT_ROOT / "datasets"
URI = "postgresql+psycopg2://reader:XXXXXXXXXX@db.internal:5432/reports"
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def generated() -> dict[str, bytes]:
    return render_files(DASHBOARDS, DATASETS)


@pytest.fixture(scope="module")
def ids() -> BundleIds:
    return BundleIds.from_sources(DASHBOARDS, DATASETS, "brokerage_reports")


def _shuffled(doc: Doc, rng: random.Random) -> Doc:
    keys = list(doc)
    rng.shuffle(keys)
    return {key: doc[key] for key in keys}


class FakeExport:
    """Superset-style export files of the generated bundle."""

    def __init__(self, generated: dict[str, bytes], seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.docs = {p: yaml.safe_load(c) for p, c in generated.items()}
        datasets = [d for p, d in self.docs.items() if p.startswith("datasets/")]
        self.dataset_ids = {d["uuid"]: 40 + n for n, d in enumerate(datasets)}
        self.chart_ids = {
            d["uuid"]: 300 + n
            for n, d in enumerate(
                d for p, d in self.docs.items() if p.startswith("charts/")
            )
        }

    def files(self) -> dict[str, bytes]:
        out = {"metadata.yaml": b"version: 1.0.0\ntype: Dashboard\n"}
        for path, doc in self.docs.items():
            kind = path.split("/", 1)[0]
            changed = getattr(self, f"_{kind}")(doc)
            name = path.removesuffix(".yaml") + f"_{self.rng.randint(1, 99)}.yaml"
            out[name] = yaml.safe_dump(changed, sort_keys=False).encode()
        return out

    def _databases(self, doc: Doc) -> Doc:
        return _shuffled(doc | {"sqlalchemy_uri": URI}, self.rng)

    def _datasets(self, doc: Doc) -> Doc:
        columns = list(doc["columns"])
        metrics = list(doc["metrics"])
        self.rng.shuffle(columns)
        self.rng.shuffle(metrics)
        changed = doc | {
            "schema": "brokerage_reports",
            "columns": [_shuffled(c, self.rng) for c in columns],
            "metrics": metrics,
        }
        return _shuffled(changed, self.rng)

    def _charts(self, doc: Doc) -> Doc:
        dataset_id = self.dataset_ids[doc["dataset_uuid"]]
        context = json.loads(doc["query_context"])
        context["datasource"] = {"id": dataset_id, "type": "table"}
        context["form_data"]["datasource"] = f"{dataset_id}__table"
        params = doc["params"] | {"datasource": f"{dataset_id}__table"}
        return doc | {"params": params, "query_context": json.dumps(context)}

    def _dashboards(self, doc: Doc) -> Doc:
        renumber = {}
        position = {}
        for key, item in doc["position"].items():
            if isinstance(item, dict) and item.get("type") == "CHART":
                real = self.chart_ids[item["meta"]["uuid"]]
                renumber[item["meta"]["chartId"]] = real
                item = item | {"meta": item["meta"] | {"chartId": real}}
            position[key] = item
        filters = [
            f | {"scope": f["scope"] | {"excluded": [renumber[n] for n in excluded]}}
            for f in doc["metadata"]["native_filter_configuration"]
            for excluded in [f["scope"]["excluded"]]
        ]
        metadata = doc["metadata"] | {"native_filter_configuration": filters}
        return doc | {
            "position": _shuffled(position, self.rng),
            "metadata": _shuffled(metadata, self.rng),
        }


def test_an_export_of_the_imported_bundle_normalises_to_its_files(
    generated: dict[str, bytes], ids: BundleIds
) -> None:
    exported = FakeExport(generated).files()

    assert normalise_export(exported, ids) == generated


def test_no_password_or_address_survives(
    generated: dict[str, bytes], ids: BundleIds
) -> None:
    export = FakeExport(generated)
    database = next(p for p in export.docs if p.startswith("databases/"))
    export.docs[database]["password"] = "plain-text-secret"

    files = normalise_export(export.files(), ids)

    text = b"".join(files.values())
    assert b"plain-text-secret" not in text
    assert b"db.internal" not in text
    assert b"__SQLALCHEMY_URI__" in files[database]


def test_an_edit_in_superset_shows_in_that_file_only(
    generated: dict[str, bytes], ids: BundleIds
) -> None:
    export = FakeExport(generated)
    export.docs["charts/GCI_by_office.yaml"]["params"]["row_limit"] = 5

    files = normalise_export(export.files(), ids)

    changed = [path for path in generated if files[path] != generated[path]]
    assert changed == ["charts/GCI_by_office.yaml"]
    chart = yaml.safe_load(files["charts/GCI_by_office.yaml"])
    assert chart["params"]["row_limit"] == 5


def test_a_dataset_made_in_the_ui_is_numbered_after_the_known_ones(
    generated: dict[str, bytes], ids: BundleIds
) -> None:
    export = FakeExport(generated)
    chart = export.docs["charts/GCI_by_office.yaml"]
    dataset = dict(export.docs["datasets/Dotloop_Reporting/loop_sides.yaml"])
    dataset |= {"uuid": "00000000-0000-4000-8000-000000000001", "table_name": "x"}
    export.docs["datasets/Dotloop_Reporting/x.yaml"] = dataset
    export.dataset_ids[dataset["uuid"]] = 99
    chart["dataset_uuid"] = dataset["uuid"]

    files = normalise_export(export.files(), ids)

    params = yaml.safe_load(files["charts/GCI_by_office.yaml"])["params"]
    assert params["datasource"] == f"{max(ids.dataset_ids.values()) + 1}__table"
