"""Revoking a Dotloop connection that Dotloop refuses to revoke, and --forget."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet

import sync.cli
from connector import Secret
from connector.simulator import Simulator, SimulatorConfig, generate_brokerage
from sync.auth_flow import RevocationRefused, login, revoke
from sync.settings import DotloopSettings, Settings

KEY = Fernet.generate_key().decode()
REDIRECT = "http://127.0.0.1:8977/callback"
WRONG = "not-the-client-secret-73"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    config = SimulatorConfig(rate_limit_per_minute=1_000_000)
    with Simulator(generate_brokerage(10, seed=9), config) as running:
        yield running


def settings_for(
    database_url: str, simulator: Simulator, tmp_path: Path, client_secret: str
) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=Secret(database_url),
        dotloop=DotloopSettings(
            api_url=simulator.base_url,
            auth_url=simulator.auth_url,
            client_id="sim-client",
            client_secret=Secret(client_secret),
            token_key=Secret(KEY),
        ),
    )


@pytest.fixture
def connected(database_url: str, simulator: Simulator, tmp_path: Path) -> Settings:
    """Settings whose account is connected (tokens stored) by a login."""
    settings = settings_for(database_url, simulator, tmp_path, "sim-secret")
    query = urlencode(
        {"response_type": "code", "client_id": "sim-client", "redirect_uri": REDIRECT}
    )
    answer = httpx.get(f"{simulator.auth_url}/authorize?{query}", timeout=10)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    login(settings, code=code, redirect_uri=REDIRECT)
    return settings


def stored_tokens(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT access_token, refresh_token FROM dotloop_private.oauth_token"
        ).fetchall()
    return [Fernet(KEY).decrypt(bytes(value)).decode() for row in rows for value in row]


def account_status(simulator: Simulator, access_token: str) -> int:
    answer = httpx.get(
        f"{simulator.base_url}/account",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    return answer.status_code


def test_a_refused_revocation_keeps_the_tokens_and_says_what_to_do(
    connected: Settings, database_url: str, simulator: Simulator
) -> None:
    wrong = replace(
        connected, dotloop=replace(connected.dotloop, client_secret=Secret(WRONG))
    )
    tokens = stored_tokens(database_url)

    with pytest.raises(RevocationRefused) as refused:
        revoke(wrong)

    message = str(refused.value)
    assert stored_tokens(database_url) == tokens
    assert account_status(simulator, tokens[0]) == 200
    assert "invalid_client" in message
    assert "DOTLOOP_CLIENT_SECRET" in message
    assert "auth revoke --forget" in message
    assert not any(secret in message for secret in [*tokens, WRONG])


def test_forget_deletes_the_tokens_here_and_says_they_live_on(
    connected: Settings, database_url: str, simulator: Simulator
) -> None:
    wrong = replace(
        connected, dotloop=replace(connected.dotloop, client_secret=Secret(WRONG))
    )
    tokens = stored_tokens(database_url)
    printed: list[str] = []

    forgotten = revoke(wrong, forget=True, output=printed.append)

    (notice,) = printed
    assert forgotten is True
    assert stored_tokens(database_url) == []
    # Dotloop was not told: the grant still works there.
    assert account_status(simulator, tokens[0]) == 200
    assert "still live at Dotloop" in notice
    assert "sim-client" in notice
    assert not any(secret in notice for secret in [*tokens, WRONG])
    assert revoke(wrong, forget=True, output=printed.append) is False


def test_forget_changes_nothing_when_dotloop_revokes(
    connected: Settings, database_url: str, simulator: Simulator
) -> None:
    tokens = stored_tokens(database_url)
    printed: list[str] = []

    assert revoke(connected, forget=True, output=printed.append) is True

    assert printed == []
    assert stored_tokens(database_url) == []
    assert account_status(simulator, tokens[0]) == 401


@pytest.fixture
def environment(
    connected: Settings, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connected account as the command line sees it, with a wrong secret."""
    assert connected.database_url is not None
    for name in list(os.environ):
        if name.startswith(("DOTLOOP_", "REDIS_", "DATABASE_")):
            monkeypatch.delenv(name)
    values = {
        "DATABASE_URL": connected.database_url.reveal(),
        "DOTLOOP_REPORTER_DATA_DIR": str(connected.data_dir),
        "DOTLOOP_API_URL": simulator.base_url,
        "DOTLOOP_AUTH_URL": simulator.auth_url,
        "DOTLOOP_CLIENT_ID": "sim-client",
        "DOTLOOP_CLIENT_SECRET": WRONG,
        "DOTLOOP_TOKEN_KEY": KEY,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sync.cli, "configure_logging", lambda level: None)


@pytest.mark.usefixtures("environment")
def test_the_command_refuses_then_forgets_on_request(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = stored_tokens(database_url)

    refused = sync.cli.main(["auth", "revoke"])
    first = capsys.readouterr()
    kept = stored_tokens(database_url)
    forgotten = sync.cli.main(["auth", "revoke", "--forget"])
    second = capsys.readouterr()

    assert (refused, kept) == (1, tokens)
    assert first.err.startswith("error: the tokens were not revoked")
    assert "--forget" in first.err
    assert forgotten == 0
    assert stored_tokens(database_url) == []
    assert "still live at Dotloop" in second.out
    assert "revoked the Dotloop tokens" not in second.out
    shown = first.out + first.err + second.out + second.err
    assert not any(secret in shown for secret in [*tokens, WRONG, KEY])
