"""The client's webhook subscription methods against the simulator over a socket."""

from __future__ import annotations

import doctest
import logging
from collections.abc import Iterator

import pytest
from fake_dotloop import loopback_http

import connector.subscriptions
from connector import (
    ClientError,
    DotloopClient,
    NotFoundError,
    RefreshTokenSource,
    RequestBudget,
    Secret,
    ServerError,
)
from connector.simulator import (
    FaultConfig,
    SimulatedData,
    Simulator,
    SimulatorConfig,
    build_faults,
    generate_brokerage,
)
from connector.subscriptions import LOOP_EVENT_TYPES, SubscriptionRequest

CONFIG = SimulatorConfig(rate_limit_per_minute=100_000)
URL = "http://127.0.0.1:8090/webhooks/dotloop"
KEY = "whsec-client-test-4417"


@pytest.fixture
def data() -> SimulatedData:
    return generate_brokerage(loops=20, seed=6)


@pytest.fixture
def simulator(data: SimulatedData) -> Iterator[Simulator]:
    with Simulator(data, CONFIG) as running:
        yield running


def client_for(simulator: Simulator) -> DotloopClient:
    config = simulator.config
    tokens = RefreshTokenSource(
        simulator.auth_url,
        config.client_id,
        Secret(config.client_secret),
        Secret(config.refresh_token),
        loopback_http(),
    )
    return DotloopClient(
        simulator.base_url,
        tokens,
        RequestBudget(60_000, burst=10),
        max_retries=2,
        http=loopback_http(),
        sleep=lambda _: None,
    )


@pytest.fixture
def client(simulator: Simulator) -> DotloopClient:
    return client_for(simulator)


def request_for(data: SimulatedData, **fields: object) -> SubscriptionRequest:
    values: dict[str, object] = {
        "url": URL,
        "target_id": data.profile_ids()[0],
        "signing_key": Secret(KEY),
        "external_id": "tests",
    }
    values.update(fields)
    return SubscriptionRequest(**values)  # type: ignore[arg-type]


def test_a_subscription_is_created_read_updated_and_deleted(
    client: DotloopClient, data: SimulatedData
) -> None:
    request = request_for(data)

    created = client.create_subscription(request)
    read = client.subscription(created.subscription_id)
    updated = client.update_subscription(
        created.subscription_id, request_for(data, enabled=False)
    )
    client.delete_subscription(created.subscription_id)

    assert created.watches(request)
    assert created.event_types == LOOP_EVENT_TYPES
    assert created.external_id == "tests"
    assert read == created
    assert updated.enabled is False
    with pytest.raises(NotFoundError):
        client.subscription(created.subscription_id)
    with pytest.raises(NotFoundError):
        client.delete_subscription(created.subscription_id)


def test_the_list_follows_the_cursor_to_the_last_page(
    client: DotloopClient, simulator: Simulator, data: SimulatedData
) -> None:
    created = [client.create_subscription(request_for(data)) for _ in range(25)]
    client.update_subscription(
        created[0].subscription_id, request_for(data, enabled=False)
    )

    listed = client.subscriptions()
    enabled = client.subscriptions(enabled=True)

    assert [s.subscription_id for s in listed] == [s.subscription_id for s in created]
    assert len(enabled) == 24
    # Two pages of 20 for the whole list, two for the enabled ones.
    assert simulator.stats()["requests_by_endpoint"]["GET /subscription"] == 4


def test_a_refused_subscription_says_why(
    client: DotloopClient, data: SimulatedData
) -> None:
    request = request_for(data, event_types=("CONTACT_CREATED",))

    with pytest.raises(ClientError, match=r"POST /subscription answered HTTP 400: "):
        client.create_subscription(request)


def test_an_id_cannot_reach_another_path(
    client: DotloopClient, simulator: Simulator
) -> None:
    with pytest.raises(NotFoundError):
        client.delete_subscription("../profile")

    assert "DELETE /subscription/{sid}" not in simulator.stats()["requests_by_endpoint"]


def test_a_post_is_not_sent_again_after_a_5xx_but_a_get_is(
    data: SimulatedData,
) -> None:
    faults = build_faults(FaultConfig(server_error_rate=1.0), data)
    with Simulator(data, CONFIG, faults=faults) as failing:
        client = client_for(failing)
        with pytest.raises(ServerError):
            client.create_subscription(request_for(data))
        with pytest.raises(ServerError):
            client.subscriptions()
        counts = failing.stats()["requests_by_endpoint"]

    assert counts["POST /subscription"] == 1
    assert counts["GET /subscription"] == 3


def test_the_signing_key_stays_out_of_reprs_and_logs(
    client: DotloopClient, data: SimulatedData, caplog: pytest.LogCaptureFixture
) -> None:
    request = request_for(data)

    with caplog.at_level(logging.DEBUG):
        created = client.create_subscription(request)
        client.update_subscription(created.subscription_id, request)

    assert KEY not in repr(request)
    assert KEY not in repr(created)
    assert KEY not in caplog.text
    assert "created webhook subscription" in caplog.text


def test_the_examples_in_the_module_hold() -> None:
    failures, attempted = doctest.testmod(connector.subscriptions)

    assert attempted > 0
    assert failures == 0
