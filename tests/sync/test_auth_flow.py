"""Connecting, describing and revoking a Dotloop account against the simulator."""

from __future__ import annotations

import dataclasses
import doctest
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet

import sync.auth_flow
from connector import AuthenticationError, Secret
from connector.auth import exchange_code
from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from sync.auth_flow import (
    AccountSummary,
    check_grant,
    describe,
    has_loop_access,
    login,
    revoke,
    status,
)
from sync.errors import ConfigurationError
from sync.settings import DotloopSettings, Settings
from sync.token_source import StoredTokenSource

PRIVATE = "dotloop_private"
KEY = Fernet.generate_key().decode()
PASTE_URI = "http://127.0.0.1:8976/callback"


@pytest.fixture(scope="module")
def brokerage() -> SimulatedData:
    return generate_brokerage(10, seed=5)


@pytest.fixture
def simulator(brokerage: SimulatedData) -> Iterator[Simulator]:
    config = SimulatorConfig(rate_limit_per_minute=1_000_000)
    with Simulator(brokerage, config) as running:
        yield running


@pytest.fixture
def settings(database_url: str, simulator: Simulator, tmp_path: Path) -> Settings:
    return settings_for(database_url, simulator, tmp_path)


def settings_for(
    database_url: str,
    simulator: Simulator,
    tmp_path: Path,
    *,
    client_secret: str = "sim-secret",
    refresh_token: str | None = None,
) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=Secret(database_url),
        dotloop=DotloopSettings(
            api_url=simulator.base_url,
            auth_url=simulator.auth_url,
            client_id="sim-client",
            client_secret=Secret(client_secret),
            refresh_token=None if refresh_token is None else Secret(refresh_token),
            token_key=Secret(KEY),
        ),
    )


def owner_email(brokerage: SimulatedData) -> str:
    return str(brokerage.account["data"]["email"])


def stored_row(database_url: str) -> tuple[Any, ...] | None:
    with psycopg.connect(database_url) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (f"{PRIVATE}.oauth_token",))
        if exists.fetchone() == (None,):
            return None
        return conn.execute(
            f"SELECT access_token, refresh_token, status, seeded_from "
            f"FROM {PRIVATE}.oauth_token"
        ).fetchone()


def stored_tokens(database_url: str) -> tuple[str, str]:
    row = stored_row(database_url)
    assert row is not None
    access, refresh = (Fernet(KEY).decrypt(bytes(value)).decode() for value in row[:2])
    return access, refresh


def login_in_browser(
    settings: Settings, browse: Callable[[str], httpx.Response], **options: Any
) -> tuple[AccountSummary, httpx.Response]:
    """Run the login while a 'browser' opens the URL it prints."""
    printed: queue.Queue[str] = queue.Queue()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["summary"] = login(
                settings, output=printed.put, timeout=30, **options
            )
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    url = printed.get(timeout=10).splitlines()[-1]
    page = browse(url)
    thread.join(timeout=30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["summary"], page


def follow(url: str) -> httpx.Response:
    return httpx.get(url, follow_redirects=True)


def issue_code(simulator: Simulator, redirect_uri: str = PASTE_URI) -> str:
    """Approve at the authorize endpoint and read the code off the redirect."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "sim-client",
            "redirect_uri": redirect_uri,
            "state": "s",
        }
    )
    answer = httpx.get(f"{simulator.auth_url}/authorize?{query}")
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def test_a_login_through_the_local_callback_stores_and_confirms(
    settings: Settings,
    simulator: Simulator,
    brokerage: SimulatedData,
    database_url: str,
) -> None:
    summary, page = login_in_browser(settings, follow)

    assert page.status_code == 200
    assert "Dotloop is connected" in page.text
    assert summary.email == owner_email(brokerage)
    assert [p.id for p in summary.profiles] == [
        p["id"] for p in brokerage.profiles["data"]
    ]
    assert any(p.deactivated for p in summary.profiles)
    assert summary.scope is not None and "loop:*" in summary.scope
    row = stored_row(database_url)
    assert row is not None
    assert (row[2], row[3]) == ("connected", None)
    access, _ = stored_tokens(database_url)
    assert access.encode() not in bytes(row[0])
    assert StoredTokenSource(settings).access_token().reveal() == access
    assert simulator.stats()["token_refreshes"] == 0


def test_a_login_clears_a_reconnect_mark_despite_the_old_configured_token(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    dead = settings_for(database_url, simulator, tmp_path, refresh_token="gone")
    with pytest.raises(AuthenticationError):
        StoredTokenSource(dead).access_token()
    assert status(dead).reconnect_required

    login(dead, code=issue_code(simulator), redirect_uri=PASTE_URI)

    assert not status(dead).reconnect_required
    assert StoredTokenSource(dead).access_token().reveal()


def test_a_pasted_code_connects_once_and_only_once(
    settings: Settings, simulator: Simulator, brokerage: SimulatedData
) -> None:
    code = issue_code(simulator)

    summary = login(settings, code=code, redirect_uri=PASTE_URI)
    with pytest.raises(AuthenticationError) as reused:
        login(settings, code=code, redirect_uri=PASTE_URI)

    assert summary.email == owner_email(brokerage)
    assert "already used" in str(reused.value)
    assert "run the login again" in str(reused.value)
    assert code not in str(reused.value)


def test_status_shows_account_expiry_and_scope_but_no_token(
    settings: Settings,
    simulator: Simulator,
    brokerage: SimulatedData,
    database_url: str,
) -> None:
    login(settings, code=issue_code(simulator), redirect_uri=PASTE_URI)

    current = status(settings)
    text = describe(current)

    access, refresh = stored_tokens(database_url)
    assert current.connected and not current.reconnect_required
    assert current.account is not None
    assert current.account.email == owner_email(brokerage)
    assert current.expires_at is not None
    assert current.expires_at.timestamp() > time.time() + 11 * 3600
    assert owner_email(brokerage) in text
    assert "access token expires" in text and "loop:*" in text
    for token in (access, refresh):
        assert token not in text
        assert token not in repr(current)


def test_status_without_a_connection_says_so(settings: Settings) -> None:
    current = status(settings)

    assert not current.connected
    assert "no Dotloop account is connected" in describe(current)


def test_revoke_deletes_the_tokens_and_dotloop_refuses_them(
    settings: Settings, simulator: Simulator, database_url: str
) -> None:
    login(settings, code=issue_code(simulator), redirect_uri=PASTE_URI)
    access, _ = stored_tokens(database_url)

    revoked = revoke(settings)

    answer = httpx.get(
        f"{simulator.base_url}/account",
        headers={"Authorization": f"Bearer {access}"},
    )
    assert revoked is True
    assert stored_row(database_url) is None
    assert answer.status_code == 401
    assert revoke(settings) is False


def test_a_wrong_client_secret_names_the_variable_not_the_secret(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    wrong = settings_for(
        database_url, simulator, tmp_path, client_secret="wrong-secret-991"
    )
    code = issue_code(simulator)

    with pytest.raises(AuthenticationError) as refused:
        login(wrong, code=code, redirect_uri=PASTE_URI)

    message = str(refused.value)
    assert "DOTLOOP_CLIENT_SECRET" in message
    assert "wrong-secret-991" not in message and code not in message
    assert stored_row(database_url) is None


def forge_state(url: str) -> httpx.Response:
    """A callback whose state is not the one the login sent."""
    answer = httpx.get(url)
    location = urlsplit(answer.headers["location"])
    query = parse_qs(location.query)
    forged = urlencode({"code": query["code"][0], "state": "forged"})
    return httpx.get(urlunsplit(location._replace(query=forged)))


def test_a_state_mismatch_is_refused_and_nothing_stored(
    settings: Settings, simulator: Simulator, database_url: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        login_in_browser(settings, forge_state)

    assert "different state" in str(refused.value)
    assert "run the login again" in str(refused.value).lower()
    assert stored_row(database_url) is None
    assert simulator.stats()["requests_by_endpoint"].get("POST /oauth/token") is None


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        ("account:read, profile:*, loop:*, contact:*, template:read", True),
        ("account:read, loop:read", True),
        ("account:read, profile:*, contact:*", False),
        ("", False),
        (None, True),
    ],
)
def test_loop_access_is_read_from_the_scope(scope: str | None, allowed: bool) -> None:
    assert has_loop_access(scope) is allowed


def test_the_examples_in_the_module_hold() -> None:
    result = doctest.testmod(sync.auth_flow)

    assert result.attempted > 0 and result.failed == 0


def fresh_grant(settings: Settings, simulator: Simulator) -> Any:
    assert settings.dotloop.client_secret is not None
    with httpx.Client() as http:
        return exchange_code(
            simulator.auth_url,
            "sim-client",
            settings.dotloop.client_secret,
            Secret(issue_code(simulator)),
            PASTE_URI,
            http,
        )


@pytest.mark.parametrize(
    ("scope", "skew", "expected"),
    [
        ("account:read, profile:*", 0.0, "no loop access"),
        (None, 3600.0, "s ahead of Dotloop"),
        (None, -900.0, "s behind Dotloop"),
    ],
)
def test_a_grant_without_loop_access_or_with_clock_skew_is_given_back(
    settings: Settings,
    simulator: Simulator,
    scope: str | None,
    skew: float,
    expected: str,
) -> None:
    grant = dataclasses.replace(fresh_grant(settings, simulator), scope=scope)

    with pytest.raises(ConfigurationError) as refused:
        check_grant(settings, grant, lambda: time.time() + skew)

    answer = httpx.get(
        f"{simulator.base_url}/account",
        headers={"Authorization": f"Bearer {grant.access_token.reveal()}"},
    )
    message = str(refused.value)
    assert expected in message
    assert "run the login again" in message
    assert grant.access_token.reveal() not in message
    assert answer.status_code == 401


def test_a_skewed_clock_stops_the_login_before_anything_is_stored(
    settings: Settings, simulator: Simulator, database_url: str
) -> None:
    with pytest.raises(ConfigurationError, match="NTP"):
        login(
            settings,
            code=issue_code(simulator),
            redirect_uri=PASTE_URI,
            wall_clock=lambda: time.time() - 3600,
        )

    assert stored_row(database_url) is None
