"""The Dockerfile builds the image the chart expects (read statically)."""

from __future__ import annotations

import fnmatch
import json
import shlex

import yaml
from helm_chart import CHART, ROOT

DOCKERFILE = ROOT / "Dockerfile"


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


def test_every_stage_is_python_311_slim() -> None:
    bases = [args.split()[0] for args in _all("FROM")]

    assert bases
    assert set(bases) == {"python:3.11-slim"}


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
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [
        source.rstrip("/")
        for args in _all("COPY")
        if not args.startswith("--from")
        for source in args.split()[:-1]
    ]

    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored)
