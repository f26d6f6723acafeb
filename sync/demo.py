"""The main job on one machine: simulator, sync, views, worker and Superset.

Anything configured in the environment (DATABASE_URL, REDIS_URL, DOTLOOP_*,
SUPERSET_URL) is used as it is; everything else gets a local default in the
data directory, so `dotloop-reporter demo` runs on a machine with nothing set up.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack

from rich.console import Console

from connector.secrets import Secret
from connector.simulator import Simulator, SimulatorConfig, generate_brokerage

from . import db
from .brokerage import load_brokerage
from .embedded import with_database
from .foreground import summarize, sync_with_progress
from .local_secrets import LocalSecrets, load_or_create
from .settings import Settings, to_environ
from .superset_server import LocalSuperset, free_port, prepare
from .superset_server import start as start_superset
from .superset_setup import import_bundle_to, import_with
from .views import apply_views

logger = logging.getLogger(__name__)

# The simulator answers 1,500 requests a minute and the client budgets 1,200,
# so the ~2,050 requests of a 2,000-loop brokerage take under two minutes.
DEMO_SERVER_LIMIT = 1500
DEMO_CLIENT_BUDGET = 1200
DEMO_SEED = 1
GUEST_TOKEN_AUDIENCE = "dotloop-reporter"

console = Console(stderr=True)


def run_demo(settings: Settings, *, loops: int, superset_port: int, serve: bool) -> int:
    """Bring everything up, sync, import the dashboards; serve until Ctrl-C."""
    # SIGTERM (a service manager, `kill`) stops as cleanly as Ctrl-C, so the
    # worker, Superset and Postgres are stopped too; SIGINT is re-armed because
    # a shell that starts us in the background ignores it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    local = load_or_create(settings.data_dir / "secrets.json")
    settings = _with_local_reader_password(with_database(settings), local)
    with ExitStack() as stack:
        simulated = not settings.dotloop.configured
        if simulated:
            settings = _start_simulator(stack, settings, loops)
        with db.connect(settings) as conn:
            db.apply_schema(conn, settings)
            apply_views(conn, settings)
            _load_brokerage(conn, settings, simulated)
        result = sync_with_progress(settings, trigger="demo")
        console.print(summarize(result))
        stack.callback(_stop, _start_worker(settings))
        dashboard_url = _dashboards(stack, settings, local, superset_port)
        _announce(dashboard_url, settings, local)
        if serve:
            _wait_for_interrupt()
    return 0


def _with_local_reader_password(settings: Settings, local: LocalSecrets) -> Settings:
    if settings.reporting_reader_password is not None:
        return settings
    return dataclasses.replace(
        settings, reporting_reader_password=local.reporting_reader_password
    )


def _start_simulator(stack: ExitStack, settings: Settings, loops: int) -> Settings:
    config = SimulatorConfig(rate_limit_per_minute=DEMO_SERVER_LIMIT)
    simulator = stack.enter_context(
        Simulator(generate_brokerage(loops, seed=DEMO_SEED), config)
    )
    console.print(
        f"Dotloop simulator with {loops} loops at {simulator.base_url} "
        f"(stats: {simulator.base_url.split('/public')[0]}/_simulator/stats)"
    )
    dotloop = dataclasses.replace(
        settings.dotloop,
        api_url=simulator.base_url,
        auth_url=simulator.auth_url,
        client_id=config.client_id,
        client_secret=Secret(config.client_secret),
        refresh_token=Secret(config.refresh_token),
        requests_per_minute=DEMO_CLIENT_BUDGET,
    )
    return dataclasses.replace(settings, dotloop=dotloop)


def _load_brokerage(conn: db.Connection, settings: Settings, simulated: bool) -> None:
    """DOTLOOP_REPORTER_BROKERAGE_FILE, else the simulated brokerage's roster.

    The sync that follows refreshes the reports with it.
    """
    path = settings.brokerage_file
    if path is None and simulated:
        path = settings.datasets_dir / "brokerage" / "demo.yaml"
    if path is not None:
        brokerage = load_brokerage(conn, settings, path)
        console.print(f"Brokerage from {path}: {brokerage.summary()}")


def _start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    """The Huey consumer, as its own process, running the nightly schedule."""
    log_path = settings.data_dir / "logs" / "worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sync.cli", "worker"],
            env={**os.environ, **to_environ(settings)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    console.print(f"Huey worker running (pid {process.pid}, log {log_path})")
    return process


def _dashboards(
    stack: ExitStack, settings: Settings, local: LocalSecrets, port: int
) -> str:
    if settings.superset.url is not None:
        return import_bundle_to(settings)
    local_superset = LocalSuperset(
        home=settings.data_dir / "superset",
        secret_key=local.superset_secret_key,
        admin_password=local.superset_admin_password,
        port=_free_or_other(port),
        env=_superset_env(settings, local),
    )
    console.print("Preparing Superset (the first time takes about a minute)...")
    prepare(local_superset)
    server = stack.enter_context(start_superset(local_superset))
    with server.client() as client:
        return import_with(client, settings, url=server.url, bundle=None)


def _superset_env(settings: Settings, local: LocalSecrets) -> dict[str, str]:
    env = {
        "GUEST_TOKEN_JWT_SECRET": local.guest_token_secret.reveal(),
        "GUEST_TOKEN_JWT_AUDIENCE": GUEST_TOKEN_AUDIENCE,
        "DOTLOOP_REPORTER_DATA_DIR": str(settings.data_dir),
    }
    if settings.redis_url is not None:
        # Superset's caches go to the same Redis as the queue when one is set.
        env["REDIS_URL"] = settings.redis_url.reveal()
    return env


def _free_or_other(port: int) -> int:
    if _port_is_free(port):
        return port
    other = free_port()
    console.print(f"Port {port} is taken; Superset will listen on {other} instead.")
    return other


def _announce(dashboard_url: str, settings: Settings, local: LocalSecrets) -> None:
    console.print(f"\n[bold]Brokerage GCI dashboard:[/bold] {dashboard_url}")
    if settings.superset.url is None:
        if local.created:
            password = local.superset_admin_password.reveal()
            console.print(f"Log in as admin / {password}  (shown this once)")
        else:
            secrets_file = settings.data_dir / "secrets.json"
            console.print(f"Log in as admin; the password is in {secrets_file}")


def _wait_for_interrupt() -> None:
    console.print("Serving; press Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("Stopping...")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # As a server binds: a port in TIME_WAIT after our last run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
