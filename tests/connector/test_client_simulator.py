"""The client against the Dotloop simulator over a real socket."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fake_dotloop import loopback_http

from connector import (
    AuthenticationError,
    DotloopClient,
    InvalidResponseError,
    NotFoundError,
    RefreshTokenSource,
    RequestBudget,
    Secret,
)
from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from connector.simulator.faults import ApiCall, Fault, Handler
from connector.simulator.wire import Response

CONFIG = SimulatorConfig(rate_limit_per_minute=10_000)


@pytest.fixture(scope="module")
def data() -> SimulatedData:
    return generate_brokerage(loops=300, seed=7)


@pytest.fixture
def simulator(data: SimulatedData) -> Iterator[Simulator]:
    with Simulator(data, CONFIG) as running:
        yield running


def tokens_for(simulator: Simulator, secret: str | None = None) -> RefreshTokenSource:
    config = simulator.config
    return RefreshTokenSource(
        simulator.auth_url,
        config.client_id,
        Secret(secret or config.client_secret),
        Secret(config.refresh_token),
        loopback_http(),
    )


def client_for(simulator: Simulator, tokens: RefreshTokenSource) -> DotloopClient:
    return DotloopClient(
        simulator.base_url,
        tokens,
        RequestBudget(60_000, burst=10),
        max_retries=2,
        http=loopback_http(),
        backoff_base=0.01,
    )


@pytest.fixture
def client(simulator: Simulator) -> DotloopClient:
    return client_for(simulator, tokens_for(simulator))


def expected_items(data: SimulatedData, profile_id: int) -> dict[int | None, Any]:
    listing = data.listing(profile_id)
    assert listing is not None
    expected = {}
    for entry in listing.entries:
        details = entry.details_object()
        summary = entry.summary()
        expected[entry.loop_id] = (
            summary if details is None else {**summary, "details": details}
        )
    return expected


def test_paging_every_profile_returns_exactly_the_simulated_loops(
    simulator: Simulator, client: DotloopClient, data: SimulatedData
) -> None:
    pages_fetched = 0
    for profile_id in data.profile_ids():
        pages = list(client.iter_loop_pages(profile_id, batch_size=50))
        items = [item for page in pages for item in page.items]
        pages_fetched += len(pages)

        assert len(items) == len({item["id"] for item in items})
        assert {item["id"]: item for item in items} == expected_items(data, profile_id)
        assert all(len(p.items) == 50 for p in pages[:-1])
        assert len(pages[-1].items) < 50

    served = simulator.stats()["requests_by_endpoint"]["GET /profile/{pid}/loop"]
    assert served == pages_fetched == client.stats.requests


def test_account_profiles_and_one_loop_match_the_simulated_bodies(
    client: DotloopClient, data: SimulatedData
) -> None:
    profile_id = data.profile_ids()[1]
    listing = data.listing(profile_id)
    assert listing is not None
    entry = listing.entries[0]
    assert entry.loop_id is not None

    assert client.account() == body(data.account)["data"]
    assert client.profiles() == body(data.profiles)["data"]
    assert client.loop(profile_id, entry.loop_id) == entry.summary()
    assert client.loop_detail(profile_id, entry.loop_id) == body(entry.detail())["data"]
    participants = client.loop_participants(profile_id, entry.loop_id)
    assert participants == body(entry.participants())["data"]


def body(value: object) -> dict[str, Any]:
    assert isinstance(value, dict)
    return value


def test_a_loop_that_is_gone_is_not_found(
    client: DotloopClient, data: SimulatedData
) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.loop(data.profile_ids()[0], 1)

    assert caught.value.status_code == 404
    assert client.stats.retries == 0


def test_a_token_revoked_by_another_refresh_is_renewed_once(
    simulator: Simulator, client: DotloopClient
) -> None:
    client.account()
    with tokens_for(simulator) as elsewhere:
        elsewhere.access_token()  # another worker refreshes: ours is revoked

    client.profiles()

    stats = simulator.stats()
    assert stats["token_refreshes"] == 3
    assert stats["responses_by_status"]["401"] == 1
    assert client.stats.retries == 1


def test_a_wrong_client_secret_is_an_authentication_error(
    simulator: Simulator,
) -> None:
    tokens = tokens_for(simulator, secret="not-the-sim-secret-4411")

    with pytest.raises(AuthenticationError) as caught:
        client_for(simulator, tokens).account()

    assert "client secret" in str(caught.value)
    assert "4411" not in str(caught.value)
    assert simulator.stats()["total_requests"] == 1


def test_the_servers_limit_pauses_the_client_instead_of_failing(
    data: SimulatedData,
) -> None:
    config = SimulatorConfig(rate_limit_per_minute=4, window_seconds=0.2)
    with Simulator(data, config) as simulator:
        client = client_for(simulator, tokens_for(simulator))
        for _ in range(10):
            client.account()

        served = simulator.stats()

    # Remaining 0 paused the client until the reset, so it never met a 429.
    assert served["requests_by_endpoint"]["GET /account"] == 10
    assert served["rate_limited"] == client.stats.throttled == 0


def answer_first(count: int, response: Response) -> Fault:
    """A fault that answers `response` to the first `count` API calls."""
    remaining = [count]

    def fault(call: ApiCall, handler: Handler) -> Response:
        if remaining[0] > 0:
            remaining[0] -= 1
            return Response(response.status, response.body, response.content_type)
        return handler()

    return fault


def test_a_burst_of_5xx_is_ridden_out(data: SimulatedData) -> None:
    fault = answer_first(2, Response(503, b'{"error": "unavailable"}'))
    with Simulator(data, CONFIG, faults=[fault]) as simulator:
        client = client_for(simulator, tokens_for(simulator))
        account = client.account()

        served = simulator.stats()["responses_by_status"]

    assert account == body(data.account)["data"]
    assert served["503"] == 2
    assert client.stats.retries == 2


def test_a_body_that_is_not_json_is_invalid_with_the_raw_bytes(
    data: SimulatedData,
) -> None:
    page = b"<html><h1>Maintenance</h1></html>"
    fault = answer_first(1, Response(200, page, "text/html"))
    with Simulator(data, CONFIG, faults=[fault]) as simulator:
        client = client_for(simulator, tokens_for(simulator))
        with pytest.raises(InvalidResponseError) as caught:
            client.account()

    assert caught.value.body == page
    assert caught.value.status_code == 200
    assert "Maintenance" in caught.value.excerpt


def test_no_log_line_carries_a_credential(
    simulator: Simulator, data: SimulatedData, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = tokens_for(simulator)
    client = client_for(simulator, tokens)
    issued = []

    with caplog.at_level(logging.DEBUG):
        client.account()
        issued.append(tokens.access_token().reveal())
        with tokens_for(simulator) as elsewhere:
            issued.append(elsewhere.access_token().reveal())
        client.profiles()
        issued.append(tokens.access_token().reveal())
        list(client.iter_loop_pages(data.profile_ids()[2], batch_size=2))

    config = simulator.config
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text}" for r in caplog.records
    )
    assert "re-authenticating" in text
    assert len(set(issued)) == 3
    for secret in [*issued, config.client_secret, config.refresh_token]:
        assert secret not in text
    assert "authorization" not in text.lower()
    assert "Basic " not in text
