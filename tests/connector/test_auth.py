"""The refresh-token source against a scripted token endpoint on a real socket."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import pytest
from fake_dotloop import (
    FakeClock,
    FakeDotloop,
    Reply,
    closed_port,
    json_reply,
    loopback_http,
)

from connector.auth import RefreshTokenSource
from connector.errors import (
    AuthenticationError,
    InvalidResponseError,
    ServerError,
    TransportError,
)
from connector.secrets import Secret


@pytest.fixture
def fake() -> Iterator[FakeDotloop]:
    with FakeDotloop() as server:
        yield server


def source_for(
    fake: FakeDotloop,
    clock: FakeClock | None = None,
    *,
    client_id: str | None = None,
    client_secret: Secret | None = None,
    refresh_token: Secret | None = None,
    on_rotate: Callable[[Secret], None] | None = None,
) -> RefreshTokenSource:
    return RefreshTokenSource(
        fake.auth_url,
        client_id or fake.client_id,
        client_secret or Secret(fake.client_secret),
        refresh_token or Secret(fake.refresh_token),
        loopback_http(),
        on_rotate=on_rotate,
        clock=clock or FakeClock(),
    )


def test_refresh_posts_the_grant_with_basic_client_credentials(
    fake: FakeDotloop,
) -> None:
    with source_for(fake) as tokens:
        token = tokens.access_token()

    (seen,) = fake.token_requests()
    expected = f"{fake.client_id}:{fake.client_secret}".encode()
    assert seen.method == "POST"
    assert (
        seen.headers["authorization"] == "Basic " + base64.b64encode(expected).decode()
    )
    assert parse_qs(seen.body.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [fake.refresh_token],
    }
    assert token.reveal() == fake.issued[0]


def test_the_token_is_reused_until_shortly_before_it_expires(
    fake: FakeDotloop,
) -> None:
    clock = FakeClock()
    with source_for(fake, clock) as tokens:
        first = tokens.access_token()
        clock.now += 43200 - 301
        still = tokens.access_token()
        clock.now += 1
        renewed = tokens.access_token()

    assert still == first
    assert renewed != first
    assert len(fake.token_requests()) == 2


@pytest.mark.parametrize(
    ("expires_in", "renews_after"),
    [(10, 5.0), ("600", 300.0), (None, 3300.0), ("soon", 3300.0), (-1, 3300.0)],
)
def test_a_short_or_missing_lifetime_still_renews_sensibly(
    fake: FakeDotloop, expires_in: object, renews_after: float
) -> None:
    fake.expires_in = expires_in
    clock = FakeClock()
    with source_for(fake, clock) as tokens:
        tokens.access_token()
        clock.now += renews_after - 0.5
        tokens.access_token()
        assert len(fake.token_requests()) == 1
        clock.now += 0.5
        tokens.access_token()

    assert len(fake.token_requests()) == 2


def test_invalidate_forgets_only_the_token_it_is_given(fake: FakeDotloop) -> None:
    with source_for(fake) as tokens:
        stale = tokens.access_token()
        tokens.invalidate(stale)
        fresh = tokens.access_token()
        tokens.invalidate(stale)  # a late 401 for the old token
        again = tokens.access_token()

    assert fresh != stale
    assert again == fresh
    assert len(fake.token_requests()) == 2


def test_a_rotated_refresh_token_is_kept_and_reported() -> None:
    rotated: list[Secret] = []
    with FakeDotloop(rotate_refresh_token=True) as fake:
        with source_for(fake, on_rotate=rotated.append) as tokens:
            first = tokens.access_token()
            tokens.invalidate(first)
            tokens.access_token()  # refused unless the rotated token is sent

        sent = [
            parse_qs(r.body.decode())["refresh_token"][0] for r in fake.token_requests()
        ]
        latest = fake.refresh_token

    assert [r.reveal() for r in rotated] == [sent[1], latest]
    assert tokens.refresh_token == Secret(latest)


def test_an_unchanged_refresh_token_is_not_reported(fake: FakeDotloop) -> None:
    rotated: list[Secret] = []
    with source_for(fake, on_rotate=rotated.append) as tokens:
        tokens.access_token()

    assert rotated == []
    assert tokens.refresh_token == Secret(fake.refresh_token)


@pytest.mark.parametrize(
    ("field", "wrong", "remedy"),
    [
        ("client_secret", "wrong-secret-71c0", "client secret"),
        ("client_id", "someone-else", "client secret"),
        ("refresh_token", "revoked-refresh-5d2e", "reconnect Dotloop"),
    ],
)
def test_refused_credentials_say_what_to_fix_without_echoing_them(
    fake: FakeDotloop, field: str, wrong: str, remedy: str
) -> None:
    value = wrong if field == "client_id" else Secret(wrong)
    with (
        source_for(fake, **{field: value}) as tokens,  # type: ignore[arg-type]
        pytest.raises(AuthenticationError) as caught,
    ):
        tokens.access_token()

    message = str(caught.value)
    assert remedy in message
    assert wrong not in message
    assert fake.client_secret not in message
    assert caught.value.status_code in (400, 401)


def test_a_token_body_without_a_token_is_invalid_and_kept_masked(
    fake: FakeDotloop,
) -> None:
    body = b'{"access_token": 12, "refresh_token": "leaky-refresh-88aa"}'
    fake.script("/oauth/token", Reply(200, body))

    with source_for(fake) as tokens, pytest.raises(InvalidResponseError) as caught:
        tokens.access_token()

    assert b"leaky-refresh-88aa" not in caught.value.body
    assert "leaky-refresh-88aa" not in caught.value.excerpt


def test_a_failing_token_endpoint_is_a_server_error(fake: FakeDotloop) -> None:
    fake.script("/oauth/token", json_reply({"error": "oops"}, 503))

    with source_for(fake) as tokens, pytest.raises(ServerError):
        tokens.access_token()


def test_an_unreachable_token_endpoint_is_a_transport_error() -> None:
    tokens = RefreshTokenSource(
        f"http://127.0.0.1:{closed_port()}/oauth",
        "id",
        Secret("secret"),
        Secret("refresh"),
    )

    with tokens, pytest.raises(TransportError):
        tokens.access_token()
