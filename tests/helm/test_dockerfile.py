"""The Dockerfile builds the image the chart expects (read statically)."""

from __future__ import annotations

import fnmatch
import json
import shlex
from pathlib import Path, PurePosixPath

import pytest
import yaml
from helm_chart import CHART, ROOT

from sync.broker_portal import SDK_BUNDLE, STATIC_DIR
from sync.settings import PROJECT_ROOT

DOCKERFILE = ROOT / "Dockerfile"
APP_DIR = PurePosixPath("/app")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    pairs = [text.split(None, 1) for text in logical]
    return [(name.upper(), args) for name, args in pairs]


def _all(name: str) -> list[str]:
    return [args for instruction, args in _instructions() if instruction == name]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def _stages() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Stage name (its alias, else its index) -> (base image, instructions)."""
    stages: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    body: list[tuple[str, str]] = []
    for name, args in _instructions():
        if name == "FROM":
            words = args.split()
            alias = words[2] if len(words) == 3 else str(len(stages))
            body = []
            stages[alias] = (words[0], body)
        else:
            body.append((name, args))
    return stages


def _ignored() -> list[str]:
    return [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def _is_ignored(source: str) -> bool:
    """Whether the build context leaves out source or a folder above it."""
    path = PurePosixPath(source)
    candidates = [str(path), *(str(parent) for parent in path.parents)]
    return any(
        fnmatch.fnmatch(candidate, pattern)
        for candidate in candidates
        for pattern in _ignored()
    )


def _app_copies() -> list[tuple[str | None, str, PurePosixPath]]:
    """(stage or None for the context, source, destination) landing in /app."""
    _, build = _stages()["build"]
    workdir = PurePosixPath("/")
    copies = []
    for name, args in build:
        if name == "WORKDIR":
            workdir = workdir / args
        if name != "COPY":
            continue
        words = args.split()
        stage = None
        if words[0].startswith("--from="):
            stage = words.pop(0).removeprefix("--from=")
        *sources, destination = words
        for source in sources:
            copies.append((stage, source.rstrip("/"), workdir / destination))
    return [copy for copy in copies if copy[2].is_relative_to(APP_DIR)]


def _provider(wanted: PurePosixPath) -> tuple[str | None, str, PurePosixPath]:
    """The last COPY whose destination holds wanted (later copies win)."""
    providers = [copy for copy in _app_copies() if wanted.is_relative_to(copy[2])]
    assert providers, f"nothing in the image provides {wanted}"
    return providers[-1]


def test_python_stages_are_python_311_slim_and_the_last_is_the_image() -> None:
    stages = _stages()
    python = {base for base, _ in stages.values() if base.startswith("python")}

    assert python == {"python:3.11-slim"}
    assert list(stages.values())[-1][0] == "python:3.11-slim"
    assert ("COPY", f"--from=build {APP_DIR} {APP_DIR}") in _final_stage()


def test_runs_as_the_non_root_uid_the_chart_expects() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    (user,) = [args for name, args in _final_stage() if name == "USER"]

    uid, _, gid = user.partition(":")
    assert int(uid) == values["podSecurityContext"]["runAsUser"] != 0
    assert int(gid) == values["podSecurityContext"]["runAsGroup"]


def test_one_entrypoint_and_a_health_command() -> None:
    (entrypoint,) = _all("ENTRYPOINT")
    (healthcheck,) = _all("HEALTHCHECK")

    assert json.loads(entrypoint) == ["dotloop-reporter"]
    command = healthcheck.split(" CMD ", 1)[1]
    assert json.loads(command) == ["dotloop-reporter", "health"]


def test_data_dir_matches_the_chart() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    env = " ".join(args for name, args in _final_stage() if name == "ENV")

    settings = dict(token.split("=", 1) for token in shlex.split(env))
    assert settings["DOTLOOP_REPORTER_DATA_DIR"] == values["config"]["dataDir"]


def test_installs_the_project_with_pip_from_the_repository() -> None:
    runs = " ".join(_all("RUN"))

    assert "pip install" in runs
    assert "--constraint constraints.txt" in runs


def test_copies_only_what_exists_and_is_not_ignored() -> None:
    sources = [
        source.rstrip("/")
        for args in _all("COPY")
        if not args.startswith("--from")
        for source in args.split()[:-1]
    ]

    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not _is_ignored(source)


def test_portal_packages_are_installed_from_the_lock() -> None:
    base, body = _stages()["portal"]
    copied = [args.split()[:-1] for name, args in body if name == "COPY"]
    runs = " ".join(args for name, args in body if name == "RUN")

    assert base.startswith("node:")
    assert ["portal/package.json", "portal/package-lock.json"] in copied
    assert "npm ci" in runs
    lock = json.loads((ROOT / "portal" / "package-lock.json").read_text())
    assert "node_modules/@superset-ui/embedded-sdk" in lock["packages"]


@pytest.mark.parametrize(
    "needed",
    [SDK_BUNDLE, *sorted(STATIC_DIR.iterdir())],
    ids=lambda path: str(path.relative_to(PROJECT_ROOT)),
)
def test_image_holds_what_portal_serve_reads(needed: Path) -> None:
    relative = PurePosixPath(needed.relative_to(PROJECT_ROOT).as_posix())
    stage, source, destination = _provider(APP_DIR / relative)

    inside = (APP_DIR / relative).relative_to(destination)
    if stage is None:
        assert (ROOT / source / inside).is_file()
        assert not _is_ignored(f"{source}/{inside}")
    else:
        # Installed by the portal stage, whose WORKDIR holds node_modules.
        assert stage == "portal"
        assert source == "/portal/node_modules"
        assert _is_ignored(str(relative)), "the host's node_modules stays out"
