"""Huey tasks: the nightly schedule, the backends, and a real consumer process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from huey import RedisHuey, SqliteHuey

from connector.secrets import Secret
from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from sync import db
from sync.engine import SyncRunResult
from sync.errors import ConfigurationError
from sync.settings import PROJECT_ROOT, Settings, load_settings
from sync.tasks import (
    build_client,
    create_app,
    create_huey,
    is_nightly,
    sync_all,
)

SIM = SimulatorConfig(rate_limit_per_minute=1_000_000)
LOOPS = 40
DENVER = zoneinfo.ZoneInfo("America/Denver")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# (instant, zone, hour, runs): DST dates are those of 2024.
NIGHTLY_CASES = [
    (utc(2024, 6, 1, 3, 0, 27), "UTC", 3, True),
    (utc(2024, 6, 1, 3, 1), "UTC", 3, False),
    (utc(2024, 6, 1, 2, 59, 59), "UTC", 3, False),
    (utc(2024, 1, 15, 10, 0), "America/Denver", 3, True),  # 03:00 MST
    (utc(2024, 7, 15, 9, 0), "America/Denver", 3, True),  # 03:00 MDT
    (utc(2024, 7, 15, 10, 0), "America/Denver", 3, False),  # 04:00 MDT
    # Spring forward: 02:00 MST never happens; run at 03:00 MDT instead.
    (utc(2024, 3, 10, 9, 0), "America/Denver", 2, True),
    (utc(2024, 3, 10, 8, 0), "America/Denver", 2, False),  # 01:00 MST
    # Fall back: 01:00 happens twice; run at the first (MDT) only.
    (utc(2024, 11, 3, 7, 0), "America/Denver", 1, True),
    (utc(2024, 11, 3, 8, 0), "America/Denver", 1, False),
    (utc(2024, 3, 31, 1, 0), "Europe/Berlin", 2, True),  # skipped 02:00 CET
    (utc(2024, 10, 27, 0, 0), "Europe/Berlin", 2, True),  # first 02:00 CEST
    (utc(2024, 10, 27, 1, 0), "Europe/Berlin", 2, False),  # second 02:00 CET
    (utc(2024, 6, 1, 21, 30), "Asia/Kolkata", 3, True),  # next local day
    (utc(2024, 6, 1, 12, 0), "Pacific/Auckland", 0, True),  # NZST midnight
]


@pytest.mark.parametrize(("instant", "zone", "hour", "runs"), NIGHTLY_CASES)
def test_nightly_schedule_in_local_time(
    instant: datetime, zone: str, hour: int, runs: bool
) -> None:
    assert is_nightly(instant, hour=hour, timezone=zone) is runs
    naive = instant.replace(tzinfo=None)
    assert is_nightly(naive, hour=hour, timezone=zone) is runs


def test_each_night_runs_exactly_once_across_a_dst_year() -> None:
    minutes: dict[str, int] = {}
    moment = utc(2024, 1, 1)
    end = utc(2025, 1, 1)
    step = 60 * 15  # quarter hours cover every offset in America/Denver
    while moment < end:
        if is_nightly(moment, hour=2, timezone="America/Denver"):
            day = moment.astimezone(DENVER).date().isoformat()
            minutes[day] = minutes.get(day, 0) + 1
        moment = datetime.fromtimestamp(moment.timestamp() + step, UTC)

    assert len(minutes) == 366
    assert set(minutes.values()) == {1}


def test_the_periodic_task_is_due_at_the_nightly_hour(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, timezone="America/Denver", nightly_hour=4)
    app = create_app(settings)

    due = app.huey.read_periodic(datetime(2024, 1, 15, 11, 0))  # 04:00 MST
    not_due = app.huey.read_periodic(datetime(2024, 1, 15, 12, 0))

    assert [type(task).__name__ for task in due] == ["nightly_sync"]
    assert not_due == []


def test_the_queue_is_redis_when_configured(redis_url: str, tmp_path: Path) -> None:
    huey = create_huey(Settings(data_dir=tmp_path, redis_url=Secret(redis_url)))

    assert isinstance(huey, RedisHuey)
    assert not (tmp_path / "huey.db").exists()


def test_the_queue_is_sqlite_in_the_data_dir_by_default(tmp_path: Path) -> None:
    huey = create_huey(Settings(data_dir=tmp_path / "data"))

    assert isinstance(huey, SqliteHuey)
    assert (tmp_path / "data" / "huey.db").exists()


def test_a_client_needs_dotloop_credentials(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="DOTLOOP_CLIENT_ID"):
        build_client(Settings(data_dir=tmp_path))


@pytest.fixture(scope="module")
def brokerage() -> SimulatedData:
    return generate_brokerage(LOOPS, seed=5)


@pytest.fixture
def simulator(brokerage: SimulatedData) -> Iterator[Simulator]:
    with Simulator(brokerage, SIM) as sim:
        yield sim


def environment(
    database_url: str, simulator: Simulator, data_dir: Path, redis_url: str | None
) -> dict[str, str]:
    """The variables a deployed worker would get, pointed at the simulator."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DOTLOOP_", "REDIS_", "DATABASE_", "REPORTING_"))
    }
    # An hour that is not now, so the schedule stays out of the way.
    quiet_hour = (datetime.now(UTC).hour + 12) % 24
    env = {
        **inherited,
        "DATABASE_URL": database_url,
        "DOTLOOP_REPORTER_DATA_DIR": str(data_dir),
        "DOTLOOP_API_URL": simulator.base_url,
        "DOTLOOP_AUTH_URL": simulator.auth_url,
        "DOTLOOP_CLIENT_ID": SIM.client_id,
        "DOTLOOP_CLIENT_SECRET": SIM.client_secret,
        "DOTLOOP_REFRESH_TOKEN": SIM.refresh_token,
        "DOTLOOP_REQUESTS_PER_MINUTE": "1000000",
        "DOTLOOP_SYNC_HOUR": str(quiet_hour),
    }
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    return env


def stored_loops(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM dotloop_raw.loop").fetchone()
    assert row is not None
    return int(row[0])


def test_sync_all_runs_in_process(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    settings = load_settings(environment(database_url, simulator, tmp_path, None))

    result = sync_all(settings, "manual")

    assert result is not None
    assert (result.status, result.counts.loops_changed) == ("succeeded", LOOPS)
    assert stored_loops(database_url) == LOOPS


def test_sync_all_steps_aside_while_another_run_holds_the_lock(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    settings = load_settings(environment(database_url, simulator, tmp_path, None))
    with db.connect(settings) as holder:
        holder.execute(
            "SELECT pg_advisory_lock(hashtext(%s))",
            ("dotloop-reporter:sync:dotloop_raw",),
        )

        assert sync_all(settings, "manual") is None


@pytest.fixture(params=["redis", "sqlite"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """The queue's REDIS_URL, or None for SQLite in the data directory."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def worker_env(
    database_url: str, simulator: Simulator, tmp_path: Path, backend: str | None
) -> dict[str, str]:
    return environment(database_url, simulator, tmp_path / "data", backend)


@pytest.fixture
def worker(
    worker_env: dict[str, str], tmp_path: Path
) -> Iterator[subprocess.Popen[Any]]:
    """A consumer process started the way a deployment starts it."""
    script = (
        "from sync.settings import load_settings\n"
        "from sync.tasks import run_worker\n"
        "import logging\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "run_worker(load_settings(), workers=2)\n"
    )
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=worker_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_a_queued_sync_is_run_by_a_consumer_process(
    worker: subprocess.Popen[Any],
    worker_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    app = create_app(load_settings(worker_env))

    pending = app.sync_all("queued")
    try:
        result = pending.get(blocking=True, timeout=60)
    except Exception:
        print((tmp_path / "worker.log").read_text(errors="replace"))
        raise

    assert isinstance(result, SyncRunResult)
    assert (result.status, result.counts.loops_changed) == ("succeeded", LOOPS)
    assert stored_loops(database_url) == LOOPS
    with psycopg.connect(database_url) as conn:
        runs = conn.execute(
            "SELECT trigger, status FROM dotloop_raw.sync_run"
        ).fetchall()
    assert runs == [("queued", "succeeded")]
