"""superset_config.py read under different environments, without a server."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from sync.settings import PROJECT_ROOT

CONFIG = PROJECT_ROOT / "superset_config" / "superset_config.py"
SECRET = "s" * 40
GUEST = {"GUEST_TOKEN_JWT_SECRET": "g" * 40, "GUEST_TOKEN_JWT_AUDIENCE": "portal"}
NAMES = (
    "SUPERSET_SECRET_KEY",
    "SUPERSET_METADATA_URL",
    "REDIS_URL",
    "SUPERSET_EMBEDDED",
    "GUEST_TOKEN_JWT_SECRET",
    "GUEST_TOKEN_JWT_AUDIENCE",
    "SUPERSET_ALLOWED_ORIGINS",
    "SUPERSET_COOKIE_SECURE",
)


def load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> ModuleType:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOTLOOP_REPORTER_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("superset_config_test", CONFIG)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SUPERSET_SECRET_KEY is not set"),
        (
            {"SUPERSET_SECRET_KEY": "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET"},
            "published default",
        ),
        ({"SUPERSET_SECRET_KEY": "thisISaSECRET_1234"}, "published default"),
        ({"SUPERSET_SECRET_KEY": "short-key"}, "shorter than 32"),
        ({"SUPERSET_SECRET_KEY": SECRET}, "GUEST_TOKEN_JWT_SECRET is not set"),
        (
            {"SUPERSET_SECRET_KEY": SECRET, "GUEST_TOKEN_JWT_SECRET": "g" * 40},
            "GUEST_TOKEN_JWT_AUDIENCE is not set",
        ),
        (
            {**GUEST, "SUPERSET_SECRET_KEY": SECRET, "SUPERSET_ALLOWED_ORIGINS": "x"},
            "full origins",
        ),
        (
            {**GUEST, "SUPERSET_SECRET_KEY": SECRET, "SUPERSET_EMBEDDED": "maybe"},
            "true or false",
        ),
    ],
)
def test_unsafe_or_incomplete_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    message: str,
) -> None:
    with pytest.raises(RuntimeError, match=message):
        load(monkeypatch, tmp_path, **env)


def test_defaults_keep_metadata_in_the_data_dir_and_frames_same_origin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = load(monkeypatch, tmp_path, SUPERSET_SECRET_KEY=SECRET, **GUEST)

    assert config.SQLALCHEMY_DATABASE_URI.startswith(
        f"sqlite:///{tmp_path / 'superset' / 'superset.db'}"
    )
    assert config.FEATURE_FLAGS["EMBEDDED_SUPERSET"] is True
    assert config.TALISMAN_CONFIG["frame_options"] == "SAMEORIGIN"
    csp = config.TALISMAN_CONFIG["content_security_policy"]
    assert csp["frame-ancestors"] == ["'self'"]
    assert config.SESSION_COOKIE_SAMESITE == "Lax"
    assert config.DATA_CACHE_CONFIG["CACHE_TYPE"] == "NullCache"
    assert config.GUEST_ROLE_NAME in config.FAB_ROLES


def test_portal_origins_may_frame_with_cross_site_cookies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = load(
        monkeypatch,
        tmp_path,
        SUPERSET_SECRET_KEY=SECRET,
        SUPERSET_ALLOWED_ORIGINS="https://portal.example.com/, https://b.example.com",
        **GUEST,
    )

    csp = config.TALISMAN_CONFIG["content_security_policy"]
    assert csp["frame-ancestors"] == [
        "'self'",
        "https://portal.example.com",
        "https://b.example.com",
    ]
    assert config.TALISMAN_CONFIG["frame_options"] is None
    assert config.TALISMAN_CONFIG["session_cookie_samesite"] == "None"
    assert config.SESSION_COOKIE_SAMESITE == "None"
    assert config.SESSION_COOKIE_SECURE is True


def test_redis_holds_every_cache_under_its_own_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = load(
        monkeypatch,
        tmp_path,
        SUPERSET_SECRET_KEY=SECRET,
        REDIS_URL="redis://127.0.0.1:6379/3",
        **GUEST,
    )

    caches = [
        config.CACHE_CONFIG,
        config.DATA_CACHE_CONFIG,
        config.FILTER_STATE_CACHE_CONFIG,
        config.EXPLORE_FORM_DATA_CACHE_CONFIG,
    ]
    assert {c["CACHE_TYPE"] for c in caches} == {"RedisCache"}
    assert {c["CACHE_REDIS_URL"] for c in caches} == {"redis://127.0.0.1:6379/3"}
    assert len({c["CACHE_KEY_PREFIX"] for c in caches}) == len(caches)


def test_embedding_off_needs_no_guest_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = load(
        monkeypatch, tmp_path, SUPERSET_SECRET_KEY=SECRET, SUPERSET_EMBEDDED="false"
    )

    assert config.FEATURE_FLAGS["EMBEDDED_SUPERSET"] is False
    assert not hasattr(config, "GUEST_TOKEN_JWT_SECRET")
