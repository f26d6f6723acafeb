"""Time to first complete render of each shipped dashboard, in headless Chromium.

Writes N generated loops straight into the raw tables of a fresh database
(the generator of bench_reporting), applies the views, starts Superset with
its caches on Redis (unless --no-redis), imports the bundle, embeds every
dashboard and starts the broker portal. Then, for each dashboard and each
way of opening it (as the admin in Superset, embedded in the portal for a
brokerage viewer, embedded for one agent), it times from navigation until
every chart has drawn its data:

    cold  a new browser profile, Superset's caches flushed first
    warm  the same page loaded again: browser and Superset caches filled

Figures only; no asserts. Postgres keeps its own buffers between runs.

    .venv/bin/python -m bench.bench_render [--loops 100000] [--runs 3]
    .venv/bin/python -m bench.bench_render --loops 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from psycopg import sql

from bench.bench_reporting import load
from bench.harness import ADMIN_URL, scratch_database
from connector.secrets import Secret
from sync import db
from sync.broker_portal import PortalConfig
from sync.bundle import build_bundle, bundle_passwords
from sync.embedding import Viewer, enable_embedding
from sync.portal_server import PortalServer
from sync.portal_users import PortalUser, hash_password
from sync.settings import PROJECT_ROOT, Settings
from sync.superset_server import (
    LocalSuperset,
    SupersetServer,
    copy_home,
    free_port,
    prepare,
)
from sync.superset_server import start as start_superset
from sync.views import apply_views
from tests.e2e.portal_browser import (
    ShippedDashboard,
    chart_errors,
    dashboard_frame,
    launch,
    log_in,
    log_in_to_superset,
    shipped,
    wait_rendered,
)

# Loopback-only credentials of the benchmark's own Superset and portal.
ADMIN = "admin"
ADMIN_PASSWORD = Secret("bench-admin-password-loopback-only")
SECRET_KEY = Secret("bench-secret-key-loopback-only-0123456789abcdef")
GUEST_SECRET = "bench-guest-token-secret-loopback-only-0123456789"
PORTAL_PASSWORD = "bench-portal-password"
TEMPLATE_HOME = PROJECT_ROOT / ".data" / "bench-render" / "superset-template"
# bench_reporting's generator names its agents agent<N>@brokerage.example.
VIEWERS = {
    "broker": Viewer.brokerage(),
    "agent": Viewer.agent("agent0@brokerage.example"),
}
MODES = ("admin", "broker", "agent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3, help="warm loads per page")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--no-redis", action="store_true", help="no Superset cache")
    args = parser.parse_args()
    redis_url = None if args.no_redis else args.redis_url
    with ExitStack() as stack:
        settings = stack.enter_context(reporting_database(args.loops, args.agents))
        flush = cache_flusher(redis_url)
        # Runs last, once Superset has stopped writing to its caches.
        stack.callback(flush)
        portal_port = free_port()
        origin = f"http://127.0.0.1:{portal_port}"
        superset = stack.enter_context(running_superset(origin, redis_url))
        timed("import + embed", lambda: import_and_embed(superset, settings, origin))
        portal = stack.enter_context(running_portal(superset, portal_port))
        playwright = stack.enter_context(sync_playwright())
        browser = launch(playwright)
        stack.callback(browser.close)
        print(
            f"{'dashboard':28} {'as':7} {'cold s':>7} {'warm s (median, min-max)':>28}"
        )
        for dashboard in shipped():
            for mode in MODES:
                visit = visit_as(mode, dashboard, superset, portal)
                cold, warm = measure(browser, visit, dashboard, flush, args.runs)
                print(
                    f"{dashboard.title:28} {mode:7} {cold:7.2f} "
                    f"{statistics.median(warm):14.2f} "
                    f"({min(warm):.2f}-{max(warm):.2f})"
                )


@dataclass(frozen=True)
class Visit:
    """One way of opening a dashboard: its URL and how to sign in first."""

    url: str
    embedded: bool
    sign_in: Callable[[Page], None]


def measure(
    browser: Browser,
    visit: Visit,
    dashboard: ShippedDashboard,
    flush: Callable[[], None],
    runs: int,
) -> tuple[float, list[float]]:
    """One cold load in a new profile after a cache flush, then warm reloads."""
    flush()
    context = clean(browser)
    try:
        page = context.new_page()
        visit.sign_in(page)
        cold = load_once(page, visit, dashboard)
        warm = [load_once(page, visit, dashboard) for _ in range(runs)]
    finally:
        context.close()
    return cold, warm


def load_once(page: Page, visit: Visit, dashboard: ShippedDashboard) -> float:
    """Seconds from navigation until every chart of the dashboard has drawn."""
    started = time.monotonic()
    page.goto(visit.url)
    frame = dashboard_frame(page) if visit.embedded else page
    wait_rendered(frame, dashboard.charts, timeout=600.0)
    elapsed = time.monotonic() - started
    errors = chart_errors(frame)
    if errors:
        raise RuntimeError(f"{dashboard.title}: charts failed: {errors}")
    return elapsed


def visit_as(
    mode: str,
    dashboard: ShippedDashboard,
    superset: SupersetServer,
    portal: PortalServer,
) -> Visit:
    """Opening `dashboard` as the admin, or in the portal as a viewer."""
    if mode == "admin":
        return Visit(
            f"{superset.url}/superset/dashboard/{dashboard.uuid}/",
            embedded=False,
            sign_in=lambda page: log_in_to_superset(
                page.context, superset.url, ADMIN, ADMIN_PASSWORD
            ),
        )
    return Visit(
        f"{portal.url}/?dashboard={dashboard.uuid}",
        embedded=True,
        sign_in=lambda page: log_in(page, portal.url, mode, PORTAL_PASSWORD),
    )


def clean(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport={"width": 1440, "height": 1100})


@contextmanager
def reporting_database(loops: int, agents: int) -> Iterator[Settings]:
    """A scratch database with `loops` generated loops and the views applied."""
    role = f"bench_reader_{uuid.uuid4().hex[:8]}"
    try:
        with scratch_database() as url:
            settings = Settings(database_url=Secret(url), reporting_reader_role=role)
            try:
                fill(settings, loops, agents)
                yield settings
            finally:
                drop_owned(url, role)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def fill(settings: Settings, loops: int, agents: int) -> None:
    with db.connect(settings) as conn:
        conn.autocommit = True
        db.apply_schema(conn, settings)
        timed(
            f"generate + COPY {loops} loops",
            lambda: load(conn, settings, loops, agents),
        )
        conn.execute("VACUUM ANALYZE")
        timed("apply_views (fills the tables)", lambda: apply_views(conn, settings))
        conn.execute("VACUUM ANALYZE")


def drop_owned(url: str, role: str) -> None:
    """What the reader role was granted in the scratch database, before the drop."""
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        if found.fetchone():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))


@contextmanager
def running_superset(origin: str, redis_url: str | None) -> Iterator[SupersetServer]:
    """Superset on a free port, framing `origin`, caching on Redis if given."""
    env = {
        "GUEST_TOKEN_JWT_SECRET": GUEST_SECRET,
        "GUEST_TOKEN_JWT_AUDIENCE": "dotloop-reporter-bench",
        "SUPERSET_ALLOWED_ORIGINS": origin,
        "SUPERSET_COOKIE_SECURE": "false",
        **({"REDIS_URL": redis_url} if redis_url else {}),
    }
    with tempfile.TemporaryDirectory(prefix="bench-superset-") as home:
        local = LocalSuperset(
            home=Path(home),
            secret_key=SECRET_KEY,
            admin_username=ADMIN,
            admin_password=ADMIN_PASSWORD,
            env=env,
        )
        template = LocalSuperset(
            home=TEMPLATE_HOME,
            secret_key=SECRET_KEY,
            admin_username=ADMIN,
            admin_password=ADMIN_PASSWORD,
            env=env,
        )
        timed("prepare Superset metadata", lambda: prepare(template))
        copy_home(TEMPLATE_HOME, local.home)
        server = timed("start Superset", lambda: start_superset(local))
        with server:
            yield server


def import_and_embed(superset: SupersetServer, settings: Settings, origin: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as scratch:
        bundle = build_bundle(settings, Path(scratch))
        with superset.client() as client:
            client.import_bundle(bundle, bundle_passwords(settings))
            enable_embedding(client, [origin])


@contextmanager
def running_portal(superset: SupersetServer, port: int) -> Iterator[PortalServer]:
    hashed = Secret(hash_password(PORTAL_PASSWORD, iterations=1000))
    config = PortalConfig(
        superset_url=superset.url,
        superset_username=ADMIN,
        superset_password=ADMIN_PASSWORD,
        users={name: PortalUser(name, hashed, v) for name, v in VIEWERS.items()},
        port=port,
    )
    with PortalServer(config) as portal:
        yield portal


def cache_flusher(redis_url: str | None) -> Callable[[], None]:
    """Empties Superset's caches: its keys (superset_*) in that Redis database."""
    if redis_url is None:
        return lambda: None
    client = redis.Redis.from_url(redis_url)
    client.ping()

    def flush() -> None:
        keys = list(client.scan_iter(match="superset_*", count=1000))
        if keys:
            client.delete(*keys)

    return flush


def timed(label: str, action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


if __name__ == "__main__":
    main()
