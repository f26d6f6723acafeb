"""Shared pieces of the engine tests: settings, queries, snapshots, a changing world.

Also gates and workers: a trigger that holds the landing of one loop's page
on an advisory lock, and a sync run in a process of its own to kill.

The generated brokerage is plain objects, so a test changes what the simulator
serves by editing loops (a new `updated`) or leaving them out of listings, then
giving each profile a new LoopListing (the simulator caches sorted pages per
listing object, so a new object serves the change).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from connector.secrets import Secret
from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from connector.simulator.data import LoopListing
from connector.simulator.faults import ApiCall, Fault, Handler
from connector.simulator.wire import Response
from sync.engine import SyncRunResult, run_sync
from sync.settings import DotloopSettings, Settings, to_environ
from sync.tasks import build_client

SCHEMA = "dotloop_raw"
LIST = "GET /profile/{pid}/loop"
PARTICIPANTS = "GET /profile/{pid}/loop/{lid}/participant"
SIM = SimulatorConfig(rate_limit_per_minute=1_000_000)


def settled_brokerage(loops: int, seed: int) -> SimulatedData:
    """A generated brokerage whose loops were all last edited a day or more ago.

    The generator fills the days up to midnight of the day it is given, so a
    test that edits loops "hours ago" right after midnight would otherwise
    find generated edits newer than its own.
    """
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    return generate_brokerage(loops, seed=seed, today=yesterday)


def settings_for(
    database_url: str, simulator: Simulator, *, schema: str = SCHEMA, **dotloop: Any
) -> Settings:
    values: dict[str, Any] = {
        "api_url": simulator.base_url,
        "auth_url": simulator.auth_url,
        "client_id": SIM.client_id,
        "client_secret": Secret(SIM.client_secret),
        "refresh_token": Secret(SIM.refresh_token),
        "requests_per_minute": 1_000_000,
    }
    values.update(dotloop)
    return Settings(
        database_url=Secret(database_url),
        raw_schema=schema,
        dotloop=DotloopSettings(**values),
    )


def sync_once(settings: Settings, **kwargs: Any) -> SyncRunResult:
    with build_client(settings) as client:
        return run_sync(settings, client, trigger="test", **kwargs)


def query(settings: Settings, text: str, *args: Any) -> list[tuple[Any, ...]]:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url.reveal()) as conn:
        return conn.execute(text.replace("{raw}", settings.raw_schema), args).fetchall()


def execute(settings: Settings, text: str, *args: Any) -> None:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url.reveal()) as conn:
        conn.execute(text.replace("{raw}", settings.raw_schema), args)


def endpoint_count(simulator: Simulator, endpoint: str) -> int:
    return int(simulator.stats()["requests_by_endpoint"].get(endpoint, 0))


def active_profiles(data: SimulatedData) -> list[dict[str, Any]]:
    profiles = data.profiles
    assert isinstance(profiles, dict)
    return [p for p in profiles["data"] if not p["deactivated"]]


def company_id(data: SimulatedData) -> int:
    return max(active_profiles(data), key=lambda p: len(data.listings[p["id"]]))["id"]


def listed_ids(
    data: SimulatedData, profile_ids: Iterable[int] | None = None
) -> set[int]:
    chosen = data.listings if profile_ids is None else list(profile_ids)
    return {
        entry.loop_id
        for pid in chosen
        for entry in data.listings[pid].entries
        if entry.loop_id is not None
    }


def newest_first(data: SimulatedData, profile_id: int) -> list[Any]:
    """A profile's loops in the order the listing serves them."""
    entries = list(data.listings[profile_id].entries)
    return sorted(entries, key=lambda e: (e.updated, e.loop_id), reverse=True)


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relist(data: SimulatedData, keep: Callable[[Any], bool] = lambda _: True) -> None:
    """Serve every profile a new listing of the loops `keep` accepts."""
    listings = data.listings
    assert isinstance(listings, dict)
    for pid, listing in list(listings.items()):
        listings[pid] = LoopListing(
            [entry for entry in listing.entries if keep(entry)],
            raw=listing.raw,
            hide_total=listing.hide_total,
        )


def touch(data: SimulatedData, moments: dict[int, float]) -> None:
    """Edit loops: each gets its new `updated` (epoch seconds) in every listing."""
    for listing in data.listings.values():
        for entry in listing.entries:
            if entry.loop_id in moments:
                entry.updated = moments[entry.loop_id]
    relist(data)


def drop(data: SimulatedData, loop_ids: Collection[int]) -> None:
    """Loops vanish from every listing (merged, deleted, access removed)."""
    relist(data, lambda entry: entry.loop_id not in loop_ids)


def hide_totals(data: SimulatedData) -> None:
    """Every listing answers meta.total -1 from now on."""
    listings = data.listings
    assert isinstance(listings, dict)
    for pid, listing in list(listings.items()):
        listings[pid] = LoopListing(
            list(listing.entries), raw=listing.raw, hide_total=True
        )


def on_list_page(
    profile_id: int, batch: int, change: Callable[[], None], *, times: int = 1
) -> Fault:
    """A fault that changes the world just before a listing page is served."""
    left = [times]

    def fault(call: ApiCall, handler: Handler) -> Response:
        if (
            left[0] > 0
            and call.endpoint == LIST
            and call.params["pid"] == profile_id
            and call.request.param("batch_number") == str(batch)
            and call.request.param("batch_size") != "1"
        ):
            left[0] -= 1
            change()
        return handler()

    return fault


def snapshot(settings: Settings) -> dict[str, Sequence[tuple[Any, ...]]]:
    """What a sync leaves in the raw tables, without times and run ids."""
    tables = {
        "loop": "SELECT loop_id, summary, details, participants, loop_updated, "
        "participants_for_updated, removed_at IS NULL FROM {raw}.loop "
        "ORDER BY loop_id",
        "loop_profile": "SELECT loop_id, profile_id, removed_at IS NULL "
        "FROM {raw}.loop_profile ORDER BY 1, 2",
        "payload_version": "SELECT kind, entity_id, content_hash, payload, current "
        "FROM {raw}.payload_version ORDER BY 1, 2, 3",
        "profile": "SELECT profile_id, payload FROM {raw}.profile ORDER BY 1",
        "watermarks": "SELECT profile_id, watermark FROM {raw}.profile_sync_state "
        "ORDER BY 1",
        "checkpoints": "SELECT profile_id FROM {raw}.listing_checkpoint",
        "quarantine": "SELECT source, reason FROM {raw}.quarantine ORDER BY 1, 2",
    }
    return {name: query(settings, text) for name, text in tables.items()}


def stored_versions(settings: Settings) -> dict[int, str]:
    return dict(query(settings, "SELECT loop_id, loop_updated FROM {raw}.loop"))


def served_versions(data: SimulatedData, profile_ids: Iterable[int]) -> dict[int, str]:
    return {
        entry.loop_id: iso(entry.updated)
        for pid in profile_ids
        for entry in data.listings[pid].entries
    }


class StopSync(Exception):
    """Raised from a progress callback to stop a run after some pages."""


def stop_after(pages: int) -> Callable[[Any], None]:
    def progress(state: Any) -> None:
        if state.counts.pages >= pages:
            raise StopSync(f"stopped after {pages} pages")

    return progress


class ListingRecorder:
    """A fault that answers normally and notes every listing request."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, int]] = []

    def __call__(self, call: ApiCall, handler: Handler) -> Response:
        if call.endpoint == LIST:
            self.calls.append(
                (
                    call.params["pid"],
                    int(call.request.param("batch_number") or 1),
                    int(call.request.param("batch_size") or 20),
                )
            )
        return handler()

    def batches(self, profile_id: int) -> list[tuple[int, int]]:
        """(batch_number, batch_size) of the profile's listing requests."""
        return [(b, s) for pid, b, s in self.calls if pid == profile_id]

    def clear(self) -> None:
        self.calls.clear()


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A database of its own for a module's shared fixture, dropped afterwards."""
    name = f"dlr_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


def wait_for_backends_to_end(settings: Settings) -> None:
    """A killed worker's Postgres session ends once Postgres sees the socket close."""
    assert settings.database_url is not None
    deadline = time.monotonic() + 10
    with psycopg.connect(settings.database_url.reveal(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND application_name = 'dotloop-reporter'"
            ).fetchone()
            if row == (0,):
                return
            time.sleep(0.02)
    pytest.fail("the killed worker's Postgres session did not end")


GATE = 4242


def gate_landing_of(settings: Settings, loop_id: int) -> None:
    """Make landing the page that holds loop_id wait on an advisory lock."""
    statement = sql.SQL(
        """
        CREATE FUNCTION {schema}.gate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock_shared({gate});
            RETURN NEW;
        END $$;
        CREATE TRIGGER gate BEFORE INSERT ON {schema}.loop FOR EACH ROW
            WHEN (NEW.loop_id = {loop_id}) EXECUTE FUNCTION {schema}.gate();
        """
    ).format(
        schema=sql.Identifier(settings.raw_schema),
        gate=sql.Literal(GATE),
        loop_id=sql.Literal(loop_id),
    )
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url.reveal()) as conn:
        conn.execute(statement)


def waiting_backend(conn: psycopg.Connection[Any], other_than: int = 0) -> int:
    """The pid of the sync's backend once it waits at the gate.

    other_than leaves out a backend just terminated, which lingers a moment.
    """
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'dotloop-reporter' AND wait_event = 'advisory' "
            "AND pid <> %s",
            (other_than,),
        ).fetchone()
        if row is not None:
            return int(row[0])
        time.sleep(0.01)
    pytest.fail("the sync never reached the gated page")


ROOT = Path(__file__).resolve().parents[2]

# The worker: a sync run with nothing else in the process.
WORKER = """
from connector import DotloopClient, RefreshTokenSource, RequestBudget
from sync.engine import run_sync
from sync.settings import load_settings

settings = load_settings()
dotloop = settings.dotloop
tokens = RefreshTokenSource(
    dotloop.auth_url, dotloop.client_id, dotloop.client_secret, dotloop.refresh_token
)
with DotloopClient(
    dotloop.api_url, tokens, RequestBudget(dotloop.requests_per_minute)
) as client:
    print("ready", flush=True)
    run_sync(settings, client, trigger="worker")
"""


def start_worker(settings: Settings) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env={**os.environ, **to_environ(settings), "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker
