"""`dotloop-reporter sync` in the foreground: the summary it prints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from engine_support import SIM, company_id, settings_for

from connector.simulator import Simulator, generate_brokerage
from sync import db
from sync.engine import SyncRunResult
from sync.foreground import summarize, sync_in_foreground
from sync.leases import ProfileLeases
from sync.runs import RunCounts, RunDatabase, finish_run, start_run
from sync.settings import Settings

STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def result(
    incomplete: tuple[int, ...] = (), busy: tuple[int, ...] = ()
) -> SyncRunResult:
    return SyncRunResult(
        run_id=7,
        status="succeeded",
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=42),
        counts=RunCounts(profiles=3, loops_seen=120, requests=9),
        incomplete_profiles=incomplete,
        busy_profiles=busy,
    )


@pytest.mark.parametrize(
    ("incomplete", "busy", "tail"),
    [
        ((), (), "9 requests (0 throttled)"),
        ((11,), (), "; listing incomplete for profiles 11"),
        (
            (),
            (12, 13),
            "; skipped profiles 12, 13, which another sync run was syncing",
        ),
        (
            (11,),
            (12,),
            "; listing incomplete for profiles 11"
            "; skipped profiles 12, which another sync run was syncing",
        ),
    ],
    ids=["clean", "incomplete", "busy", "both"],
)
def test_the_summary_names_incomplete_and_busy_profiles(
    incomplete: tuple[int, ...], busy: tuple[int, ...], tail: str
) -> None:
    line = summarize(result(incomplete, busy))

    assert line.startswith("sync run 7 succeeded in 42s: 3 profiles, 120 loops")
    assert line.endswith(tail)


@contextmanager
def held_by_a_run(settings: Settings, profile_id: int) -> Iterator[None]:
    """The profile's lease held by a live run, as a worker's sync holds it."""
    schema = settings.raw_schema
    with RunDatabase(settings) as database:
        run = start_run(database.conn, schema, "queue")
        assert ProfileLeases(database, schema, run.run_id).take(profile_id) is None
        try:
            yield
        finally:
            database.transact(
                lambda conn: finish_run(
                    conn, schema, run.run_id, RunCounts(), status="succeeded"
                )
            )


def test_a_foreground_sync_says_which_profiles_it_skipped_as_busy(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = generate_brokerage(20, seed=31)
    company = company_id(data)
    with Simulator(data, SIM) as simulator:
        settings = replace(settings_for(database_url, simulator), data_dir=tmp_path)
        with db.connect(settings) as conn:
            db.apply_schema(conn, settings)
        with held_by_a_run(settings, company):
            code = sync_in_foreground(settings)

    printed = " ".join(capsys.readouterr().err.split())
    assert code == 0
    assert f"skipped profiles {company}, which another sync run was syncing" in (
        printed
    )
