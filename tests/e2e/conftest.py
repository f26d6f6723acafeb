"""A real Superset for the end-to-end tests, and a reporting database for it.

`superset` starts Superset 6.1 (gunicorn) once per session on a free
127.0.0.1 port, in a temporary home; `superset.client()` is an API client
logged in as its admin. Its metadata database is prepared once
per machine in the pytest cache (about half a minute on two cores) and copied
for each session (seconds). A Superset that cannot start fails the run.

`reporting_settings` is a fresh Postgres database with the raw schema and
the reporting views applied, read by a role of its own; import the bundle
with `build_bundle(settings, tmp_path)` and `bundle_passwords(settings)`.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from connector.secrets import Secret
from sync.db import apply_schema
from sync.errors import SupersetError
from sync.settings import Settings
from sync.superset_server import LocalSuperset, SupersetServer, copy_home, prepare
from sync.superset_server import start as start_superset
from sync.views import apply_views

# Test-only credentials: long enough, and not one of the published defaults.
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = Secret("e2e-admin-password-not-for-production")
SECRET_KEY = Secret("e2e-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
GUEST_SECRET = "e2e-guest-token-secret-0123456789-abcdefghijklmnop"
GUEST_AUDIENCE = "dotloop-reporter-e2e"
PORTAL_ORIGIN = "http://127.0.0.1:9"
READER_PASSWORD = Secret("e2e-reader-password")

SUPERSET_ENV = {
    "GUEST_TOKEN_JWT_SECRET": GUEST_SECRET,
    "GUEST_TOKEN_JWT_AUDIENCE": GUEST_AUDIENCE,
    "SUPERSET_ALLOWED_ORIGINS": PORTAL_ORIGIN,
    # Plain http on loopback: Secure cookies would never come back.
    "SUPERSET_COOKIE_SECURE": "false",
}


def _local(home: Path) -> LocalSuperset:
    return LocalSuperset(
        home=home,
        secret_key=SECRET_KEY,
        admin_username=ADMIN_USERNAME,
        admin_password=ADMIN_PASSWORD,
        env=SUPERSET_ENV,
    )


@pytest.fixture(scope="session")
def superset(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SupersetServer]:
    """Superset on a free loopback port for the whole session."""
    if importlib.util.find_spec("cachetools") is None:
        pytest.fail(
            "apache-superset 6.1.0 imports cachetools (db_engine_specs/aws_iam.py) "
            "without declaring it, so every database operation fails; add "
            "cachetools to the superset extra and run `make bootstrap`",
            pytrace=False,
        )
    template = Path(request.config.cache.mkdir("superset-metadata"))
    home = tmp_path_factory.mktemp("superset-home")
    try:
        prepare(_local(template))
        copy_home(template, home)
        server = start_superset(_local(home))
    except SupersetError as exc:
        pytest.fail(f"could not start Superset for the e2e tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def portal_origin() -> str:
    """The origin Superset lets frame its dashboards in these tests."""
    return PORTAL_ORIGIN


@pytest.fixture(scope="module")
def reporting_settings(postgres_admin_url: str) -> Iterator[Settings]:
    """A new database with the reporting views and a reader role of its own."""
    suffix = uuid.uuid4().hex[:10]
    name, role = f"dlr_e2e_{suffix}", f"reader_e2e_{suffix}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    settings = Settings(
        database_url=Secret(url),
        reporting_reader_role=role,
        reporting_reader_password=READER_PASSWORD,
    )
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            apply_schema(conn, settings)
            apply_views(conn, settings)
        yield settings
    finally:
        _drop(postgres_admin_url, url, name, role)


def _drop(admin_url: str, url: str, name: str, role: str) -> None:
    # The role owns objects only in this database: drop them there, but drop
    # the database even when that fails (a session still holding a lock), so
    # that no test database outlives the run.
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    finally:
        _drop_database(admin_url, name, role)


def _drop_database(admin_url: str, name: str, role: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
