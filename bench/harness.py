"""What the benchmarks share: a scratch database and settings for a simulator."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from connector.secrets import Secret
from connector.simulator import Simulator
from sync.settings import DotloopSettings, Settings

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new database on the benchmark server, dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


def simulator_settings(
    url: str, simulator: Simulator, *, raw_schema: str = "dotloop_raw"
) -> Settings:
    """Settings that sync `simulator` into the database at `url`, unpaced."""
    config = simulator.config
    return Settings(
        database_url=Secret(url),
        raw_schema=raw_schema,
        dotloop=DotloopSettings(
            api_url=simulator.base_url,
            auth_url=simulator.auth_url,
            client_id=config.client_id,
            client_secret=Secret(config.client_secret),
            refresh_token=Secret(config.refresh_token),
            requests_per_minute=config.rate_limit_per_minute,
        ),
    )
