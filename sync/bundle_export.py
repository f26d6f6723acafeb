"""`bundle export`: a dashboard as Superset holds it, back into bundle files.

Someone edits a dashboard in Superset's UI; this pulls it (with its charts,
datasets and database) through /api/v1/dashboard/export/ and writes the
files in the canonical form of sync/bundle_files.py, the same form `bundle
generate` writes: environment values become placeholders again, Superset's
ids become the bundle's, passwords never reach a file. Exporting right
after an import of unchanged sources rewrites nothing, so `git diff` shows
exactly what was edited in the UI; port such edits into sources/ (the
generator's drift check fails until they are).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .bundle_checks import ASSET_KINDS
from .bundle_files import (
    Doc,
    asset_path,
    canonical_chart,
    canonical_dashboard,
    canonical_database,
    canonical_dataset,
    dump_doc,
)
from .bundle_sources import SOURCES, read_sources
from .errors import BundleError
from .superset_api import SupersetClient

logger = logging.getLogger(__name__)

URI_PLACEHOLDER = "__SQLALCHEMY_URI__"
SCHEMA_PLACEHOLDER = "__REPORTING_SCHEMA__"


@dataclass(frozen=True)
class BundleIds:
    """What turns an export back into bundle files: ids, orders, schema."""

    database_uuid: str
    reporting_schema: str
    dataset_ids: Mapping[str, int]
    column_orders: Mapping[str, tuple[str, ...]]
    metric_orders: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_sources(
        cls, dashboards_dir: Path, datasets_dir: Path, reporting_schema: str
    ) -> BundleIds:
        """The ids and orders the sources give each dataset."""
        sources = read_sources(dashboards_dir / SOURCES, datasets_dir)
        datasets = sources.datasets.values()
        return cls(
            database_uuid=str(sources.database["uuid"]),
            reporting_schema=reporting_schema,
            dataset_ids={d.ref.uuid: d.ref.bundle_id for d in datasets},
            column_orders={
                d.ref.table: tuple(c.name for c in d.view.columns) for d in datasets
            },
            metric_orders={
                d.ref.table: tuple(
                    str(m["name"]) for m in d.source.get("metrics") or []
                )
                for d in datasets
            },
        )


def find_dashboard(client: SupersetClient, wanted: str) -> tuple[int, str]:
    """A dashboard's id and title from its title, slug, uuid or id."""
    rows = client.list_assets("dashboard")
    found = [
        row
        for row in rows
        if wanted in (str(row.get("id")), str(row.get("uuid")), row.get("slug"))
        or str(row.get("dashboard_title", "")).casefold() == wanted.casefold()
    ]
    if len(found) != 1:
        titles = ", ".join(sorted(str(r.get("dashboard_title")) for r in rows))
        raise BundleError(
            f"expected one dashboard named {wanted!r} in Superset, found "
            f"{len(found)}; there are: {titles or 'none'}"
        )
    return int(found[0]["id"]), str(found[0]["dashboard_title"])


def export_dashboard(
    client: SupersetClient, wanted: str, out: Path, ids: BundleIds
) -> list[str]:
    """Write the dashboard's bundle files under `out`; the paths that changed."""
    dashboard_id, title = find_dashboard(client, wanted)
    files = normalise_export(client.export_dashboards([dashboard_id]), ids)
    changed = []
    for path, content in files.items():
        target = out / path
        if target.is_file() and target.read_bytes() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        changed.append(path)
    logger.info(
        "exported dashboard %r: %d files, %d changed", title, len(files), len(changed)
    )
    return changed


def normalise_export(files: Mapping[str, bytes], ids: BundleIds) -> dict[str, bytes]:
    """Superset's export files as bundle files, by path inside the bundle."""
    docs: dict[str, dict[str, Doc]] = {kind: {} for kind in ASSET_KINDS}
    for name, content in files.items():
        kind = PurePosixPath(name).parts[0]
        if kind in docs and name.endswith((".yaml", ".yml")):
            doc = yaml.safe_load(content.decode("utf-8"))
            if isinstance(doc, dict):
                docs[kind][name] = doc
    databases = {str(d["uuid"]): _database(d, ids) for d in docs["databases"].values()}
    names = {uuid: str(d["database_name"]) for uuid, d in databases.items()}
    dataset_ids = _dataset_ids(docs["datasets"].values(), ids)
    out: dict[str, Doc] = {}
    for database in databases.values():
        out[asset_path("databases", database)] = database
    for raw in docs["datasets"].values():
        dataset = _dataset(raw, ids)
        database_name = names.get(str(raw.get("database_uuid")), "database")
        out[asset_path("datasets", dataset, database_name)] = dataset
    for raw in docs["charts"].values():
        chart = canonical_chart(raw, dataset_ids[str(raw["dataset_uuid"])])
        out[_unique(out, asset_path("charts", chart))] = chart
    for raw in docs["dashboards"].values():
        dashboard = canonical_dashboard(raw)
        out[asset_path("dashboards", dashboard)] = dashboard
    return {path: dump_doc(doc) for path, doc in sorted(out.items())}


def _database(raw: Doc, ids: BundleIds) -> Doc:
    database = dict(raw)
    if str(raw.get("uuid")) == ids.database_uuid:
        database["sqlalchemy_uri"] = URI_PLACEHOLDER
    return canonical_database(database)


def _dataset(raw: Doc, ids: BundleIds) -> Doc:
    dataset = dict(raw)
    if dataset.get("schema") == ids.reporting_schema:
        dataset["schema"] = SCHEMA_PLACEHOLDER
    table = str(raw.get("table_name"))
    return canonical_dataset(
        dataset, ids.column_orders.get(table, ()), ids.metric_orders.get(table, ())
    )


def _dataset_ids(datasets: Any, ids: BundleIds) -> dict[str, int]:
    """The bundle id of each exported dataset; new ones numbered after ours."""
    known = dict(ids.dataset_ids)
    new = sorted({str(d["uuid"]) for d in datasets} - set(known))
    start = max(known.values(), default=0) + 1
    for offset, uuid in enumerate(new):
        # A dataset made in the UI: add it to sources/datasets.yaml to fix
        # its id; until then it is numbered after the known ones.
        logger.warning("dataset %s is not in the bundle sources", uuid)
        known[uuid] = start + offset
    return known


def _unique(taken: Mapping[str, Any], path: str) -> str:
    if path not in taken:
        return path
    raise BundleError(f"two exported assets would both be written to {path}")
