"""Shared fixtures: the machine's real Postgres and Redis, and fresh databases.

Services are never skipped: a missing Postgres or Redis fails the run with a
message that says what to start.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis
from psycopg import sql

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Put the root logger back as it was: a CLI run in-process configures it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The server-level URL; fails the run when Postgres is not reachable."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc}); "
            "start it or point TEST_POSTGRES_URL at one",
            pytrace=False,
        )
    return POSTGRES_ADMIN_URL


@pytest.fixture
def database_url(postgres_admin_url: str) -> Iterator[str]:
    """A new empty database for one test, dropped afterwards."""
    name = f"dlr_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Redis database 15, flushed before and after the test."""
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not reachable at {TEST_REDIS_URL} ({exc}); "
            "start it or point TEST_REDIS_URL at one",
            pytrace=False,
        )
    client.flushdb()
    yield TEST_REDIS_URL
    client.flushdb()
    client.close()
