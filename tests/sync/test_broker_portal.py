"""The broker portal's configuration and its reading of Superset's CSP."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import sync.broker_portal
from connector.secrets import Secret
from sync.broker_portal import (
    SDK_BUNDLE,
    PortalConfig,
    frame_ancestors_admit,
    portal_config,
)
from sync.embedding import Viewer
from sync.errors import ConfigurationError
from sync.portal_server import PortalServer
from sync.portal_users import PortalUser
from sync.settings import Settings, SupersetSettings

PORTAL = "http://127.0.0.1:8100"
SUPERSET = "http://127.0.0.1:8088"
USERS = {
    "broker": PortalUser(
        "broker", Secret("pbkdf2_sha256$1$AA==$AA=="), Viewer.brokerage()
    )
}


def test_doctests() -> None:
    failures, attempted = doctest.testmod(sync.broker_portal)

    assert attempted > 0
    assert failures == 0


@pytest.mark.parametrize(
    ("policy", "admitted"),
    [
        ("default-src 'self'; frame-ancestors 'self' http://127.0.0.1:8100", True),
        ("frame-ancestors http://127.0.0.1:8100/", True),
        ("frame-ancestors http://127.0.0.1:8100;", True),
        ("frame-ancestors HTTP://127.0.0.1:8100", True),
        ("frame-ancestors http://127.0.0.1:8101", False),
        ("frame-ancestors https://127.0.0.1:8100", False),
        ("frame-ancestors http://localhost:8100", False),
        ("frame-ancestors 'self'", False),
        ("frame-ancestors 'none'", False),
        ("frame-ancestors", False),
        ("frame-ancestors *", True),
        ("frame-ancestors http:", True),
        ("frame-ancestors https:", False),
        ("frame-ancestors http://*.example", False),
        ("default-src 'self'", True),
        ("", True),
    ],
)
def test_frame_ancestors_admit_only_what_they_name(policy: str, admitted: bool) -> None:
    assert frame_ancestors_admit(policy, PORTAL, SUPERSET) is admitted


def test_the_portal_needs_a_superset_account() -> None:
    settings = Settings(superset=SupersetSettings(url=SUPERSET))

    with pytest.raises(ConfigurationError, match="SUPERSET_PASSWORD"):
        portal_config(settings, USERS)


def test_the_portal_config_comes_from_the_settings() -> None:
    settings = Settings(
        superset=SupersetSettings(url=SUPERSET + "/", password=Secret("pw"))
    )

    config = portal_config(settings, USERS, port=0, public_origin=PORTAL)

    assert config.superset_url == SUPERSET
    assert config.superset_username == "admin"
    assert config.public_origin == PORTAL
    assert "pw" not in repr(config)


def test_the_portal_will_not_start_without_the_sdk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sync.broker_portal, "SDK_BUNDLE", tmp_path / "index.js")
    config = PortalConfig(SUPERSET, "admin", Secret("pw"), USERS, port=0)

    with pytest.raises(ConfigurationError, match="npm ci"):
        PortalServer(config)


def test_the_sdk_bundle_is_installed_from_the_lock_file() -> None:
    # scripts/bootstrap.sh runs `npm ci` in portal/; the portal serves this.
    assert SDK_BUNDLE.is_file(), "run `make bootstrap` to install portal/"
    assert b"supersetEmbeddedSdk" in SDK_BUNDLE.read_bytes()
