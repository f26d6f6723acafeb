"""`dotloop-reporter health` against the machine's real Postgres and Redis."""

from __future__ import annotations

import socket

import pytest

from connector.secrets import Secret
from sync.health import check_health, print_health
from sync.settings import Settings


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_healthy_when_postgres_and_redis_answer(
    database_url: str, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=Secret(database_url), redis_url=Secret(redis_url))

    assert print_health(settings) == 0
    assert capsys.readouterr().out == "healthy\n"


def test_an_unreachable_postgres_is_named_without_its_password() -> None:
    url = f"postgresql://app:pg-health-secret@127.0.0.1:{closed_port()}/x"
    settings = Settings(database_url=Secret(url))

    (problem,) = check_health(settings, timeout_seconds=2)

    assert problem.startswith("Postgres unreachable")
    assert "pg-health-secret" not in problem


def test_an_unreachable_redis_is_named(database_url: str) -> None:
    settings = Settings(
        database_url=Secret(database_url),
        redis_url=Secret(f"redis://127.0.0.1:{closed_port()}/0"),
    )

    (problem,) = check_health(settings, timeout_seconds=2)

    assert problem.startswith("Redis unreachable")


def test_without_database_url_the_probe_says_what_it_cannot_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert print_health(Settings()) == 1
    out = capsys.readouterr().out
    assert out.startswith("unhealthy: DATABASE_URL is not set")
    assert "embedded Postgres" in out
