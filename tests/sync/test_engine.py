"""Sync runs against the simulator over a socket, landing into real Postgres."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from connector import AuthenticationError
from connector.secrets import Secret
from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from connector.simulator.faults import ApiCall, Fault, Handler
from connector.simulator.wire import Response, error_response
from sync import db
from sync.engine import SyncProgress, run_sync
from sync.errors import SyncInProgressError
from sync.settings import DotloopSettings, Settings
from sync.tasks import build_client

# A brokerage of about the size the brief of a full sync asks for, and a smaller
# one (still more than one page for the company profile) for everything else.
FULL_LOOPS = 300
LOOPS = 120
SCHEMA = "dotloop_raw"
LIST = "GET /profile/{pid}/loop"
PARTICIPANTS = "GET /profile/{pid}/loop/{lid}/participant"
SIM = SimulatorConfig(rate_limit_per_minute=1_000_000)


@pytest.fixture(scope="module")
def brokerage() -> SimulatedData:
    return generate_brokerage(LOOPS, seed=11)


@pytest.fixture(scope="module")
def full_brokerage() -> SimulatedData:
    return generate_brokerage(FULL_LOOPS, seed=12)


def all_loop_ids(data: SimulatedData) -> set[int]:
    return {
        entry.loop_id
        for listing in data.listings.values()
        for entry in listing.entries
        if entry.loop_id is not None
    }


def active_profiles(data: SimulatedData) -> list[dict[str, Any]]:
    profiles = data.profiles
    assert isinstance(profiles, dict)
    return [p for p in profiles["data"] if not p["deactivated"]]


def settings_for(database_url: str, simulator: Simulator, **dotloop: Any) -> Settings:
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
        database_url=Secret(database_url), dotloop=DotloopSettings(**values)
    )


def start(data: SimulatedData, faults: Sequence[Fault] = ()) -> Simulator:
    return Simulator(data, SIM, faults=faults).start()


@pytest.fixture
def simulator(brokerage: SimulatedData) -> Iterator[Simulator]:
    sim = start(brokerage)
    yield sim
    sim.stop()


def sync_once(settings: Settings, **kwargs: Any) -> Any:
    with build_client(settings) as client:
        return run_sync(settings, client, trigger="test", **kwargs)


def query(settings: Settings, text: str, *args: Any) -> list[tuple[Any, ...]]:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url.reveal()) as conn:
        return conn.execute(text, args).fetchall()


def execute(settings: Settings, text: str, *args: Any) -> None:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url.reveal()) as conn:
        conn.execute(text, args)


def endpoint_count(simulator: Simulator, endpoint: str) -> int:
    return int(simulator.stats()["requests_by_endpoint"].get(endpoint, 0))


def test_a_full_sync_lands_every_loop_and_a_second_spends_only_list_pages(
    database_url: str, full_brokerage: SimulatedData
) -> None:
    with Simulator(full_brokerage, SIM) as simulator:
        settings = settings_for(database_url, simulator)
        first = sync_once(settings)
        participant_requests = endpoint_count(simulator, PARTICIPANTS)
        history = query(settings, f"SELECT count(*) FROM {SCHEMA}.payload_version")
        second = sync_once(settings)

        assert endpoint_count(simulator, PARTICIPANTS) == participant_requests

    stored = {row[0] for row in query(settings, f"SELECT loop_id FROM {SCHEMA}.loop")}
    assert stored == all_loop_ids(full_brokerage)
    assert first.status == "succeeded"
    assert first.counts.profiles == len(active_profiles(full_brokerage))
    # A loop in several profiles is fetched once.
    assert first.counts.loops_seen > FULL_LOOPS
    assert first.counts.loops_changed == FULL_LOOPS
    assert participant_requests == first.counts.participants_fetched == FULL_LOOPS
    missing = query(
        settings, f"SELECT count(*) FROM {SCHEMA}.loop WHERE participants IS NULL"
    )
    assert missing == [(0,)]
    assert (second.counts.participants_fetched, second.counts.loops_changed) == (0, 0)
    assert second.counts.requests < first.counts.pages
    assert query(settings, f"SELECT count(*) FROM {SCHEMA}.payload_version") == history


def test_links_follow_the_listings_of_active_profiles(
    database_url: str, simulator: Simulator, brokerage: SimulatedData
) -> None:
    settings = settings_for(database_url, simulator)
    sync_once(settings)

    links = query(
        settings,
        f"SELECT profile_id, count(*) FROM {SCHEMA}.loop_profile GROUP BY profile_id",
    )
    expected = {
        p["id"]: len(brokerage.listings[p["id"]]) for p in active_profiles(brokerage)
    }
    assert dict(links) == {pid: n for pid, n in expected.items() if n}


def test_stored_payloads_match_what_the_api_serves(
    database_url: str, simulator: Simulator, brokerage: SimulatedData
) -> None:
    settings = settings_for(database_url, simulator)
    sync_once(settings)

    company = max(brokerage.listings.values(), key=len)
    for entry in list(company.entries)[:20]:
        row = query(
            settings,
            f"SELECT summary, details, participants FROM {SCHEMA}.loop "
            "WHERE loop_id = %s",
            entry.loop_id,
        )
        summary = dict(entry.summary())
        served_people = entry.participants()
        assert isinstance(served_people, dict)
        assert row == [(summary, entry.details_object(), served_people["data"])]


def test_watermarks_cover_the_newest_loop_but_not_past_the_run_start(
    database_url: str, simulator: Simulator, brokerage: SimulatedData
) -> None:
    settings = settings_for(database_url, simulator)
    result = sync_once(settings)

    state = dict(
        query(
            settings, f"SELECT profile_id, watermark FROM {SCHEMA}.profile_sync_state"
        )
    )
    for profile in active_profiles(brokerage):
        listing = brokerage.listings[profile["id"]]
        if not len(listing):
            assert state[profile["id"]] is None
            continue
        newest = max(
            datetime.fromisoformat(entry.summary()["updated"])
            for entry in listing.entries
        )
        assert state[profile["id"]] == min(newest, result.started_at)


def test_a_watermark_never_moves_backwards(
    database_url: str, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    sync_once(settings)
    future = datetime.now(UTC) + timedelta(days=30)
    execute(settings, f"UPDATE {SCHEMA}.profile_sync_state SET watermark = %s", future)

    sync_once(settings)

    marks = query(
        settings, f"SELECT DISTINCT watermark FROM {SCHEMA}.profile_sync_state"
    )
    assert marks == [(future,)]


def test_only_loops_whose_updated_moved_get_participants_again(
    database_url: str, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    sync_once(settings)
    stale = [
        row[0]
        for row in query(
            settings, f"SELECT loop_id FROM {SCHEMA}.loop ORDER BY loop_id LIMIT 3"
        )
    ]
    execute(
        settings,
        f"UPDATE {SCHEMA}.loop SET loop_updated = '2001-01-01T00:00:00Z' "
        "WHERE loop_id = ANY(%s)",
        stale,
    )
    # Forget the watermarks so the next run lists every loop again.
    execute(settings, f"DELETE FROM {SCHEMA}.profile_sync_state")
    before = endpoint_count(simulator, PARTICIPANTS)

    result = sync_once(settings)

    assert result.counts.loops_changed == 3
    assert endpoint_count(simulator, PARTICIPANTS) - before == 3
    restored = query(
        settings,
        f"SELECT count(*) FROM {SCHEMA}.loop "
        "WHERE loop_id = ANY(%s) AND loop_updated = participants_for_updated",
        stale,
    )
    assert restored == [(3,)]


def test_configured_profile_ids_limit_the_run(
    database_url: str, simulator: Simulator, brokerage: SimulatedData
) -> None:
    small = min(
        (p for p in active_profiles(brokerage) if len(brokerage.listings[p["id"]])),
        key=lambda p: len(brokerage.listings[p["id"]]),
    )
    settings = settings_for(database_url, simulator, profile_ids=(small["id"],))

    result = sync_once(settings)

    assert result.counts.profiles == 1
    assert result.counts.loops_seen == len(brokerage.listings[small["id"]])
    assert query(
        settings, f"SELECT DISTINCT profile_id FROM {SCHEMA}.loop_profile"
    ) == [(small["id"],)]


def test_progress_is_reported_after_every_page(
    database_url: str, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    seen: list[SyncProgress] = []

    result = sync_once(settings, progress=seen.append)

    assert len(seen) == result.counts.pages
    assert [p.counts.pages for p in seen] == list(range(1, result.counts.pages + 1))
    assert seen[-1].counts.loops_seen == result.counts.loops_seen
    assert {p.run_id for p in seen} == {result.run_id}


def test_the_run_row_holds_the_counts(database_url: str, simulator: Simulator) -> None:
    settings = settings_for(database_url, simulator)
    result = sync_once(settings)

    row = query(
        settings,
        f"SELECT trigger, status, profiles, pages, loops_seen, loops_changed, "
        f"participants_fetched, quarantined, requests, throttled, error "
        f"FROM {SCHEMA}.sync_run WHERE run_id = %s",
        result.run_id,
    )
    c = result.counts
    assert row == [
        (
            "test",
            "succeeded",
            c.profiles,
            c.pages,
            c.loops_seen,
            c.loops_changed,
            c.participants_fetched,
            c.quarantined,
            c.requests,
            c.throttled,
            None,
        )
    ]
    # One token refresh, one profile list, the pages, the participant lists.
    assert c.requests == 1 + c.pages + c.participants_fetched


def html_page(profile_id: int, batch: str) -> Fault:
    def fault(call: ApiCall, handler: Handler) -> Response:
        if (
            call.endpoint == LIST
            and call.params["pid"] == profile_id
            and call.request.param("batch_number") == batch
        ):
            return Response(200, b"<html>maintenance</html>", content_type="text/html")
        return handler()

    return fault


def test_an_unusable_page_is_quarantined_and_its_profile_left_incomplete(
    database_url: str, brokerage: SimulatedData
) -> None:
    company = max(
        active_profiles(brokerage), key=lambda p: len(brokerage.listings[p["id"]])
    )
    with Simulator(brokerage, SIM, faults=[html_page(company["id"], "2")]) as sim:
        settings = settings_for(database_url, sim)
        result = sync_once(settings)

    assert result.status == "succeeded"
    assert result.incomplete_profiles == (company["id"],)
    assert result.counts.quarantined == 1
    assert query(
        settings, f"SELECT profile_id, source, raw FROM {SCHEMA}.quarantine"
    ) == [(company["id"], "loop_page", b"<html>maintenance</html>")]
    marks = dict(
        query(
            settings, f"SELECT profile_id, watermark FROM {SCHEMA}.profile_sync_state"
        )
    )
    assert company["id"] not in marks
    assert len(marks) == len(active_profiles(brokerage)) - 1
    # The first page of the broken profile still landed.
    linked = query(
        settings,
        f"SELECT count(*) FROM {SCHEMA}.loop_profile WHERE profile_id = %s",
        company["id"],
    )
    assert linked == [(100,)]


def participant_fault(broken: set[int], response: Response) -> Fault:
    def fault(call: ApiCall, handler: Handler) -> Response:
        if call.endpoint == PARTICIPANTS and call.params["lid"] in broken:
            return response
        return handler()

    return fault


@pytest.mark.parametrize(
    ("response", "quarantined"),
    [
        (Response(200, b"not json at all", content_type="text/plain"), 1),
        (error_response(404, "not_found", "loop merged"), 0),
    ],
    ids=["not-json", "not-found"],
)
def test_a_participant_failure_skips_only_that_loop(
    database_url: str, brokerage: SimulatedData, response: Response, quarantined: int
) -> None:
    broken = sorted(all_loop_ids(brokerage))[0]
    faults = [participant_fault({broken}, response)]
    with Simulator(brokerage, SIM, faults=faults) as sim:
        settings = settings_for(database_url, sim)
        result = sync_once(settings)

    assert result.status == "succeeded"
    assert result.counts.participants_fetched == LOOPS - 1
    assert result.counts.quarantined == quarantined
    assert query(
        settings, f"SELECT loop_id FROM {SCHEMA}.loop WHERE participants IS NULL"
    ) == [(broken,)]
    if quarantined:
        assert query(
            settings, f"SELECT loop_id, source, raw FROM {SCHEMA}.quarantine"
        ) == [(broken, "participants", b"not json at all")]


def test_a_failed_run_is_recorded_redacted_and_raised(
    database_url: str, simulator: Simulator
) -> None:
    settings = settings_for(
        database_url, simulator, refresh_token=Secret("wrong-refresh-token")
    )

    with pytest.raises(AuthenticationError):
        sync_once(settings)

    rows = query(settings, f"SELECT status, error, finished_at FROM {SCHEMA}.sync_run")
    assert len(rows) == 1
    status, error, finished_at = rows[0]
    assert (status, finished_at is not None) == ("failed", True)
    assert error.startswith("AuthenticationError")
    assert "wrong-refresh-token" not in error
    assert "sim-secret" not in error


def test_a_second_concurrent_run_is_refused(
    database_url: str, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    with db.connect(settings) as holder:
        db.apply_schema(holder, settings)
        holder.execute(
            "SELECT pg_advisory_lock(hashtext(%s))",
            (f"dotloop-reporter:sync:{SCHEMA}",),
        )
        with pytest.raises(SyncInProgressError):
            sync_once(settings)

    assert query(settings, f"SELECT count(*) FROM {SCHEMA}.sync_run") == [(0,)]


def test_a_run_left_running_by_a_dead_process_is_closed(
    database_url: str, simulator: Simulator
) -> None:
    settings = settings_for(database_url, simulator)
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
        conn.execute(f"INSERT INTO {SCHEMA}.sync_run (trigger) VALUES ('lost')")

    sync_once(settings)

    rows = query(
        settings, f"SELECT trigger, status FROM {SCHEMA}.sync_run ORDER BY run_id"
    )
    assert rows == [("lost", "failed"), ("test", "succeeded")]
