"""The options of `dotloop-reporter simulator` and the simulator they build."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx
import pytest

from connector.simulator import SimulatorConfig
from connector.simulator.cli import add_arguments, build_simulator, config_from, run


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults() -> None:
    args = parse()

    assert config_from(args) == SimulatorConfig(port=8765)
    assert (args.loops, args.seed, args.fixtures) == (None, None, None)


def test_options_reach_the_config() -> None:
    args = parse(
        "--host=127.0.0.2",
        "--port=0",
        "--rate-limit-per-minute=7",
        "--window-seconds=2.5",
        "--client-id=a",
        "--client-secret=b",
        "--refresh-token=c",
        "--token-ttl=30",
    )

    assert config_from(args) == SimulatorConfig(
        host="127.0.0.2",
        port=0,
        rate_limit_per_minute=7,
        window_seconds=2.5,
        client_id="a",
        client_secret="b",
        refresh_token="c",
        token_ttl_seconds=30,
    )


def test_config_repr_hides_the_secrets() -> None:
    text = repr(config_from(parse("--client-secret=hush", "--refresh-token=quiet")))

    assert "hush" not in text
    assert "quiet" not in text


def test_generated_brokerage_has_the_requested_size() -> None:
    simulator = build_simulator(parse("--port=0", "--loops=12", "--seed=9"))

    with simulator, httpx.Client() as http:
        token = http.post(
            f"{simulator.auth_url}/token",
            data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
            auth=("sim-client", "sim-secret"),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        profiles = http.get(f"{simulator.base_url}/profile", headers=headers).json()
        company = next(p for p in profiles["data"] if p["type"] == "COMPANY")
        loops = http.get(
            f"{simulator.base_url}/profile/{company['id']}/loop", headers=headers
        ).json()

    assert loops["meta"]["total"] == 12


def test_fixtures_are_served(tmp_path: Path) -> None:
    (tmp_path / "profile.json").write_text(json.dumps({"data": [{"id": 3}]}))
    simulator = build_simulator(parse("--port=0", f"--fixtures={tmp_path}"))

    with simulator, httpx.Client() as http:
        token = http.post(
            f"{simulator.auth_url}/token",
            data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
            auth=("sim-client", "sim-secret"),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        loops = http.get(f"{simulator.base_url}/profile/3/loop", headers=headers)

    assert loops.json() == {"meta": {"total": 0}, "data": []}


@pytest.mark.parametrize(
    "argv",
    [
        ("--fixtures=.", "--loops=10"),
        ("--fixtures=/nonexistent/dir",),
        ("--rate-limit-per-minute=0",),
        ("--window-seconds=0",),
        ("--loops=-1",),
        ("--fault-5xx-rate=1.5",),
        ("--shift-between-pages=-0.1",),
        ("--fault-timeout-seconds=0",),
    ],
)
def test_contradictory_options_fail_at_start(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parse("--port=0", *argv)) == 2
    assert capsys.readouterr().err.startswith("simulator: ")
