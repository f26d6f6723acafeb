"""The simulator's OAuth endpoints and bearer-token enforcement, over a socket."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connector.simulator import Simulator, SimulatorConfig, generate_brokerage

CLIENT = ("sim-client", "sim-secret")


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[Simulator]:
    config = SimulatorConfig(token_ttl_seconds=600, rate_limit_per_minute=1000)
    with Simulator(generate_brokerage(30, seed=2), config, clock=clock) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def refresh(
    http: httpx.Client, sim: Simulator, token: str = "sim-refresh"
) -> httpx.Response:
    return http.post(
        f"{sim.auth_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=CLIENT,
    )


def get_account(http: httpx.Client, sim: Simulator, token: str) -> httpx.Response:
    return http.get(
        f"{sim.base_url}/account", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic c2ltLWNsaWVudDpzaW0tc2VjcmV0"},
        {"Authorization": "Bearer"},
    ],
    ids=["missing", "unknown", "basic", "empty"],
)
@pytest.mark.parametrize("path", ["/account", "/profile", "/profile/1/loop"])
def test_api_refuses_requests_without_a_valid_token(
    http: httpx.Client, sim: Simulator, headers: dict[str, str], path: str
) -> None:
    response = http.get(sim.base_url + path, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_refresh_issues_an_access_token_that_the_api_accepts(
    http: httpx.Client, sim: Simulator
) -> None:
    response = refresh(http, sim)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"] == "sim-refresh"
    assert body["expires_in"] == 600
    assert body["scope"].split(", ") == [
        "account:read",
        "profile:*",
        "loop:*",
        "contact:*",
        "template:read",
    ]
    assert get_account(http, sim, body["access_token"]).status_code == 200


def test_refresh_revokes_the_previous_access_token(
    http: httpx.Client, sim: Simulator
) -> None:
    first = refresh(http, sim).json()["access_token"]
    second = refresh(http, sim).json()["access_token"]

    assert first != second
    refused = get_account(http, sim, first)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert get_account(http, sim, second).status_code == 200


def test_token_expires_after_its_lifetime(
    http: httpx.Client, sim: Simulator, clock: FakeClock
) -> None:
    token = refresh(http, sim).json()["access_token"]
    clock.now += 599
    assert get_account(http, sim, token).status_code == 200

    clock.now += 1
    expired = get_account(http, sim, token)

    assert expired.status_code == 401
    assert expired.json() == {
        "error": "invalid_token",
        "error_description": "access token expired",
    }


@pytest.mark.parametrize(
    "auth",
    [("sim-client", "wrong"), ("someone", "sim-secret"), None],
    ids=["wrong-secret", "wrong-id", "no-auth"],
)
def test_token_endpoint_refuses_unknown_clients(
    http: httpx.Client, sim: Simulator, auth: tuple[str, str] | None
) -> None:
    response = http.post(
        f"{sim.auth_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
        auth=auth,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
        ({"grant_type": "refresh_token"}, "invalid_grant"),
        ({"grant_type": "authorization_code", "code": "nope"}, "invalid_grant"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_refuses_bad_grants(
    http: httpx.Client, sim: Simulator, form: dict[str, str], error: str
) -> None:
    response = http.post(f"{sim.auth_url}/token", data=form, auth=CLIENT)

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_refresh_parameters_may_come_in_the_query_string(
    http: httpx.Client, sim: Simulator
) -> None:
    response = http.post(
        f"{sim.auth_url}/token",
        params={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
        auth=CLIENT,
    )

    assert response.status_code == 200


def test_authorization_code_flow_issues_a_new_grant(
    http: httpx.Client, sim: Simulator
) -> None:
    redirect = "http://127.0.0.1:9/callback"
    consent = http.get(
        f"{sim.auth_url}/authorize",
        params={
            "response_type": "code",
            "client_id": "sim-client",
            "redirect_uri": redirect,
            "state": "xyz",
        },
    )
    assert consent.status_code == 302
    location = urlsplit(consent.headers["Location"])
    returned = parse_qs(location.query)
    assert location.path == "/callback"
    assert returned["state"] == ["xyz"]
    form = {
        "grant_type": "authorization_code",
        "code": returned["code"][0],
        "redirect_uri": redirect,
    }

    issued = http.post(f"{sim.auth_url}/token", data=form, auth=CLIENT)
    reused = http.post(f"{sim.auth_url}/token", data=form, auth=CLIENT)

    assert issued.status_code == 200
    tokens = issued.json()
    assert tokens["refresh_token"] != "sim-refresh"
    assert get_account(http, sim, tokens["access_token"]).status_code == 200
    assert refresh(http, sim, tokens["refresh_token"]).status_code == 200
    assert reused.status_code == 400


def test_authorize_refuses_an_unknown_client(
    http: httpx.Client, sim: Simulator
) -> None:
    response = http.get(
        f"{sim.auth_url}/authorize",
        params={
            "response_type": "code",
            "client_id": "someone",
            "redirect_uri": "http://127.0.0.1:9/cb",
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_revoking_an_access_token_refuses_it(
    http: httpx.Client, sim: Simulator
) -> None:
    token = refresh(http, sim).json()["access_token"]

    revoked = http.post(
        f"{sim.auth_url}/token/revoke", data={"token": token}, auth=CLIENT
    )

    assert revoked.status_code == 200
    assert get_account(http, sim, token).status_code == 401
    assert refresh(http, sim).status_code == 200


def test_revoking_the_refresh_token_ends_the_grant(
    http: httpx.Client, sim: Simulator
) -> None:
    token = refresh(http, sim).json()["access_token"]

    http.post(
        f"{sim.auth_url}/token/revoke", params={"token": "sim-refresh"}, auth=CLIENT
    )

    assert get_account(http, sim, token).status_code == 401
    assert refresh(http, sim).json()["error"] == "invalid_grant"


def test_revoke_needs_client_authentication(http: httpx.Client, sim: Simulator) -> None:
    token = refresh(http, sim).json()["access_token"]

    response = http.post(f"{sim.auth_url}/token/revoke", data={"token": token})

    assert response.status_code == 401
    assert get_account(http, sim, token).status_code == 200
