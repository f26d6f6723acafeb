"""`webhooks subscribe`, `list` and `unsubscribe` against the simulator."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from engine_support import SIM, active_profiles, settings_for

import sync.cli
from connector import DotloopClient
from connector.secrets import Secret
from connector.simulator import SimulatedData, Simulator, generate_brokerage
from connector.subscriptions import LOOP_EVENT_TYPES, SubscriptionRequest
from sync import db
from sync.errors import ConfigurationError
from sync.settings import Settings
from sync.tasks import build_client
from sync.webhook_subscriptions import (
    EXTERNAL_ID,
    describe_result,
    subscribe,
    unsubscribe,
)

SECRET = "whsec-subscribe-test-8c1d"
URL = "http://127.0.0.1:8090/webhooks/dotloop"


@pytest.fixture
def brokerage() -> SimulatedData:
    return generate_brokerage(20, seed=12)


@pytest.fixture
def simulator(brokerage: SimulatedData) -> Iterator[Simulator]:
    with Simulator(brokerage, SIM) as sim:
        yield sim


@pytest.fixture
def settings(database_url: str, simulator: Simulator, tmp_path: Path) -> Settings:
    base = settings_for(database_url, simulator)
    settings = replace(base, data_dir=tmp_path, webhook_secret=Secret(SECRET))
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
    return settings


@pytest.fixture
def client(settings: Settings) -> Iterator[DotloopClient]:
    with build_client(settings) as dotloop:
        yield dotloop


def profile_ids(brokerage: SimulatedData) -> list[int]:
    return sorted(int(p["id"]) for p in active_profiles(brokerage))


def requests(simulator: Simulator, endpoint: str) -> int:
    return int(simulator.stats()["requests_by_endpoint"].get(endpoint, 0))


def test_subscribing_twice_leaves_one_subscription_per_profile(
    settings: Settings,
    client: DotloopClient,
    simulator: Simulator,
    brokerage: SimulatedData,
) -> None:
    first = subscribe(settings, client, URL)
    again = subscribe(settings, client, URL)

    listed = client.subscriptions()
    expected = profile_ids(brokerage)
    assert [r.profile_id for r in first] == [r.profile_id for r in again]
    assert sorted(r.profile_id for r in first) == expected
    assert all(r.created for r in first)
    assert not any(r.created or r.duplicates for r in again)
    assert sorted(s.target_id for s in listed) == expected
    assert all(
        s.url == URL and s.enabled and s.event_types == LOOP_EVENT_TYPES for s in listed
    )
    assert {s.external_id for s in listed} == {EXTERNAL_ID}
    assert requests(simulator, "POST /subscription") == len(expected)


def test_only_the_configured_profiles_are_subscribed(
    settings: Settings, client: DotloopClient, brokerage: SimulatedData
) -> None:
    chosen = profile_ids(brokerage)[0]
    configured = replace(
        settings, dotloop=replace(settings.dotloop, profile_ids=(chosen,))
    )

    results = subscribe(configured, client, URL)

    assert [r.profile_id for r in results] == [chosen]
    assert [s.target_id for s in client.subscriptions()] == [chosen]


def test_a_disabled_subscription_is_kept_and_enabled_again(
    settings: Settings, client: DotloopClient, brokerage: SimulatedData
) -> None:
    chosen = profile_ids(brokerage)[0]
    old = client.create_subscription(
        SubscriptionRequest(
            URL, chosen, ("LOOP_CREATED",), Secret("an-old-key"), enabled=False
        )
    )

    (result,) = subscribe(settings, client, URL, [chosen])

    assert not result.created
    assert result.subscription.subscription_id == old.subscription_id
    assert result.subscription.enabled
    assert result.subscription.event_types == LOOP_EVENT_TYPES


def test_duplicates_made_elsewhere_are_reported_not_deleted(
    settings: Settings, client: DotloopClient, brokerage: SimulatedData
) -> None:
    chosen = profile_ids(brokerage)[0]
    made = [
        client.create_subscription(SubscriptionRequest(URL, chosen)) for _ in range(2)
    ]
    elsewhere = client.create_subscription(
        SubscriptionRequest("http://127.0.0.1:9999/other", chosen)
    )

    (result,) = subscribe(settings, client, URL, [chosen])

    assert result.subscription.subscription_id == made[0].subscription_id
    assert result.duplicates == (made[1].subscription_id,)
    assert made[1].subscription_id in describe_result(result)
    assert len(client.subscriptions()) == 3
    assert elsewhere.subscription_id not in describe_result(result)


def test_unsubscribe_deletes_one_and_names_a_missing_id(
    settings: Settings, client: DotloopClient, brokerage: SimulatedData
) -> None:
    results = subscribe(settings, client, URL, profile_ids(brokerage)[:2])
    gone = results[0].subscription.subscription_id

    unsubscribe(client, gone)

    assert [s.subscription_id for s in client.subscriptions()] == [
        results[1].subscription.subscription_id
    ]
    with pytest.raises(ConfigurationError, match="webhooks list"):
        unsubscribe(client, gone)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"webhook_secret": None}, "DOTLOOP_WEBHOOK_SECRET"),
        ({"url": "127.0.0.1:8090/webhooks"}, "not an http"),
        ({"url": "ftp://127.0.0.1/x"}, "not an http"),
    ],
)
def test_subscribing_without_a_secret_or_a_url_is_refused(
    settings: Settings,
    client: DotloopClient,
    simulator: Simulator,
    change: dict[str, object],
    message: str,
) -> None:
    url = str(change.pop("url", URL))
    changed = replace(settings, **change)  # type: ignore[arg-type]

    with pytest.raises(ConfigurationError, match=message):
        subscribe(changed, client, url)

    assert requests(simulator, "POST /subscription") == 0


@pytest.fixture
def environment(
    settings: Settings, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings as the command line reads them, from the environment."""
    assert settings.database_url is not None
    for name in ("REDIS_URL", "DOTLOOP_PROFILE_IDS", "DOTLOOP_TOKEN_KEY"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "DATABASE_URL": settings.database_url.reveal(),
        "DOTLOOP_REPORTER_DATA_DIR": str(settings.data_dir),
        "DOTLOOP_API_URL": simulator.base_url,
        "DOTLOOP_AUTH_URL": simulator.auth_url,
        "DOTLOOP_CLIENT_ID": SIM.client_id,
        "DOTLOOP_CLIENT_SECRET": SIM.client_secret,
        "DOTLOOP_REFRESH_TOKEN": SIM.refresh_token,
        "DOTLOOP_REQUESTS_PER_MINUTE": "1000000",
        "DOTLOOP_WEBHOOK_SECRET": SECRET,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    # The command's logging setup would take the root logger from caplog.
    monkeypatch.setattr(sync.cli, "configure_logging", lambda level: None)


@pytest.mark.usefixtures("environment")
def test_the_commands_subscribe_once_list_and_unsubscribe_without_the_key(
    simulator: Simulator,
    brokerage: SimulatedData,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    subscribe_args = ["webhooks", "subscribe", "--url", URL]
    with caplog.at_level(logging.DEBUG):
        codes = [sync.cli.main(subscribe_args), sync.cli.main(subscribe_args)]
        subscribed = capsys.readouterr().out
        codes.append(sync.cli.main(["webhooks", "list"]))
        listed = capsys.readouterr().out.splitlines()
        gone = listed[0].split()[0]
        codes.append(sync.cli.main(["webhooks", "unsubscribe", gone]))
        codes.append(sync.cli.main(["webhooks", "unsubscribe", gone]))
        outputs = capsys.readouterr()

    profiles = len(profile_ids(brokerage))
    assert codes == [0, 0, 0, 0, 1]
    assert subscribed.count(": created subscription") == profiles
    assert subscribed.count(": kept subscription") == profiles
    assert len(listed) == profiles
    assert all(URL in line and "(this add-on)" in line for line in listed)
    assert f"deleted webhook subscription {gone}" in outputs.out
    assert "webhooks list" in outputs.err
    assert requests(simulator, "POST /subscription") == profiles
    everything = subscribed + "\n".join(listed) + outputs.out + outputs.err
    assert SECRET not in everything
    assert "created webhook subscription" in caplog.text
    assert SECRET not in caplog.text
