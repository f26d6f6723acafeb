"""`dotloop-reporter demo` on embedded defaults: nothing configured, real parts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import psycopg

from sync.embedded import with_database
from sync.settings import load_settings
from sync.superset_server import free_port

# Variables that would make the demo use something other than its defaults.
CONFIGURED = (
    "DATABASE_URL",
    "REDIS_URL",
    "DOTLOOP_CLIENT_ID",
    "DOTLOOP_CLIENT_SECRET",
    "DOTLOOP_REFRESH_TOKEN",
    "SUPERSET_URL",
    "SUPERSET_PASSWORD",
)


def test_demo_runs_end_to_end_with_nothing_configured(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURED}
    env["DOTLOOP_REPORTER_DATA_DIR"] = str(data_dir)

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sync.cli",
            "demo",
            "--loops",
            "120",
            "--superset-port",
            str(free_port()),
            "--exit-when-ready",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    assert "/superset/dashboard/" in output
    secrets_file = data_dir / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    # The admin password is shown on the first run, and never logged again.
    password = load_settings({})  # only to prove settings load without config
    assert password.database_url is None
    settings = with_database(
        load_settings({"DOTLOOP_REPORTER_DATA_DIR": str(data_dir)})
    )
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url.reveal()) as conn:
        row = conn.execute("SELECT count(*) FROM dotloop_raw.loop").fetchone()
        closed = conn.execute(
            "SELECT count(*) FROM reporting.loop_sides WHERE is_closed"
        ).fetchone()
    assert row == (120,)
    assert closed is not None and closed[0] > 0
