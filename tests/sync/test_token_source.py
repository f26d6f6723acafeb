"""Tokens shared through Postgres: encrypted, private, refreshed once for all."""

from __future__ import annotations

import multiprocessing
import stat
import uuid
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from cryptography.fernet import Fernet
from psycopg import sql

from connector import AuthenticationError, DotloopClient, RequestBudget, Secret
from connector.auth import TokenSource
from connector.pacing import REDIS_PREFIX
from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from sync.errors import ConfigurationError
from sync.settings import DotloopSettings, Settings
from sync.tasks import budget_key, build_client
from sync.token_source import StoredTokenSource
from sync.token_store import KEY_FILE

PRIVATE = "dotloop_private"
TOKEN_PATH = "POST /oauth/token"
KEY = Fernet.generate_key().decode()


class FakeClock:
    """A monotonic clock for the simulator that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def brokerage() -> SimulatedData:
    return generate_brokerage(10, seed=3)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def simulator(brokerage: SimulatedData, clock: FakeClock) -> Iterator[Simulator]:
    config = SimulatorConfig(rate_limit_per_minute=1_000_000)
    with Simulator(brokerage, config, clock=clock) as running:
        yield running


def settings_for(
    database_url: str,
    simulator: Simulator,
    tmp_path: Path,
    *,
    key: str | None = KEY,
    refresh_token: str | None = "sim-refresh",
) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=Secret(database_url),
        dotloop=DotloopSettings(
            api_url=simulator.base_url,
            auth_url=simulator.auth_url,
            client_id="sim-client",
            client_secret=Secret("sim-secret"),
            refresh_token=None if refresh_token is None else Secret(refresh_token),
            token_key=None if key is None else Secret(key),
        ),
    )


def refreshes(simulator: Simulator) -> int:
    return int(simulator.stats()["requests_by_endpoint"].get(TOKEN_PATH, 0))


def stored_row(database_url: str) -> tuple[Any, ...] | None:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            f"SELECT access_token, refresh_token, status, status_message "
            f"FROM {PRIVATE}.oauth_token"
        ).fetchone()


def client_for(simulator: Simulator, tokens: TokenSource) -> DotloopClient:
    return DotloopClient(simulator.base_url, tokens, RequestBudget(1_000_000))


def test_tokens_are_stored_encrypted(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    token = StoredTokenSource(settings_for(database_url, simulator, tmp_path))

    issued = token.access_token().reveal()

    row = stored_row(database_url)
    assert row is not None
    access, refresh, status, message = row
    assert issued.encode() not in bytes(access)
    assert b"sim-refresh" not in bytes(refresh)
    assert Fernet(KEY).decrypt(bytes(access)).decode() == issued
    assert Fernet(KEY).decrypt(bytes(refresh)).decode() == "sim-refresh"
    assert (status, message) == ("connected", None)


def test_the_private_schema_is_closed_to_the_reporting_reader(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    role = f"reader_{uuid.uuid4().hex[:10]}"
    settings = settings_for(database_url, simulator, tmp_path)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    try:
        StoredTokenSource(settings).access_token()
        with psycopg.connect(database_url, autocommit=True) as conn:
            # Someone grants too much; the next start takes it back.
            conn.execute(
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                    sql.Identifier(PRIVATE), sql.Identifier(role)
                )
            )
        reader = Settings(**{**vars(settings), "reporting_reader_role": role})
        StoredTokenSource(reader).access_token()
        with psycopg.connect(database_url, autocommit=True) as conn:
            usage = conn.execute(
                "SELECT has_schema_privilege(%s, %s, 'USAGE'), "
                "has_schema_privilege('public', %s, 'USAGE')",
                (role, PRIVATE, PRIVATE),
            ).fetchone()
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM {PRIVATE}.oauth_token")
            conn.execute("RESET ROLE")
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

    assert usage == (False, False)


def test_another_process_reuses_the_stored_token(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    settings = settings_for(database_url, simulator, tmp_path)

    first = StoredTokenSource(settings).access_token()
    second = StoredTokenSource(settings).access_token()

    assert first == second
    assert refreshes(simulator) == 1


def bring_expiry_near(database_url: str) -> None:
    """Time passes for the stored token: a minute left, inside the renewal margin."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            f"UPDATE {PRIVATE}.oauth_token SET expires_at = now() + interval '1 min'"
        )


def test_a_token_near_its_end_is_renewed_once_for_everyone(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    settings = settings_for(database_url, simulator, tmp_path)
    first = StoredTokenSource(settings).access_token()
    bring_expiry_near(database_url)

    renewed = StoredTokenSource(settings).access_token()
    again = StoredTokenSource(settings).access_token()

    assert first != renewed
    assert again == renewed
    assert refreshes(simulator) == 2


def test_a_refused_token_is_replaced_by_the_one_another_worker_stored(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    settings = settings_for(database_url, simulator, tmp_path)
    ours = StoredTokenSource(settings)
    client = client_for(simulator, ours)
    client.account()
    bring_expiry_near(database_url)
    theirs = StoredTokenSource(settings).access_token()  # revokes ours

    client.account()

    assert client.stats.retries == 1
    assert refreshes(simulator) == 2
    assert ours.access_token() == theirs


def work(settings: Settings, barrier: Barrier, results: Any) -> None:
    """One worker process: wait for the other, then call the API three times."""
    tokens = StoredTokenSource(settings)
    client = DotloopClient(
        settings.dotloop.api_url, tokens, RequestBudget(1_000_000), backoff_base=0.01
    )
    barrier.wait(timeout=30)
    for _ in range(3):
        client.account()
    results.put(client.stats.requests)


def test_two_processes_meeting_an_expired_token_refresh_once(
    database_url: str, simulator: Simulator, clock: FakeClock, tmp_path: Path
) -> None:
    settings = settings_for(database_url, simulator, tmp_path)
    StoredTokenSource(settings).access_token()
    # The stored token still looks fresh to the database; Dotloop says it expired.
    clock.now += simulator.config.token_ttl_seconds + 1
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(target=work, args=(settings, barrier, results))
        for _ in range(2)
    ]
    for process in workers:
        process.start()
    requests = [results.get(timeout=60) for _ in workers]
    for process in workers:
        process.join(timeout=10)

    stats = simulator.stats()
    assert [process.exitcode for process in workers] == [0, 0]
    refused = stats["responses_by_status"].get("401", 0)
    assert stats["token_refreshes"] == 2  # the first token, then exactly one more
    assert 1 <= refused <= 2  # each worker met the expired token at most once
    assert sum(requests) == stats["requests_by_endpoint"]["GET /account"]
    assert sum(requests) == 6 + refused


def test_a_dead_refresh_token_stops_syncing_without_asking_again(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    settings = settings_for(
        database_url, simulator, tmp_path, refresh_token="revoked-refresh-4417"
    )

    with pytest.raises(AuthenticationError) as first:
        client_for(simulator, StoredTokenSource(settings)).account()
    asked = refreshes(simulator)
    with pytest.raises(AuthenticationError) as later:
        client_for(simulator, StoredTokenSource(settings)).account()

    row = stored_row(database_url)
    assert row is not None
    assert row[2] == "reconnect_required"
    assert "invalid_grant" in row[3]
    assert "reconnect Dotloop" in str(first.value)
    assert "Reconnect Dotloop" in str(later.value)
    assert "4417" not in str(first.value) + str(later.value) + row[3]
    assert refreshes(simulator) == asked == 1
    assert simulator.stats()["total_requests"] == 1


def test_a_new_configured_refresh_token_reconnects(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    dead = settings_for(database_url, simulator, tmp_path, refresh_token="gone")
    with pytest.raises(AuthenticationError):
        StoredTokenSource(dead).access_token()

    token = StoredTokenSource(settings_for(database_url, simulator, tmp_path))

    assert client_for(simulator, token).account()["id"]
    row = stored_row(database_url)
    assert row is not None
    assert (row[2], row[3]) == ("connected", None)


def test_tokens_stored_under_another_key_start_over_from_the_configured_token(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    StoredTokenSource(settings_for(database_url, simulator, tmp_path)).access_token()
    other_key = Fernet.generate_key().decode()
    rekeyed = settings_for(database_url, simulator, tmp_path, key=other_key)

    StoredTokenSource(rekeyed).access_token()

    row = stored_row(database_url)
    assert row is not None
    assert Fernet(other_key).decrypt(bytes(row[1])) == b"sim-refresh"
    assert refreshes(simulator) == 2


def test_without_a_configured_token_a_wrong_key_names_the_variable(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    StoredTokenSource(settings_for(database_url, simulator, tmp_path)).access_token()
    rekeyed = settings_for(
        database_url,
        simulator,
        tmp_path,
        key=Fernet.generate_key().decode(),
        refresh_token=None,
    )

    with pytest.raises(ConfigurationError, match="DOTLOOP_TOKEN_KEY"):
        StoredTokenSource(rekeyed).access_token()


def test_nothing_stored_and_nothing_configured_names_the_variable(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    settings = settings_for(database_url, simulator, tmp_path, refresh_token=None)

    with pytest.raises(ConfigurationError, match="DOTLOOP_REFRESH_TOKEN"):
        StoredTokenSource(settings).access_token()


def test_a_simulator_without_a_key_gets_one_in_the_data_dir(
    database_url: str, simulator: Simulator, tmp_path: Path
) -> None:
    settings = settings_for(database_url, simulator, tmp_path, key=None)

    StoredTokenSource(settings).access_token()
    StoredTokenSource(settings).access_token()

    key_file = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert refreshes(simulator) == 1


def test_a_real_dotloop_without_a_key_is_refused(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        dotloop=DotloopSettings(client_id="live", client_secret=Secret("s")),
    )

    with pytest.raises(ConfigurationError, match="DOTLOOP_TOKEN_KEY"):
        StoredTokenSource(settings)
    assert not (tmp_path / KEY_FILE).exists()


def test_a_built_client_shares_tokens_and_budget_of_its_user(
    database_url: str, simulator: Simulator, tmp_path: Path, redis_url: str
) -> None:
    settings = settings_for(database_url, simulator, tmp_path)
    settings = Settings(**{**vars(settings), "redis_url": Secret(redis_url)})
    other_user = DotloopSettings(client_id="sim-client", refresh_token=Secret("x"))

    with build_client(settings) as client:
        client.account()

    budget = f"{REDIS_PREFIX}{budget_key(settings.dotloop)}"
    assert redis.Redis.from_url(redis_url).exists(budget) == 1
    assert budget_key(other_user) != budget_key(settings.dotloop)
    assert stored_row(database_url) is not None
