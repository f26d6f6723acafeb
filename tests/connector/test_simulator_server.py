"""Starting, stopping and addressing the simulator's HTTP server."""

from __future__ import annotations

import threading

import httpx
import pytest

from connector.simulator import Simulator, SimulatorConfig, generate_brokerage
from connector.simulator.faults import ApiCall, Handler
from connector.simulator.wire import Response


def stats_status(simulator: Simulator) -> int:
    with httpx.Client(timeout=5) as http:
        return http.get(simulator.stats_url).status_code


def test_urls_name_the_bound_port() -> None:
    with Simulator(generate_brokerage(10), SimulatorConfig()) as simulator:
        port = simulator.port

        assert port > 0
        assert simulator.base_url == f"http://127.0.0.1:{port}/public/v2"
        assert simulator.auth_url == f"http://127.0.0.1:{port}/oauth"
        assert simulator.stats_url == f"http://127.0.0.1:{port}/_simulator/stats"


def test_urls_need_a_running_server() -> None:
    simulator = Simulator(generate_brokerage(10), SimulatorConfig())

    with pytest.raises(RuntimeError, match="start"):
        _ = simulator.base_url


def test_stop_closes_the_socket_and_start_opens_it_again() -> None:
    simulator = Simulator(generate_brokerage(10), SimulatorConfig()).start()
    url = simulator.stats_url
    simulator.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=5)
    simulator.start()
    try:
        assert stats_status(simulator) == 200
    finally:
        simulator.stop()


def test_starting_twice_is_refused() -> None:
    simulator = Simulator(generate_brokerage(10), SimulatorConfig()).start()
    try:
        with pytest.raises(RuntimeError, match="already"):
            simulator.start()
    finally:
        simulator.stop()


def test_serve_forever_serves_until_stopped() -> None:
    simulator = Simulator(generate_brokerage(10), SimulatorConfig())
    ready = threading.Event()
    thread = threading.Thread(
        target=simulator.serve_forever, kwargs={"ready": lambda _: ready.set()}
    )
    thread.start()
    try:
        assert ready.wait(10)
        assert stats_status(simulator) == 200
    finally:
        simulator.stop()
        thread.join(10)

    assert not thread.is_alive()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 404),
        ("GET", "/oauth/token", 404),
        ("POST", "/public/v2/account", 401),
        ("DELETE", "/oauth/token/revoke", 404),
    ],
)
def test_unrouted_requests(method: str, path: str, status: int) -> None:
    with (
        Simulator(generate_brokerage(10), SimulatorConfig()) as simulator,
        httpx.Client(timeout=5) as http,
    ):
        root = simulator.stats_url.removesuffix("/_simulator/stats")
        response = http.request(method, root + path)

    assert response.status_code == status
    assert "error" in response.json()


def test_faults_wrap_authenticated_api_calls() -> None:
    seen: list[tuple[str, dict[str, int]]] = []

    def unavailable_loops(call: ApiCall, handler: Handler) -> Response:
        seen.append((call.endpoint, dict(call.params)))
        if call.endpoint == "GET /profile/{pid}/loop":
            return Response(503, b"<html>Service Unavailable</html>", "text/html")
        return handler()

    simulator = Simulator(
        generate_brokerage(10), SimulatorConfig(), faults=[unavailable_loops]
    )
    with simulator, httpx.Client(timeout=5) as http:
        token = http.post(
            f"{simulator.auth_url}/token",
            data={"grant_type": "refresh_token", "refresh_token": "sim-refresh"},
            auth=("sim-client", "sim-secret"),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        profiles = http.get(f"{simulator.base_url}/profile", headers=headers)
        pid = profiles.json()["data"][0]["id"]
        loops = http.get(f"{simulator.base_url}/profile/{pid}/loop", headers=headers)
        http.get(f"{simulator.base_url}/account")

    assert profiles.status_code == 200
    assert loops.status_code == 503
    assert loops.headers["X-RateLimit-Remaining"] == "98"
    assert seen == [("GET /profile", {}), ("GET /profile/{pid}/loop", {"pid": pid})]
