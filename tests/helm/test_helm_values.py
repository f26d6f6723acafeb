"""values.yaml is documented and schema-checked; missing references fail clearly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helm_chart import CHART, REQUIRED_SETS, HelmRunner

VALUES = CHART / "values.yaml"
SCHEMA = CHART / "values.schema.json"


def _leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths of every key, parents included; maps are walked, lists are leaves."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = (*prefix, str(key))
            yield path
            yield from _leaf_paths(value, path)


def _documented_paths(text: str) -> set[tuple[str, ...]]:
    """Keys of values.yaml with a `# --` comment right above them."""
    documented: set[tuple[str, ...]] = set()
    stack: list[tuple[int, str]] = []
    comment = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            comment = True
            continue
        if stripped.startswith("#"):
            continue
        if not stripped or stripped.startswith("-") or ":" not in stripped:
            comment = False
            continue
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, stripped.split(":", 1)[0]))
        if comment:
            documented.add(tuple(key for _, key in stack))
        comment = False
    return documented


def test_every_value_is_documented() -> None:
    values = yaml.safe_load(VALUES.read_text())
    documented = _documented_paths(VALUES.read_text())

    undocumented = [
        ".".join(path)
        for path in _leaf_paths(values)
        if not isinstance(_get(values, path), dict)
        and not any(path[:n] in documented for n in range(1, len(path) + 1))
    ]
    assert not undocumented, f"values without a `# --` comment: {undocumented}"


def _get(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def test_the_schema_describes_every_value() -> None:
    values = yaml.safe_load(VALUES.read_text())
    schema = json.loads(SCHEMA.read_text())

    missing = []
    for path in _leaf_paths(values):
        node = schema
        for key in path:
            properties = node.get("properties", {})
            if key not in properties:
                if node.get("additionalProperties", True) is False:
                    missing.append(".".join(path))
                break
            node = properties[key]
        else:
            assert node.get("description"), f"{'.'.join(path)} has no description"
    assert not missing, f"values the schema rejects: {missing}"


def test_the_defaults_hold_no_credentials() -> None:
    values = yaml.safe_load(VALUES.read_text())

    for path in _leaf_paths(values):
        name = path[-1].lower()
        holds_a_password = "password" in name and not name.endswith("key")
        if holds_a_password or name == "existingsecret":
            assert _get(values, path) == "", ".".join(path)


REQUIRED = ["--set", REQUIRED_SETS[1]]
# One Secret per group, so that a group left out stays without one.
GROUP_SECRETS = [
    arg
    for group in ("database", "redis", "dotloop", "reportingReader", "superset")
    for arg in ("--set", f"secrets.{group}.existingSecret={group.lower()}")
]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        ([], "secrets.database.existingSecret is not set"),
        (
            [
                "secrets.database.existingSecret=pg",
                "secrets.redis.existingSecret=redis",
                "secrets.dotloop.existingSecret=dotloop",
            ],
            "secrets.reportingReader.existingSecret is not set",
        ),
        (
            [
                "secrets.database.existingSecret=pg",
                "secrets.redis.existingSecret=redis",
                "secrets.dotloop.existingSecret=dotloop",
                "secrets.reportingReader.existingSecret=pg",
            ],
            "secrets.superset.existingSecret is not set",
        ),
    ],
)
def test_missing_secret_references_stop_rendering(
    helm: HelmRunner, chart_dir: Path, sets: list[str], message: str
) -> None:
    flags = [arg for value in sets for arg in ("--set", value)]
    result = helm.template(chart_dir, *REQUIRED, *flags)

    assert result.returncode != 0
    assert message in result.stderr
    assert "kubectl" in result.stderr or "README" in result.stderr


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["webhooks.enabled=true"], "secrets.webhooks.existingSecret is not set"),
        (["supersetApi.url="], "supersetApi.url is not set"),
        (
            [
                "webhooks.enabled=true",
                "secrets.webhooks.existingSecret=hooks",
                "webhooks.ingress.enabled=true",
            ],
            "webhooks.ingress.hosts is empty",
        ),
    ],
)
def test_incomplete_options_stop_rendering(
    helm: HelmRunner, chart_dir: Path, sets: list[str], message: str
) -> None:
    flags = [arg for value in sets for arg in ("--set", value)]
    result = helm.template(chart_dir, *REQUIRED, *GROUP_SECRETS, *flags)

    assert result.returncode != 0
    assert message in result.stderr


def test_without_the_import_superset_is_not_required(
    helm: HelmRunner, chart_dir: Path
) -> None:
    sets = [
        "secrets.database.existingSecret=pg",
        "secrets.redis.existingSecret=redis",
        "secrets.dotloop.existingSecret=dotloop",
        "secrets.reportingReader.existingSecret=pg",
        "bundleImport.enabled=false",
    ]
    flags = [arg for value in sets for arg in ("--set", value)]

    result = helm.template(chart_dir, *flags)

    assert result.returncode == 0, result.stderr
    assert "bundle-import" not in result.stdout


@pytest.mark.parametrize(
    "value",
    [
        "workers.replicas=-1",
        "config.syncHour=24",
        "config.logLevel=LOUD",
        "config.reportingSchema=Reporting",
        "podSecurityContext.runAsNonRoot=false",
        "securityContext.runAsNonRoot=false",
        "supersetApi.url=superset:8088",
        "workerz.replicas=2",
    ],
)
def test_the_schema_rejects_bad_values(
    helm: HelmRunner, chart_dir: Path, value: str
) -> None:
    result = helm.template(chart_dir, *REQUIRED, *GROUP_SECRETS, "--set", value)

    assert result.returncode != 0
    assert "don't meet the specifications of the schema" in result.stderr
    key = value.split("=")[0].split(".")
    assert key[-1] in result.stderr or key[0] in result.stderr
