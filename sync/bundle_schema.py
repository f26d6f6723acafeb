"""The keys Superset 6.1's import schemas accept in each file of a bundle.

Superset loads every file with a marshmallow schema that raises on unknown
keys (superset/*/schemas.py: ImportV1DatabaseSchema, ImportV1DatasetSchema
with its column and metric schemas, ImportV1ChartSchema,
ImportV1DashboardSchema; MetadataSchema for metadata.yaml). These allow-lists
are those schemas' fields, plus the legacy names their pre_load hooks rename.
Update them with the Superset pin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KeySpec:
    """The keys of one mapping: all it may hold, those it must, nested ones."""

    allowed: frozenset[str]
    required: frozenset[str] = frozenset()
    # Keys whose value is a mapping (or a list of mappings) with its own spec.
    mappings: Mapping[str, KeySpec] = field(default_factory=dict)
    lists: Mapping[str, KeySpec] = field(default_factory=dict)


def _keys(text: str) -> frozenset[str]:
    return frozenset(text.split())


METADATA = KeySpec(_keys("version type timestamp"), _keys("version"))

_DATABASE_EXTRA = KeySpec(
    _keys(
        "metadata_params engine_params metadata_cache_timeout "
        "schemas_allowed_for_csv_upload schemas_allowed_for_file_upload "
        "cost_estimate_enabled allows_virtual_table_explore "
        "cancel_query_on_windows_unload disable_data_preview "
        "disable_drill_to_detail allow_multi_catalog per_user_caching version "
        "schema_options"
    )
)
_SSH_TUNNEL = KeySpec(
    _keys(
        "id server_address server_port username password private_key "
        "private_key_password"
    )
)
DATABASE = KeySpec(
    _keys(
        "database_name sqlalchemy_uri password encrypted_extra "
        "masked_encrypted_extra cache_timeout expose_in_sqllab allow_run_async "
        "allow_ctas allow_cvas allow_dml allow_csv_upload allow_file_upload "
        "impersonate_user extra uuid version is_managed_externally external_url "
        "ssh_tunnel configuration_method"
    ),
    _keys("database_name sqlalchemy_uri uuid version"),
    mappings={"extra": _DATABASE_EXTRA, "ssh_tunnel": _SSH_TUNNEL},
)

_COLUMN = KeySpec(
    _keys(
        "column_name extra verbose_name is_dttm is_active type "
        "advanced_data_type groupby filterable expression description "
        "python_date_format datetime_format"
    ),
    _keys("column_name"),
)
_METRIC = KeySpec(
    _keys(
        "metric_name verbose_name metric_type expression description d3format "
        "currency extra warning_text"
    ),
    _keys("metric_name expression"),
    mappings={"currency": KeySpec(_keys("symbol symbolPosition"))},
)
DATASET = KeySpec(
    _keys(
        "table_name main_dttm_col currency_code_column description "
        "default_endpoint offset cache_timeout schema catalog sql "
        "source_db_engine params template_params filter_select_enabled "
        "fetch_values_predicate extra uuid columns metrics version "
        "database_uuid data is_managed_externally external_url "
        "normalize_columns always_filter_main_dttm folders data_file"
    ),
    _keys("table_name uuid version database_uuid"),
    lists={"columns": _COLUMN, "metrics": _METRIC},
)

CHART = KeySpec(
    _keys(
        "slice_name description certified_by certification_details viz_type "
        "params query_context cache_timeout uuid version dataset_uuid "
        "is_managed_externally external_url tags"
    ),
    _keys("slice_name viz_type uuid version dataset_uuid"),
)

DASHBOARD = KeySpec(
    _keys(
        "dashboard_title description css slug uuid position metadata version "
        "is_managed_externally external_url certified_by certification_details "
        "published tags theme_uuid theme_id"
    ),
    _keys("dashboard_title uuid version"),
)

SPECS: dict[str, KeySpec] = {
    "databases": DATABASE,
    "datasets": DATASET,
    "charts": CHART,
    "dashboards": DASHBOARD,
}


def key_problems(doc: Mapping[str, Any], spec: KeySpec, at: str = "") -> list[str]:
    """Messages "key: problem" for unknown and missing keys, nested ones too.

    >>> key_problems({"slice_name": "x", "colour": 1}, CHART)[:2]
    ['colour: unknown key (Superset 6.1 refuses it)', 'dataset_uuid: required']
    """
    found = [
        f"{at}{key}: unknown key (Superset 6.1 refuses it)"
        for key in sorted(doc, key=str)
        if key not in spec.allowed
    ]
    found += [f"{at}{key}: required" for key in sorted(spec.required - set(doc))]
    for key, nested in spec.mappings.items():
        value = doc.get(key)
        if isinstance(value, Mapping):
            found += key_problems(value, nested, f"{at}{key}.")
    for key, nested in spec.lists.items():
        items = doc.get(key)
        if items is not None and not isinstance(items, list):
            found.append(f"{at}{key}: must be a list")
            continue
        for index, item in enumerate(items or []):
            if not isinstance(item, Mapping):
                found.append(f"{at}{key}[{index}]: must be a mapping")
                continue
            found += key_problems(item, nested, f"{at}{key}[{index}].")
    return found
