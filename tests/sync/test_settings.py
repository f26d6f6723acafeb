"""Settings: read once from the environment, clear errors, secrets hidden."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from sync.errors import ConfigurationError
from sync.settings import load_settings, to_environ

TOKEN_KEY = "m0Vb3Lh8n5cQ0S0wR2q1n2mWb0qU3aV9c6GSh0kYl4Y="
CONNECTED = {
    "DOTLOOP_CLIENT_ID": "client",
    "DOTLOOP_CLIENT_SECRET": "s3cret-value",
    "DOTLOOP_REFRESH_TOKEN": "refresh-value",
    "DOTLOOP_TOKEN_KEY": TOKEN_KEY,
}
WITHOUT_KEY = {k: v for k, v in CONNECTED.items() if k != "DOTLOOP_TOKEN_KEY"}


def test_nothing_configured_means_embedded_defaults() -> None:
    settings = load_settings({})

    assert settings.database_url is None
    assert settings.redis_url is None
    assert not settings.dotloop.configured
    assert settings.dotloop.requests_per_minute == 50
    assert settings.nightly_hour == 3


@pytest.mark.parametrize(
    ("environ", "names_in_message"),
    [
        (
            {"DOTLOOP_CLIENT_ID": "x"},
            ["DOTLOOP_CLIENT_SECRET"],
        ),
        ({"DOTLOOP_REFRESH_TOKEN": "x"}, ["DOTLOOP_CLIENT_ID"]),
        ({"DOTLOOP_CLIENT_SECRET": "x"}, ["DOTLOOP_CLIENT_ID"]),
        ({"DOTLOOP_REQUESTS_PER_MINUTE": "fast"}, ["DOTLOOP_REQUESTS_PER_MINUTE"]),
        ({"DOTLOOP_REQUESTS_PER_MINUTE": "0"}, ["DOTLOOP_REQUESTS_PER_MINUTE"]),
        ({"DOTLOOP_SYNC_HOUR": "24"}, ["DOTLOOP_SYNC_HOUR"]),
        ({"DOTLOOP_REPORTER_TIMEZONE": "Mars/Olympus"}, ["DOTLOOP_REPORTER_TIMEZONE"]),
        ({"DOTLOOP_PROFILE_IDS": "12,abc"}, ["DOTLOOP_PROFILE_IDS"]),
        ({"REPORTING_SCHEMA": "Reporting; drop"}, ["Reporting; drop"]),
        ({"DOTLOOP_PRIVATE_SCHEMA": "reporting"}, ["DOTLOOP_PRIVATE_SCHEMA"]),
        (WITHOUT_KEY, ["DOTLOOP_TOKEN_KEY", "Fernet.generate_key"]),
        ({**CONNECTED, "DOTLOOP_TOKEN_KEY": "short"}, ["DOTLOOP_TOKEN_KEY"]),
        (
            {**CONNECTED, "DOTLOOP_TOKEN_KEY": f"{TOKEN_KEY},x"},
            ["DOTLOOP_TOKEN_KEY"],
        ),
    ],
)
def test_bad_configuration_names_what_to_set(
    environ: dict[str, str], names_in_message: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ)

    for name in names_in_message:
        assert name in str(caught.value)


def test_secrets_never_show_in_repr() -> None:
    settings = load_settings(
        {**CONNECTED, "DATABASE_URL": "postgresql://app:pg-pass@db/x"}
    )

    text = repr(settings)

    for secret in ("s3cret-value", "refresh-value", "pg-pass", TOKEN_KEY):
        assert secret not in text


@pytest.mark.parametrize(
    ("auth_url", "local"),
    [
        ("http://127.0.0.1:8765/oauth", True),
        ("http://localhost:8765/oauth", True),
        ("https://auth.dotloop.com/oauth", False),
        ("https://127.0.0.1.example.com/oauth", False),
    ],
)
def test_a_simulator_needs_no_token_key(auth_url: str, local: bool) -> None:
    environ = {**WITHOUT_KEY, "DOTLOOP_AUTH_URL": auth_url}

    if local:
        assert load_settings(environ).dotloop.token_key is None
    else:
        with pytest.raises(ConfigurationError, match="DOTLOOP_TOKEN_KEY"):
            load_settings(environ)


def test_to_environ_round_trips() -> None:
    settings = load_settings(
        {
            **CONNECTED,
            "DATABASE_URL": "postgresql://app:pw@db/x",
            "REDIS_URL": "redis://127.0.0.1:6379/2",
            "DOTLOOP_PROFILE_IDS": "4, 7",
            "DOTLOOP_REPORTER_TIMEZONE": "America/Denver",
        }
    )

    assert load_settings(to_environ(settings)) == settings


def test_refresh_token_is_optional_once_login_can_store_one() -> None:
    settings = load_settings(
        {
            "DOTLOOP_CLIENT_ID": "client",
            "DOTLOOP_CLIENT_SECRET": "s3cret-value",
            "DOTLOOP_TOKEN_KEY": Fernet.generate_key().decode(),
        }
    )

    assert settings.dotloop.configured
    assert settings.dotloop.refresh_token is None
