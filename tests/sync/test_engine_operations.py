"""Operations around the sync: plan before it, replay after it, purge by policy."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from engine_support import (
    SIM,
    active_profiles,
    company_id,
    hide_totals,
    newest_first,
    query,
    settings_for,
    settled_brokerage,
    sync_once,
    touch,
)

from connector.secrets import Secret
from connector.simulator import SimulatedData, Simulator
from sync import db
from sync.errors import ConfigurationError
from sync.landing import land_page, quarantine
from sync.payloads import InvalidPayload
from sync.plan import NIGHTLY_WINDOW, plan_sync
from sync.replay import replay
from sync.retention import purge
from sync.settings import Settings, load_settings
from sync.tasks import build_client

LOOPS = 450


@pytest.fixture(scope="module")
def data() -> SimulatedData:
    data = settled_brokerage(LOOPS, 61)
    # A day's worth of edits for the nightly estimate.
    recent = newest_first(data, company_id(data))[100:112]
    touch(data, {e.loop_id: time.time() - 3600 * (i + 1) for i, e in enumerate(recent)})
    return data


@pytest.fixture
def simulator(data: SimulatedData) -> Iterator[Simulator]:
    with Simulator(data, SIM) as running:
        yield running


def plan_for(settings: Settings) -> Any:
    with build_client(settings) as client:
        return plan_sync(settings, client)


def test_a_plan_counts_each_profile_with_two_requests_at_most(
    database_url: str, data: SimulatedData, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    plan = plan_for(settings)

    since = time.time() - NIGHTLY_WINDOW.total_seconds()
    expected = {
        p["id"]: (
            len(data.listings[p["id"]]),
            sum(1 for e in data.listings[p["id"]].entries if e.updated >= since),
        )
        for p in active_profiles(data)
    }
    assert {p.profile_id: (p.loops, p.changed) for p in plan.profiles} == expected
    assert plan.requests_spent <= 1 + 2 * len(expected)
    assert plan.nightly.loops == expected[company_id(data)][1] >= 12


def test_a_plans_backfill_is_what_the_backfill_spends(
    database_url: str, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    plan = plan_for(settings)

    result = sync_once(settings)

    assert plan.backfill.requests == result.counts.requests
    assert plan.backfill.pages == result.counts.pages
    assert plan.backfill.loops == result.counts.participants_fetched == LOOPS
    rate = settings.dotloop.requests_per_minute
    assert plan.backfill.hours == pytest.approx(plan.backfill.requests / rate / 60)
    text = plan.render()
    assert f"{plan.backfill.requests:,} requests" in text
    assert f"{rate} requests a minute" in text


def test_a_plan_without_totals_leaves_the_profiles_out(
    database_url: str, data: SimulatedData
) -> None:
    hidden = dataclasses.replace(data, listings=dict(data.listings))
    hide_totals(hidden)
    with Simulator(hidden, SIM) as simulator:
        settings = settings_for(database_url, simulator)
        plan = plan_for(settings)

    assert all(p.loops is None for p in plan.profiles)
    assert plan.requests_spent == 1 + len(plan.profiles)
    assert "gave no totals" in plan.render()


def test_replay_rebuilds_the_reporting_views_without_dotloop(
    database_url: str, data: SimulatedData
) -> None:
    with Simulator(data, SIM) as simulator:
        settings = settings_for(database_url, simulator)
        sync_once(settings)
    # The simulator is gone: a request now would fail the replay.

    result = replay(settings)

    assert (result.loops, result.payloads > 2 * LOOPS) == (LOOPS, True)
    rows = query(settings, "SELECT count(*) FROM reporting.loops")
    assert rows == [(LOOPS,)]


NOW = datetime(2025, 6, 1, tzinfo=UTC)


def item(loop_id: int, updated: str, status: str = "UNDER_CONTRACT") -> Any:
    return {"id": loop_id, "updated": updated, "status": status, "details": {}}


@pytest.fixture
def retained(database_url: str) -> Iterator[Settings]:
    """Loops landed 100, 50 and 1 day(s) ago; one removed 40 days ago."""
    settings = Settings(database_url=Secret(database_url), retention_days=30)
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
        for days, status in ((100, "PRE_OFFER"), (50, "UNDER_CONTRACT"), (1, "SOLD")):
            when = NOW - timedelta(days=days)
            land(conn, settings, [item(1, when.isoformat(), status)], when)
        land(conn, settings, [item(2, "2025-01-01T00:00:00Z")], NOW - timedelta(90))
        conn.execute(
            "UPDATE dotloop_raw.loop SET removed_at = %s WHERE loop_id = 2",
            (NOW - timedelta(days=40),),
        )
        for days in (60, 5):
            quarantine(
                conn,
                schema=settings.raw_schema,
                run_id=None,
                profile_id=10,
                loop_id=None,
                source="loop_page",
                payload=InvalidPayload("not JSON", b"<html>"),
                now=NOW - timedelta(days=days),
            )
    yield settings


def land(conn: db.Connection, settings: Settings, items: Any, now: datetime) -> None:
    land_page(
        conn,
        schema=settings.raw_schema,
        run_id=None,
        profile_id=10,
        items=items,
        participants_by_loop={},
        now=now,
    )


def test_purge_keeps_current_payloads_and_deletes_what_the_policy_ends(
    retained: Settings,
) -> None:
    result = purge(retained, now=NOW)

    # Loop 1: the 100- and 50-day-old summaries go, the current one stays.
    assert query(
        retained,
        "SELECT entity_id, kind, payload->>'status' FROM {raw}.payload_version "
        "ORDER BY 1, 2",
    ) == [(1, "details", None), (1, "summary", "SOLD")]
    assert query(retained, "SELECT loop_id FROM {raw}.loop") == [(1,)]
    assert query(retained, "SELECT loop_id FROM {raw}.loop_profile") == [(1,)]
    assert query(retained, "SELECT count(*) FROM {raw}.quarantine") == [(1,)]
    assert (result.loops, result.history, result.quarantine) == (1, 2, 1)
    assert result.cutoff == NOW - timedelta(days=30)


def test_without_a_policy_purge_deletes_nothing(retained: Settings) -> None:
    unlimited = dataclasses.replace(retained, retention_days=None)

    result = purge(unlimited, now=NOW)

    assert result.cutoff is None
    assert query(retained, "SELECT count(*) FROM {raw}.payload_version") == [(6,)]


@pytest.mark.parametrize(
    ("value", "days"),
    [("", None), ("30", 30), ("365", 365)],
    ids=["unset", "30", "365"],
)
def test_the_retention_setting_is_read(value: str, days: int | None) -> None:
    assert load_settings({"DOTLOOP_RETENTION_DAYS": value}).retention_days == days


@pytest.mark.parametrize("value", ["0", "-5", "a month"])
def test_a_bad_retention_setting_says_what_to_set(value: str) -> None:
    with pytest.raises(ConfigurationError, match="DOTLOOP_RETENTION_DAYS"):
        load_settings({"DOTLOOP_RETENTION_DAYS": value})
