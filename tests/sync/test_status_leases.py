"""`status` with skipped runs and with profiles being synced right now."""

from __future__ import annotations

import psycopg
import pytest

from connector.secrets import Secret
from sync.db import apply_schema
from sync.leases import ProfileLeases
from sync.runs import RunDatabase, start_run
from sync.settings import Settings
from sync.status import print_status

PROFILE = 4242


@pytest.mark.parametrize(
    ("before_the_skipped_run", "exit_code"), [("succeeded", 0), ("failed", 1)]
)
def test_a_skipped_run_does_not_hide_how_the_last_real_run_went(
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    before_the_skipped_run: str,
    exit_code: int,
) -> None:
    settings = Settings(database_url=Secret(database_url))
    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_schema(conn, settings)
        conn.execute(
            "INSERT INTO dotloop_raw.sync_run (trigger, status, error) "
            "VALUES ('nightly', %s, NULL), ('manual', 'skipped', 'busy')",
            (before_the_skipped_run,),
        )

    code = print_status(settings)

    assert code == exit_code
    assert "skipped" in capsys.readouterr().out


def test_status_names_the_run_syncing_a_profile_while_it_lives(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=Secret(database_url))
    with RunDatabase(settings) as database:
        apply_schema(database.conn, settings)
        run = start_run(database.conn, settings.raw_schema, "manual")
        assert (
            ProfileLeases(database, settings.raw_schema, run.run_id).take(PROFILE)
            is None
        )

        print_status(settings)
        while_running = capsys.readouterr().out
    # The run's session is gone: the lease it left names no live run.
    print_status(settings)
    afterwards = capsys.readouterr().out

    assert syncing_now(while_running) == str(run.run_id)
    assert syncing_now(afterwards) == ""


def syncing_now(shown: str) -> str:
    """The last cell of the profile's freshness row."""
    table = shown.split("Freshness by profile")[1]
    row = next(line for line in table.splitlines() if line.startswith(f"│ {PROFILE}"))
    return row.split("│")[-2].strip()
