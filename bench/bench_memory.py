"""Peak memory of a sync worker during a backfill, for growing brokerages.

The simulator runs in this process; the worker is a separate process that
syncs the whole brokerage into a scratch database and reports its own peak
resident set size. The issue's bar: under 250 MB, not growing with N.

    .venv/bin/python bench/bench_memory.py [--loops 20000 200000]

By default 10,000 and 100,000 loops (about four minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from connector.simulator import Simulator, SimulatorConfig, generate_brokerage
from sync.settings import Settings, to_environ

from .harness import scratch_database, simulator_settings

ROOT = Path(__file__).resolve().parents[1]
SIM = SimulatorConfig(rate_limit_per_minute=100_000_000)

# VmHWM, not getrusage(): Linux carries ru_maxrss over exec, so a worker
# started from this process would report this process's peak.
WORKER = """
import json, sys
from connector import DotloopClient, RefreshTokenSource, RequestBudget
from sync.engine import run_sync
from sync.settings import load_settings

settings = load_settings()
d = settings.dotloop
tokens = RefreshTokenSource(d.auth_url, d.client_id, d.client_secret, d.refresh_token)
with DotloopClient(d.api_url, tokens, RequestBudget(d.requests_per_minute)) as client:
    result = run_sync(settings, client, trigger="bench")
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
print(json.dumps({"peak_kb": peak_kb, "loops": result.counts.loops_changed,
                  "requests": result.counts.requests}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    for count in args.loops:
        started = time.monotonic()
        data = generate_brokerage(count, seed=13)
        with Simulator(data, SIM) as simulator, scratch_database() as url:
            figures = run_worker(simulator_settings(url, simulator))
        minutes = (time.monotonic() - started) / 60
        print(
            f"{count:>8,} loops: worker peak RSS {figures['peak_kb'] / 1024:6.1f} MB "
            f"({figures['loops']:,} loops landed, {figures['requests']:,} requests, "
            f"{minutes:.1f} min)",
            flush=True,
        )


def run_worker(settings: Settings) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env={**os.environ, **to_environ(settings), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


if __name__ == "__main__":
    main()
