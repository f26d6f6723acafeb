"""Fixtures for the chart tests: the helm binary and rendered scenarios.

Helm checks that every dependency listed in Chart.yaml is present in charts/,
even one whose condition is false, and the official Superset chart cannot be
downloaded here. So the tests render a copy of the chart whose charts/ holds
an empty stand-in named and versioned like that dependency: with
superset.enabled false (every scenario but all-in-one) the output is exactly
what the real dependency gives; in the all-in-one scenario the reporter's side
is rendered and Superset's own manifests are left out.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from helm_chart import (
    CHART,
    ROOT,
    SCENARIOS,
    HelmRunner,
    Manifest,
    Render,
    parse_manifests,
    scenario_args,
)


def _helm_binary() -> Path:
    local = ROOT / ".venv" / "bin" / "helm"
    if local.exists():
        return local
    found = shutil.which("helm")
    if found:
        return Path(found)
    pytest.fail(
        "helm is not installed: run scripts/install_helm.sh (it puts helm in "
        ".venv/bin)",
        pytrace=False,
    )


def _stub_superset_dependency(chart: Path) -> None:
    chart_yaml = yaml.safe_load((CHART / "Chart.yaml").read_text())
    (dependency,) = [d for d in chart_yaml["dependencies"] if d["name"] == "superset"]
    stub = chart / "charts" / "superset"
    stub.mkdir(parents=True)
    stub_chart = {
        "apiVersion": "v2",
        "name": "superset",
        "version": dependency["version"],
        "description": "Empty stand-in for the official chart (tests only)",
    }
    (stub / "Chart.yaml").write_text(yaml.safe_dump(stub_chart))


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> HelmRunner:
    """Runs helm; fails the run, never skips, when helm is missing."""
    return HelmRunner(_helm_binary(), tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="session")
def chart_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the chart with the Superset dependency stubbed (see above)."""
    copy = tmp_path_factory.mktemp("chart") / CHART.name
    shutil.copytree(CHART, copy, ignore=shutil.ignore_patterns("charts"))
    _stub_superset_dependency(copy)
    return copy


@pytest.fixture(scope="session")
def render(helm: HelmRunner, chart_dir: Path) -> Render:
    """Renders a scenario, cached, with extra flags; fails on a rendering error."""
    cache: dict[tuple[str, ...], list[Manifest]] = {}

    def _render(scenario: str = "default", extra: Sequence[str] = ()) -> list[Manifest]:
        key = (scenario, *extra)
        if key not in cache:
            result = helm.template(chart_dir, *scenario_args(scenario), *extra)
            assert result.returncode == 0, result.stderr
            cache[key] = parse_manifests(result.stdout)
        return cache[key]

    return _render


@pytest.fixture(params=SCENARIOS)
def scenario(request: pytest.FixtureRequest) -> str:
    """Each scenario: the default values and every file in helm/ci/."""
    return str(request.param)
