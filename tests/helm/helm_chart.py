"""Helpers for the chart tests: running helm and reading rendered manifests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "dotloop-reporter"
SCENARIOS_DIR = ROOT / "helm" / "ci"
RELEASE = "dlr"
FULLNAME = f"{RELEASE}-dotloop-reporter"
NAMESPACE = "reporting"
KUBE_VERSION = "1.30.0"

# What the default values need to render: the Secret and Superset references.
REQUIRED_SETS = (
    "secrets.existingSecret=dotloop-reporter",
    "supersetApi.url=http://superset.analytics.svc:8088",
)
SCENARIOS = ("default", *sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml")))

Manifest = dict[str, Any]
# render(scenario="default", extra=()) -> manifests (the conftest fixture).
Render = Callable[..., list[Manifest]]


@dataclass(frozen=True)
class HelmResult:
    """The outcome of one helm command."""

    returncode: int
    stdout: str
    stderr: str


class HelmRunner:
    """Runs helm commands, isolated from the user's helm configuration."""

    def __init__(self, binary: Path, home: Path) -> None:
        self.binary = binary
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
        }

    def __call__(self, *args: str) -> HelmResult:
        done = subprocess.run(
            [str(self.binary), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )
        return HelmResult(done.returncode, done.stdout, done.stderr)

    def template(self, chart: Path, *args: str) -> HelmResult:
        """`helm template` of the test release."""
        return self(
            "template",
            RELEASE,
            str(chart),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            KUBE_VERSION,
            *args,
        )


def scenario_args(scenario: str) -> list[str]:
    """The helm flags of a scenario: its values file, or the required --set."""
    if scenario == "default":
        return [arg for value in REQUIRED_SETS for arg in ("--set", value)]
    return ["--values", str(SCENARIOS_DIR / f"{scenario}.yaml")]


def parse_manifests(text: str) -> list[Manifest]:
    """The documents of a rendered stream, empty ones dropped."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def by_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def named(manifests: list[Manifest], kind: str, suffix: str) -> Manifest:
    """The one manifest of a kind named "<fullname>-<suffix>"."""
    name = f"{FULLNAME}-{suffix}"
    found = [m for m in by_kind(manifests, kind) if m["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def find(manifests: list[Manifest], kind: str, suffix: str) -> list[Manifest]:
    """Manifests of a kind named "<fullname>-<suffix>" (none or one)."""
    name = f"{FULLNAME}-{suffix}"
    return [m for m in by_kind(manifests, kind) if m["metadata"]["name"] == name]


def pod_spec(manifest: Manifest) -> dict[str, Any]:
    """The pod spec of a Pod, Deployment or Job."""
    if manifest["kind"] == "Pod":
        return dict(manifest["spec"])
    return dict(manifest["spec"]["template"]["spec"])


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in {"Deployment", "Job", "Pod"}]


def containers(manifest: Manifest) -> list[dict[str, Any]]:
    """Init and regular containers of a workload."""
    spec = pod_spec(manifest)
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def runs_periodic_schedule(deployment: Manifest) -> bool:
    """Whether a Deployment's pods run a Huey consumer with the schedule on."""
    for container in pod_spec(deployment)["containers"]:
        args = container.get("args", [])
        if "worker" in args and "--no-periodic" not in args:
            return True
    return False
