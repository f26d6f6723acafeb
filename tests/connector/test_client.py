"""The client against a scripted fake of Dotloop on a real socket."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fake_dotloop import (
    FakeClock,
    FakeDotloop,
    Reply,
    closed_port,
    json_reply,
    loopback_http,
)

from connector import (
    AuthenticationError,
    ClientError,
    ClientStats,
    DotloopClient,
    InvalidResponseError,
    NotFoundError,
    RateLimitedError,
    RefreshTokenSource,
    RequestBudget,
    Secret,
    ServerError,
    TransportError,
)

ACCOUNT = {"data": {"id": 7, "email": "broker@example.com"}}


@dataclass
class Rig:
    """A client wired to the fake, with the budget and backoff on fake clocks."""

    fake: FakeDotloop
    client: DotloopClient
    budget_clock: FakeClock
    backoff: FakeClock


@pytest.fixture
def fake() -> Iterator[FakeDotloop]:
    with FakeDotloop() as server:
        yield server


@pytest.fixture
def rig(fake: FakeDotloop) -> Iterator[Rig]:
    with make_rig(fake, fake.base_url) as made:
        yield made


class make_rig:
    def __init__(self, fake: FakeDotloop, api_url: str, **options: float) -> None:
        self.budget_clock = FakeClock()
        self.backoff = FakeClock()
        self.tokens = RefreshTokenSource(
            fake.auth_url,
            fake.client_id,
            Secret(fake.client_secret),
            Secret(fake.refresh_token),
            loopback_http(),
        )
        budget = RequestBudget(
            int(options.get("rpm", 60)),
            clock=self.budget_clock,
            sleep=self.budget_clock.sleep,
            burst=1,
        )
        self.client = DotloopClient(
            api_url,
            self.tokens,
            budget,
            timeout=options.get("timeout", 5.0),
            max_retries=int(options.get("max_retries", 3)),
            http=loopback_http(),
            backoff_base=0.5,
            sleep=self.backoff.sleep,
        )
        self.fake = fake

    def __enter__(self) -> Rig:
        return Rig(self.fake, self.client, self.budget_clock, self.backoff)

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()
        self.tokens.close()


def test_account_sends_the_bearer_token_and_returns_data(rig: Rig) -> None:
    rig.fake.serve("/account", json_reply(ACCOUNT))

    account = rig.client.account()

    (seen,) = rig.fake.api_requests()
    assert account == ACCOUNT["data"]
    assert seen.headers["authorization"] == f"Bearer {rig.fake.issued[-1]}"
    assert seen.headers["accept"] == "application/json"
    assert rig.client.stats == ClientStats(requests=1, throttled=0, retries=0)


def test_single_resources_unwrap_the_envelope(rig: Rig) -> None:
    rig.fake.serve("/profile", json_reply({"data": [{"id": 1}, {"id": 2}]}))
    rig.fake.serve("/profile/1/loop/9", json_reply({"data": {"id": 9}}))
    details = {"Financials": {"Purchase/Sale Price": "650,000"}}
    rig.fake.serve("/profile/1/loop/9/detail", json_reply({"data": details}))
    people = [{"id": 3, "fullName": "A B", "role": "BUYER"}]
    rig.fake.serve(
        "/profile/1/loop/9/participant",
        json_reply({"meta": {"total": 1}, "data": people}),
    )

    assert rig.client.profiles() == [{"id": 1}, {"id": 2}]
    assert rig.client.loop(1, 9) == {"id": 9}
    assert rig.client.loop_detail(1, 9) == details
    assert rig.client.loop_participants(1, 9) == people


def test_a_5xx_is_retried_and_every_attempt_is_paced(rig: Rig) -> None:
    rig.fake.script(
        "/account",
        json_reply({"message": "busy"}, 503),
        Reply(502, b"<html>bad gateway</html>"),
    )
    rig.fake.serve("/account", json_reply(ACCOUNT))

    assert rig.client.account() == ACCOUNT["data"]

    assert rig.client.stats == ClientStats(requests=3, throttled=0, retries=2)
    # Three attempts took three one-second slots of the 60-a-minute budget.
    assert rig.budget_clock.sleeps == pytest.approx([1.0, 1.0])
    assert len(rig.backoff.sleeps) == 2
    assert 0.25 <= rig.backoff.sleeps[0] <= 0.5
    assert 0.5 <= rig.backoff.sleeps[1] <= 1.0


def test_retries_are_bounded_then_the_typed_error_is_raised(rig: Rig) -> None:
    rig.fake.serve("/account", json_reply({"message": "down"}, 500))

    with pytest.raises(ServerError) as caught:
        rig.client.account()

    assert caught.value.status_code == 500
    assert caught.value.url is not None and caught.value.url.endswith("/account")
    assert len(rig.fake.api_requests()) == 4
    assert rig.client.stats == ClientStats(requests=4, throttled=0, retries=3)


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"X-RateLimit-Remaining": "40", "X-RateLimit-Reset": "45000"}, 0.25, 0.5),
        ({"Retry-After": "3"}, 3.0, 3.0),
    ],
)
def test_a_5xx_waits_for_retry_after_only(
    rig: Rig, headers: dict[str, str], low: float, high: float
) -> None:
    rig.fake.script("/account", json_reply({}, 503, headers))
    rig.fake.serve("/account", json_reply(ACCOUNT))

    rig.client.account()

    (wait,) = rig.backoff.sleeps
    assert low <= wait <= high


def test_a_429_waits_as_long_as_retry_after_says(rig: Rig) -> None:
    rig.fake.script("/account", json_reply({}, 429, {"Retry-After": "7"}))
    rig.fake.serve("/account", json_reply(ACCOUNT))

    assert rig.client.account() == ACCOUNT["data"]

    assert rig.budget_clock.sleeps == pytest.approx([7.0])
    assert rig.backoff.sleeps == []
    assert rig.client.stats == ClientStats(requests=2, throttled=1, retries=1)


def test_a_429_without_retry_after_waits_for_the_reset(rig: Rig) -> None:
    headers = {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "2500"}
    rig.fake.script("/account", json_reply({}, 429, headers))
    rig.fake.serve("/account", json_reply(ACCOUNT))

    rig.client.account()

    assert rig.budget_clock.sleeps == pytest.approx([2.5])


def test_a_429_with_no_hint_backs_off(fake: FakeDotloop) -> None:
    fake.script("/account", json_reply({}, 429, {"Retry-After": "whenever"}))
    fake.serve("/account", json_reply(ACCOUNT))

    # 600 a minute: the backoff, not the spacing, decides the wait.
    with make_rig(fake, fake.base_url, rpm=600) as rig:
        rig.client.account()

    (pause,) = rig.budget_clock.sleeps
    assert 0.25 <= pause <= 0.5


def test_remaining_zero_on_a_success_pauses_the_next_request(rig: Rig) -> None:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4000"}
    rig.fake.script("/account", json_reply(ACCOUNT, 200, headers))
    rig.fake.serve("/account", json_reply(ACCOUNT))

    rig.client.account()
    rig.client.account()

    assert rig.budget_clock.sleeps == pytest.approx([4.0])


def test_429_to_the_end_is_a_rate_limited_error(rig: Rig) -> None:
    rig.fake.serve("/account", json_reply({}, 429, {"Retry-After": "1"}))

    with pytest.raises(RateLimitedError):
        rig.client.account()

    assert rig.client.stats == ClientStats(requests=4, throttled=4, retries=3)


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, NotFoundError), (400, ClientError), (403, ClientError), (422, ClientError)],
)
def test_a_4xx_is_raised_at_once(rig: Rig, status: int, error: type[Exception]) -> None:
    rig.fake.serve("/profile/1/loop/5", json_reply({"message": "no"}, status))

    with pytest.raises(error) as caught:
        rig.client.loop(1, 5)

    assert getattr(caught.value, "status_code", None) == status
    assert rig.client.stats == ClientStats(requests=1, throttled=0, retries=0)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service temporarily unavailable</body></html>",
        b'{"data": {"id": 1',
        b"\xff\xfe not utf-8",
        b'["data"]',
        b'{"data": "loop"}',
        b'{"meta": {"total": 1}}',
        b"",
    ],
)
def test_a_body_that_is_not_the_envelope_is_invalid_and_kept_raw(
    rig: Rig, body: bytes
) -> None:
    rig.fake.serve("/account", Reply(200, body))

    with pytest.raises(InvalidResponseError) as caught:
        rig.client.account()

    assert caught.value.body == body
    assert caught.value.status_code == 200
    assert len(caught.value.excerpt) <= 200
    assert len(rig.fake.api_requests()) == 1


def test_a_profile_that_is_not_an_object_is_invalid(rig: Rig) -> None:
    rig.fake.serve("/profile", json_reply({"data": [{"id": 1}, 2]}))

    with pytest.raises(InvalidResponseError):
        rig.client.profiles()


def test_the_excerpt_is_masked_and_short(rig: Rig) -> None:
    body = b"<p>access_token=abc123secret and more</p>" + b"x" * 500
    rig.fake.serve("/profile", Reply(200, body))

    with pytest.raises(InvalidResponseError) as caught:
        rig.client.profiles()

    assert caught.value.body == body
    assert "abc123secret" not in caught.value.excerpt
    assert len(caught.value.excerpt) == 200


def test_a_401_refreshes_once_and_retries(rig: Rig) -> None:
    rig.fake.serve("/account", json_reply(ACCOUNT))
    rig.client.account()
    rig.fake.expire_tokens()

    assert rig.client.account() == ACCOUNT["data"]

    assert len(rig.fake.token_requests()) == 2
    last = rig.fake.api_requests()[-1]
    assert last.headers["authorization"] == f"Bearer {rig.fake.issued[-1]}"
    assert rig.client.stats == ClientStats(requests=3, throttled=0, retries=1)


def test_a_second_401_is_an_authentication_error(rig: Rig) -> None:
    refused = json_reply({"error": "invalid_token"}, 401)
    rig.fake.script("/account", refused, refused, refused)

    with pytest.raises(AuthenticationError) as caught:
        rig.client.account()

    assert "reconnect Dotloop" in str(caught.value)
    assert len(rig.fake.token_requests()) == 2
    assert len(rig.fake.api_requests()) == 2


def test_a_refused_refresh_surfaces_without_retrying(fake: FakeDotloop) -> None:
    fake.script("/oauth/token", json_reply({"error": "invalid_grant"}, 400))

    with make_rig(fake, fake.base_url) as rig, pytest.raises(AuthenticationError):
        rig.client.account()

    assert fake.api_requests() == []
    assert len(fake.token_requests()) == 1


def test_a_token_endpoint_outage_is_retried(rig: Rig) -> None:
    rig.fake.script("/oauth/token", json_reply({}, 503))
    rig.fake.serve("/account", json_reply(ACCOUNT))

    assert rig.client.account() == ACCOUNT["data"]

    assert len(rig.fake.token_requests()) == 2
    assert rig.client.stats.retries == 1


def test_connection_refused_is_retried_then_a_transport_error(
    fake: FakeDotloop,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/public/v2"

    with make_rig(fake, url) as rig, pytest.raises(TransportError) as caught:
        rig.client.account()

    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert rig.client.stats == ClientStats(requests=4, throttled=0, retries=3)
    assert len(rig.backoff.sleeps) == 3


def test_a_slow_answer_times_out_into_a_transport_error(fake: FakeDotloop) -> None:
    fake.serve("/account", Reply(200, b"{}", delay=1.0))

    with (
        make_rig(fake, fake.base_url, timeout=0.1, max_retries=1) as rig,
        pytest.raises(TransportError) as caught,
    ):
        rig.client.account()

    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert rig.client.stats.requests == 2


def test_nothing_logged_carries_a_credential(
    fake: FakeDotloop, caplog: pytest.LogCaptureFixture
) -> None:
    fake.serve("/account", json_reply(ACCOUNT))
    fake.script("/profile", json_reply({}, 503), json_reply({}, 429))
    fake.serve("/profile", json_reply({"data": []}))

    with caplog.at_level(logging.DEBUG), make_rig(fake, fake.base_url) as rig:
        rig.client.account()
        fake.expire_tokens()
        rig.client.profiles()

    assert len(fake.issued) == 2
    assert_no_credentials(
        caplog, [*fake.issued, fake.client_secret, fake.refresh_token]
    )
    assert "retry 1 of 3" in caplog.text


def assert_no_credentials(caplog: pytest.LogCaptureFixture, secrets: list[str]) -> None:
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text}" for r in caplog.records
    )
    assert caplog.records, "expected the cycle to log something"
    for secret in secrets:
        assert secret not in text
    assert "authorization" not in text.lower()
    assert "Basic " not in text
