"""Headless Chromium on the broker portal: log in, wait for dashboards, capture.

Debian's chromium (/usr/bin/chromium, installed by scripts/install_chromium.sh)
is driven by Playwright; Playwright never downloads a browser here. Each
page opens in a new browser context: a clean profile without cookies, so no
Superset login can stand in for the guest token. Shared by the browser tests
and bench/bench_render.py.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml
from playwright.sync_api import Browser, BrowserContext, Frame, Page, Playwright

from connector.secrets import Secret
from sync.embedding import DASHBOARDS_DIR
from sync.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS_DIR = PROJECT_ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1440, "height": 1100}
# What Superset 6.1's dashboard shows while a chart waits for its data.
_LOADING = '[data-test="loading-indicator"], .loading'
_CHART_HOLDER = '[data-test="dashboard-component-chart-holder"]'
_CHART_ERROR = '.ant-alert-error, [role="alert"]'
_POLL_SECONDS = 0.05
_ANIMATION_MS = 2000
_FINISHED = frozenset({"drawn", "empty", "error"})


class ChromiumMissing(RuntimeError):
    """Debian's chromium is not installed where the tests look for it."""


def launch(playwright: Playwright) -> Browser:
    """Debian's headless chromium; never a browser downloaded by Playwright."""
    if not CHROMIUM.is_file():
        raise ChromiumMissing(
            f"{CHROMIUM} is missing; run scripts/install_chromium.sh (apt-get "
            "install -y --no-install-recommends chromium chromium-driver)"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM))


def clean_context(browser: Browser) -> BrowserContext:
    """A fresh profile: no cookies, no cache, no storage."""
    return browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]


def log_in(page: Page, portal_url: str, username: str, password: str) -> None:
    """Sign in through the portal's login form."""
    page.goto(f"{portal_url}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    with page.expect_navigation():
        page.click('button[type="submit"]')


def dashboard_frame(page: Page, timeout: float = 60.0) -> Frame:
    """The frame of the embedded dashboard, once the SDK has mounted it."""
    handle = page.wait_for_selector("#dashboard iframe", timeout=timeout * 1000)
    assert handle is not None
    frame = handle.content_frame()
    if frame is None:
        raise AssertionError("the dashboard iframe has no content frame")
    return frame


@dataclass(frozen=True)
class ShippedDashboard:
    """A dashboard of the bundle sources, as the browser tests need it."""

    uuid: str
    title: str
    slug: str
    charts: int


def shipped(source_dir: Path = DASHBOARDS_DIR) -> list[ShippedDashboard]:
    """Every dashboard the bundle ships, with how many charts it places."""
    found = []
    for path in sorted((source_dir / "dashboards").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        charts = sum(1 for item in doc["position"].values() if _is_chart(item))
        found.append(
            ShippedDashboard(
                str(doc["uuid"]), doc["dashboard_title"], path.stem, charts
            )
        )
    return found


def wait_rendered(frame: Frame | Page, charts: int, timeout: float = 120.0) -> float:
    """Wait until `charts` charts show their data, no rows or an error; seconds.

    Superset draws a chart only once it is in view, so a chart that is
    neither drawn nor loading is scrolled into view, as a reader would.
    """
    started = time.monotonic()
    holders = frame.locator(_CHART_HOLDER)
    while True:
        state = frame.evaluate(_STATE_JS, _SELECTORS)
        if len(state) >= charts and all(s in _FINISHED for s in state):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(
                f"{charts} charts not drawn in {timeout:.0f}s; states: {state}"
            )
        for index, chart_state in enumerate(state):
            if chart_state == "idle":
                holders.nth(index).scroll_into_view_if_needed()
        time.sleep(_POLL_SECONDS)


def fit_viewport(page: Page) -> None:
    """Make the viewport as tall as the page, for a screenshot of every chart."""
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": int(height)})


def chart_errors(frame: Frame | Page) -> list[str]:
    """The text of every chart that shows an error instead of data."""
    holders = frame.locator(_CHART_HOLDER)
    errors = []
    for index in range(holders.count()):
        found = holders.nth(index).locator(_CHART_ERROR)
        if found.count():
            errors.append(found.first.inner_text())
    return errors


def log_in_to_superset(
    context: BrowserContext, superset_url: str, username: str, password: Secret
) -> None:
    """Give the browser context a Superset session of `username`.

    The login form is posted over HTTP and its session cookie handed to the
    browser: with framing origins Superset marks its cookie SameSite=None,
    which Chromium refuses without Secure, and Secure cannot travel over the
    plain-http loopback the tests use.
    """
    with httpx.Client(base_url=superset_url, timeout=60.0) as http:
        form = http.get("/login/")
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
        assert found is not None, "no CSRF token on Superset's login page"
        fields = {"csrf_token": found[1], "username": username}
        answer = http.post("/login/", data={**fields, "password": password.reveal()})
        session = http.cookies.get("session")
    assert answer.status_code == 302 and session, "Superset refused the login"
    cookie = {"name": "session", "value": session, "url": superset_url}
    context.add_cookies([{**cookie, "httpOnly": True, "sameSite": "Lax"}])


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG under test-artifacts/screenshots/."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS_DIR / f"{name}.png"
    # ECharts grows its bars and lines for about a second after drawing.
    page.wait_for_timeout(_ANIMATION_MS)
    page.screenshot(path=str(path), full_page=True)
    return path


def _is_chart(item: object) -> bool:
    return isinstance(item, dict) and item.get("type") == "CHART"


_SELECTORS = {"loading": _LOADING, "error": _CHART_ERROR, "holder": _CHART_HOLDER}
# Each chart holder's state: drawn, empty (no rows), error, loading, or idle
# (not started, or waiting to come into view).
_STATE_JS = """
({holder, loading, error}) => Array.from(document.querySelectorAll(holder)).map(
  (h) => {
    if (h.querySelector(error)) return "error";
    if (h.querySelector(loading)) return "loading";
    if (h.querySelector(".ant-empty")) return "empty";
    const body = h.querySelector('[data-test="slice-container"]');
    if (body === null) return "idle";
    const drawn = body.querySelector("canvas, svg, table") !== null ||
      body.innerText.trim().length > 0;
    return drawn ? "drawn" : "idle";
  })
"""
