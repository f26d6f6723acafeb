"""The broker portal in headless Chromium, against a real Superset.

The hand-worked ledger is landed and the bundle imported into a Superset whose
frame-ancestors admit the portal's origin; the portal serves the page with
Superset's embedded SDK and issues guest tokens for whoever logged in. Each
shipped dashboard is captured, embedded and as the admin sees it, under
test-artifacts/screenshots/.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import jwt
import psycopg
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from connector.secrets import Secret
from sync.broker_portal import PortalConfig
from sync.bundle import build_bundle, bundle_passwords
from sync.embedding import Viewer, enable_embedding
from sync.errors import ConfigurationError, SupersetError
from sync.portal_server import PortalServer
from sync.portal_users import PortalUser, hash_password
from sync.settings import Settings
from sync.superset_server import (
    LocalSuperset,
    SupersetServer,
    copy_home,
    free_port,
    prepare,
)
from sync.superset_server import start as start_superset
from sync.superset_setup import MAIN_DASHBOARD_UUID
from sync.views import apply_views
from tests.e2e.conftest import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    GUEST_AUDIENCE,
    GUEST_SECRET,
    SECRET_KEY,
    SUPERSET_ENV,
)
from tests.e2e.portal_browser import (
    ChromiumMissing,
    ShippedDashboard,
    chart_errors,
    clean_context,
    dashboard_frame,
    fit_viewport,
    launch,
    log_in,
    log_in_to_superset,
    screenshot,
    shipped,
    wait_rendered,
)
from tests.fixtures.ledger import (
    ALICE,
    BOB,
    DAN,
    ERIN,
    land_ledger,
    render_ledger,
)
from tests.fixtures.sync_runs import record_runs

PASSWORD = "portal-test-password"
DASHBOARDS = shipped()
(MAIN,) = [d for d in DASHBOARDS if d.uuid == MAIN_DASHBOARD_UUID]
# EXPECTED_COMPANY_GCI_THIS_YEAR (169,172.50) as the dashboards format it.
COMPANY_GCI = "$169,173"
AGENTS = [ALICE, BOB, "Carla Reyes", DAN, ERIN]
USERS = {
    "broker": Viewer.brokerage(),
    "alice": Viewer.agent("alice.nguyen@summitrealty.example"),
    "west-office": Viewer.office(202),
}


@pytest.fixture(scope="module")
def portal_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def portal_origin(portal_port: int) -> str:
    """The portal's origin; this module's Superset lets it frame dashboards."""
    return f"http://127.0.0.1:{portal_port}"


@pytest.fixture(scope="module")
def framing_superset(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    portal_origin: str,
) -> Iterator[SupersetServer]:
    """A Superset of its own: its CSP must name the portal's (free) port."""
    local = LocalSuperset(
        home=tmp_path_factory.mktemp("portal-superset"),
        secret_key=SECRET_KEY,
        admin_username=ADMIN_USERNAME,
        admin_password=ADMIN_PASSWORD,
        env={**SUPERSET_ENV, "SUPERSET_ALLOWED_ORIGINS": portal_origin},
    )
    template = Path(request.config.cache.mkdir("superset-metadata"))
    try:
        prepare(dataclasses.replace(local, home=template))
        copy_home(template, local.home)
        server = start_superset(local)
    except SupersetError as exc:
        pytest.fail(f"could not start Superset for the portal: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def embedded(
    reporting_settings: Settings,
    framing_superset: SupersetServer,
    portal_origin: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """The ledger landed, the bundle imported and every dashboard embedded."""
    root = render_ledger(tmp_path_factory.mktemp("ledger"), date.today().year)
    assert reporting_settings.database_url is not None
    with psycopg.connect(reporting_settings.database_url.reveal()) as conn:
        land_ledger(conn, reporting_settings.raw_schema, root)
        # So that the freshness dashboard's run charts draw something.
        record_runs(conn, reporting_settings.raw_schema)
        apply_views(conn, reporting_settings)
    bundle = build_bundle(reporting_settings, tmp_path_factory.mktemp("bundle"))
    with framing_superset.client() as client:
        client.import_bundle(bundle, bundle_passwords(reporting_settings))
        return enable_embedding(client, [portal_origin])


@pytest.fixture(scope="module")
def portal(
    embedded: dict[str, str], framing_superset: SupersetServer, portal_port: int
) -> Iterator[PortalServer]:
    hashed = Secret(hash_password(PASSWORD, iterations=1000))
    config = PortalConfig(
        superset_url=framing_superset.url,
        superset_username=ADMIN_USERNAME,
        superset_password=ADMIN_PASSWORD,
        users={name: PortalUser(name, hashed, v) for name, v in USERS.items()},
        port=portal_port,
    )
    with PortalServer(config) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            chromium = launch(playwright)
        except ChromiumMissing as exc:
            pytest.fail(str(exc), pytrace=False)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = clean_context(browser)
    yield context.new_page()
    context.close()


def dashboard_url(portal: PortalServer, dashboard: ShippedDashboard) -> str:
    return f"{portal.url}/?dashboard={dashboard.uuid}"


def texts_seen_by(page: Page, portal: PortalServer, username: str) -> str:
    """Everything `username` reads on the shipped dashboards, in the portal."""
    log_in(page, portal.url, username, PASSWORD)
    texts = []
    for dashboard in DASHBOARDS:
        page.goto(dashboard_url(portal, dashboard))
        frame = dashboard_frame(page)
        wait_rendered(frame, dashboard.charts)
        assert chart_errors(frame) == [], dashboard.title
        texts.append(frame.locator("body").inner_text())
    return "\n".join(texts)


def test_brokerage_viewer_sees_the_company_and_every_agent(
    portal: PortalServer, page: Page
) -> None:
    seen = texts_seen_by(page, portal, "broker")

    assert COMPANY_GCI in seen
    assert all(agent in seen for agent in AGENTS)


def test_agent_viewer_sees_only_her_own_figures(
    portal: PortalServer, page: Page
) -> None:
    seen = texts_seen_by(page, portal, "alice")

    assert ALICE in seen
    assert [agent for agent in AGENTS if agent in seen] == [ALICE]
    assert COMPANY_GCI not in seen


def test_office_viewer_sees_only_its_office(portal: PortalServer, page: Page) -> None:
    seen = texts_seen_by(page, portal, "west-office")

    # Profile 202 holds loops of Erin and Dan only: 34,400 closed this year.
    assert [agent for agent in AGENTS if agent in seen] == [DAN, ERIN]
    assert "$34,400" in seen
    assert COMPANY_GCI not in seen


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.slug)
def test_each_dashboard_renders_embedded_and_is_captured(
    portal: PortalServer, page: Page, dashboard: ShippedDashboard
) -> None:
    log_in(page, portal.url, "broker", PASSWORD)
    page.goto(dashboard_url(portal, dashboard))
    frame = dashboard_frame(page)
    wait_rendered(frame, dashboard.charts)
    fit_viewport(page)
    wait_rendered(frame, dashboard.charts)

    assert chart_errors(frame) == []
    assert page.title() == f"{dashboard.title} - Brokerage portal"
    assert_png(screenshot(page, f"{dashboard.slug}-embedded"))


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.slug)
def test_each_dashboard_renders_for_the_admin_and_is_captured(
    framing_superset: SupersetServer,
    embedded: dict[str, str],
    page: Page,
    dashboard: ShippedDashboard,
) -> None:
    log_in_to_superset(
        page.context, framing_superset.url, ADMIN_USERNAME, ADMIN_PASSWORD
    )
    page.goto(f"{framing_superset.url}/superset/dashboard/{dashboard.uuid}/")
    wait_rendered(page, dashboard.charts)
    fit_viewport(page)
    wait_rendered(page, dashboard.charts)

    assert chart_errors(page) == []
    assert_png(screenshot(page, f"{dashboard.slug}-admin"))


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    # A blank page compresses to a few kilobytes; charts do not.
    assert len(data) > 30_000


@contextmanager
def log_in_http(portal: PortalServer, username: str) -> Iterator[httpx.Client]:
    """An HTTP client holding a portal session of `username`."""
    with httpx.Client(base_url=portal.url, timeout=60.0) as client:
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 303
        yield client


def test_guest_token_needs_a_portal_session(portal: PortalServer) -> None:
    response = httpx.post(
        f"{portal.url}/api/guest-token", json={"dashboard": MAIN.uuid}
    )

    assert response.status_code == 401
    assert "token" not in response.json()


def test_the_viewer_comes_from_the_session_whatever_the_page_sends(
    portal: PortalServer,
) -> None:
    with log_in_http(portal, "alice") as client:
        response = client.post(
            "/api/guest-token?viewer=brokerage&user=broker",
            json={"dashboard": MAIN.uuid, "viewer": "brokerage", "rls": []},
        )
    assert response.status_code == 200

    claims = jwt.decode(
        response.json()["token"],
        GUEST_SECRET,
        algorithms=["HS256"],
        audience=GUEST_AUDIENCE,
    )
    assert claims["user"]["username"] == "agent-alice.nguyen@summitrealty.example"
    clauses = {rule["clause"] for rule in claims["rls_rules"]}
    assert "agent_email = 'alice.nguyen@summitrealty.example'" in clauses


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"dashboard": "00000000-0000-0000-0000-000000000000"}, 404),
        ({"dashboard": None}, 404),
        (["not", "an", "object"], 400),
    ],
)
def test_guest_token_only_for_shipped_dashboards(
    portal: PortalServer, body: object, status: int
) -> None:
    with log_in_http(portal, "broker") as client:
        response = client.post("/api/guest-token", json=body)

    assert response.status_code == status


def test_a_write_from_another_origin_is_refused(portal: PortalServer) -> None:
    with log_in_http(portal, "broker") as client:
        response = client.post(
            "/api/guest-token",
            json={"dashboard": MAIN.uuid},
            headers={"Origin": "https://attacker.example"},
        )

    assert response.status_code == 403


def test_a_wrong_password_opens_no_session(portal: PortalServer) -> None:
    response = httpx.post(
        f"{portal.url}/login", data={"username": "broker", "password": "guess"}
    )

    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert "Wrong username or password." in response.text


def test_a_session_cookie_is_script_proof_and_ends_at_logout(
    portal: PortalServer,
) -> None:
    with httpx.Client(base_url=portal.url, timeout=60.0) as client:
        login = client.post("/login", data={"username": "broker", "password": PASSWORD})
        before = client.get("/api/session")
        client.post("/logout")
        after = client.get("/api/session")

    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert before.status_code == 200
    assert before.json()["viewer"] == "brokerage"
    assert after.status_code == 401


def test_the_page_never_sees_the_superset_password(portal: PortalServer) -> None:
    paths = ["/", "/login", "/api/session", "/static/portal.js", "/sdk/embedded-sdk.js"]
    with log_in_http(portal, "broker") as client:
        bodies = [client.get(path).text for path in paths]
        bodies.append(
            client.post("/api/guest-token", json={"dashboard": MAIN.uuid}).text
        )

    assert all(ADMIN_PASSWORD.reveal() not in body for body in bodies)
    assert "token" in bodies[-1]


def test_the_portal_refuses_an_origin_superset_will_not_frame(
    portal: PortalServer,
    framing_superset: SupersetServer,
    portal_origin: str,
) -> None:
    stranger = "http://127.0.0.1:1"
    config = dataclasses.replace(portal.portal.config, port=0, public_origin=stranger)

    with pytest.raises(ConfigurationError, match="embed enable"):
        PortalServer(config)
    # Allowed by the dashboards but not by Superset's frame-ancestors (CSP).
    with framing_superset.client() as client:
        enable_embedding(client, [portal_origin, stranger])
        try:
            with pytest.raises(ConfigurationError, match="SUPERSET_ALLOWED_ORIGINS"):
                PortalServer(config)
        finally:
            enable_embedding(client, [portal_origin])
