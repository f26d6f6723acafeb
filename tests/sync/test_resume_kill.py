"""A worker killed at random moments of a backfill, and a connection killed mid-page."""

from __future__ import annotations

import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from engine_support import (
    GATE,
    PARTICIPANTS,
    SIM,
    company_id,
    endpoint_count,
    gate_landing_of,
    newest_first,
    query,
    settings_for,
    snapshot,
    start_worker,
    sync_once,
    wait_for_backends_to_end,
    waiting_backend,
)

from connector.simulator import Simulator, generate_brokerage
from sync import db
from sync.settings import Settings

LOOPS = 2000
KILLS = 20
# A worker is killed this long after it said it was ready, or after it landed
# a page: a moment anywhere in starting up, fetching or landing.
KILL_AFTER_SECONDS = (0.0, 0.25)


@pytest.mark.slow
def test_a_backfill_killed_twenty_times_ends_like_a_clean_run(
    database_url: str,
) -> None:
    data = generate_brokerage(LOOPS, seed=31)
    rng = random.Random(31)
    with Simulator(data, SIM) as simulator:
        clean = settings_for(database_url, simulator, schema="clean_run")
        sync_once(clean)
        expected = snapshot(clean)
        settings = settings_for(database_url, simulator)
        participants_before = endpoint_count(simulator, PARTICIPANTS)
        mid_listing = 0
        for kill in range(KILLS):
            worker = start_worker(settings)
            # Every other kill waits for a page to land first, so the kills
            # spread over the whole backfill and not only over start-ups.
            if kill % 2:
                wait_for_a_page(settings, progress(settings))
            time.sleep(rng.uniform(*KILL_AFTER_SECONDS))
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=10) == -signal.SIGKILL
            wait_for_backends_to_end(settings)
            mid_listing += progress(settings)[2]

        finished = sync_once(settings)

        participants = endpoint_count(simulator, PARTICIPANTS) - participants_before
    assert snapshot(settings) == expected
    assert finished.incomplete_profiles == ()
    # Most kills left a listing part way, which the next run resumed.
    assert mid_listing >= KILLS // 2
    # A participant list is asked for again only when its page had not landed.
    assert participants <= LOOPS + KILLS * 100
    # Runs killed after they started are closed as failed by the next one.
    statuses = [s for (s,) in query(settings, "SELECT status FROM {raw}.sync_run")]
    assert statuses.count("succeeded") == 1
    assert statuses.count("failed") == len(statuses) - 1


def progress(settings: Settings) -> tuple[int, int, int]:
    """(loops stored, pages landed by listings under way, listings under way)."""
    if query(settings, "SELECT to_regclass('{raw}.listing_checkpoint')") == [(None,)]:
        return (0, 0, 0)
    row = query(
        settings,
        "SELECT (SELECT count(*) FROM {raw}.loop), "
        "coalesce(sum(pages_landed), 0), count(*) FROM {raw}.listing_checkpoint",
    )[0]
    return (int(row[0]), int(row[1]), int(row[2]))


def wait_for_a_page(settings: Settings, before: tuple[int, int, int]) -> None:
    deadline = time.monotonic() + 30
    while progress(settings)[:2] == before[:2]:
        if time.monotonic() > deadline:
            pytest.fail("the worker landed no page in 30 s")
        time.sleep(0.005)


def test_a_connection_killed_mid_page_lands_the_page_again_whole(
    database_url: str,
) -> None:
    data = generate_brokerage(450, seed=32)
    company = company_id(data)
    # The gate is on the 150th loop: the second page of the company listing.
    gated = newest_first(data, company)[149].loop_id
    with Simulator(data, SIM) as simulator:
        clean = settings_for(database_url, simulator, schema="clean_run")
        sync_once(clean)
        settings = settings_for(database_url, simulator)
        with db.connect(settings) as conn:
            db.apply_schema(conn, settings)
        gate_landing_of(settings, gated)
        assert settings.database_url is not None
        with (
            psycopg.connect(settings.database_url.reveal(), autocommit=True) as admin,
            ThreadPoolExecutor(1) as pool,
        ):
            admin.execute("SELECT pg_advisory_lock(%s)", (GATE,))
            running = pool.submit(sync_once, settings)
            first = waiting_backend(admin)
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
            # The page is landed again on a new connection, which waits at the
            # gate too: nothing of the first attempt was kept meanwhile.
            second = waiting_backend(admin, other_than=first)
            page_rows = query(
                settings,
                "SELECT count(*), max(batch_number) FROM {raw}.loop_profile "
                "CROSS JOIN {raw}.listing_checkpoint",
            )
            admin.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
            result = running.result(timeout=60)

    assert second != first
    assert page_rows == [(100, 1)]
    assert result.status == "succeeded"
    assert snapshot(settings) == snapshot(clean)
