"""`dotloop-reporter status`: recent runs and freshness, read-only."""

from __future__ import annotations

import psycopg
import pytest

from connector.secrets import Secret
from sync.db import apply_schema
from sync.errors import StorageError
from sync.settings import Settings
from sync.status import print_status


def _settings(database_url: str) -> Settings:
    return Settings(database_url=Secret(database_url))


@pytest.mark.parametrize(
    ("last_status", "exit_code"), [("succeeded", 0), ("failed", 1)]
)
def test_status_lists_runs_and_fails_after_a_failed_run(
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    last_status: str,
    exit_code: int,
) -> None:
    settings = _settings(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_schema(conn, settings)
        conn.execute(
            "INSERT INTO dotloop_raw.sync_run (trigger, status, loops_seen) "
            "VALUES ('nightly', 'succeeded', 11), ('manual', %s, 22)",
            (last_status,),
        )

    code = print_status(settings)

    shown = capsys.readouterr().out
    assert code == exit_code
    assert "nightly" in shown and "manual" in shown and last_status in shown


def test_status_creates_nothing_in_an_empty_database(database_url: str) -> None:
    with pytest.raises(StorageError, match="sync runs"):
        print_status(_settings(database_url))

    with psycopg.connect(database_url) as conn:
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'dotloop_raw'"
        ).fetchone()
    assert schemas == (0,)


@pytest.mark.parametrize(
    ("nightly_status", "exit_code"), [("succeeded", 0), ("failed", 1)]
)
def test_webhook_loop_syncs_neither_crowd_out_nor_decide_the_status(
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    nightly_status: str,
    exit_code: int,
) -> None:
    settings = _settings(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_schema(conn, settings)
        conn.execute(
            "INSERT INTO dotloop_raw.sync_run (trigger, status, loops_seen) "
            "VALUES ('nightly', %s, 11)",
            (nightly_status,),
        )
        conn.execute(
            "INSERT INTO dotloop_raw.sync_run (trigger, status, loops_seen) "
            "SELECT 'webhook', CASE WHEN n % 2 = 0 THEN 'succeeded' ELSE 'failed' "
            "END, 1 FROM generate_series(1, 12) AS n"
        )

    code = print_status(settings, limit=5)

    shown = capsys.readouterr().out
    assert code == exit_code
    assert "nightly" in shown
    assert "webhook" not in shown
