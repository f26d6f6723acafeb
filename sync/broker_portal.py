"""The broker portal: a host site that embeds the dashboards for its own users.

An example of the brokerage's site. It logs its users in against the portal
users file (see portal_users), serves a page that embeds the shipped
dashboards with Superset's embedded SDK, and answers the page's guest-token
requests itself, with the row-level clauses of the logged-in viewer. The
Superset service account and its password stay on this server.

    GET  /                     the portal page (the login page without a session)
    GET  /login, POST /login   sign in; POST /logout signs out
    GET  /api/session          viewer, dashboards and Superset's public URL
    POST /api/guest-token      {"dashboard": uuid} -> {"token": ...}
    GET  /static/<name>        the page's script and styles
    GET  /sdk/embedded-sdk.js  the SDK bundle installed in portal/node_modules
    GET  /healthz              200
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from connector.secrets import Secret

from .embedding import (
    DASHBOARDS_DIR,
    Viewer,
    issue_guest_token,
    shipped_dashboards,
)
from .errors import ConfigurationError, SupersetError
from .portal_users import PortalUser, Sessions
from .settings import PROJECT_ROOT, Settings
from .superset_api import SupersetClient
from .superset_setup import MAIN_DASHBOARD_UUID

logger = logging.getLogger(__name__)

PORTAL_DIR = PROJECT_ROOT / "portal"
STATIC_DIR = PORTAL_DIR / "static"
SDK_BUNDLE = PORTAL_DIR.joinpath(
    "node_modules", "@superset-ui", "embedded-sdk", "bundle", "index.js"
)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8100


@dataclass(frozen=True)
class PortalConfig:
    """What the portal needs: Superset, its service account, and its users."""

    superset_url: str
    superset_username: str
    superset_password: Secret
    users: dict[str, PortalUser]
    # The portal and Superset as browsers reach them; None: as served here.
    public_origin: str | None = None
    superset_public_url: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    dashboards_dir: Path = DASHBOARDS_DIR

    @property
    def superset_browser_url(self) -> str:
        """Superset's URL as the page (and the embedded SDK) reaches it."""
        return (self.superset_public_url or self.superset_url).rstrip("/")


@dataclass(frozen=True)
class EmbeddedDashboard:
    """A shipped dashboard and its embedded uuid in this Superset."""

    uuid: str
    title: str
    embedded_uuid: str


def portal_config(
    settings: Settings,
    users: dict[str, PortalUser],
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    public_origin: str | None = None,
    superset_public_url: str | None = None,
) -> PortalConfig:
    """The portal's configuration from the settings; names what is missing."""
    superset = settings.superset
    if superset.url is None or superset.password is None:
        raise ConfigurationError(
            "set SUPERSET_URL and SUPERSET_PASSWORD (and SUPERSET_USERNAME if not "
            "admin): the portal asks that account for guest tokens"
        )
    return PortalConfig(
        superset_url=superset.url.rstrip("/"),
        superset_username=superset.username,
        superset_password=superset.password,
        users=users,
        public_origin=public_origin,
        superset_public_url=superset_public_url,
        host=host,
        port=port,
        dashboards_dir=settings.dashboards_dir,
    )


def frame_ancestors_admit(policy: str, origin: str, own_origin: str) -> bool:
    """Whether a Content-Security-Policy lets `origin` frame a page of `own_origin`.

    Only exact origins, 'self', scheme sources and * are understood; anything
    else counts as not admitted. No frame-ancestors directive admits all.

    >>> csp = "default-src 'self'; frame-ancestors 'self' https://p.example"
    >>> frame_ancestors_admit(csp, "https://p.example", "https://bi.example")
    True
    >>> frame_ancestors_admit(csp, "https://q.example", "https://bi.example")
    False
    >>> frame_ancestors_admit(csp, "https://bi.example", "https://bi.example")
    True
    >>> frame_ancestors_admit("frame-ancestors 'none'", "https://a.b", "https://c.d")
    False
    """
    for directive in policy.split(";"):
        name, *sources = directive.split() or [""]
        if name.lower() != "frame-ancestors":
            continue
        scheme = urlsplit(origin).scheme + ":"
        for source in sources:
            if source == "'self'" and _origin(origin) == _origin(own_origin):
                return True
            if source in ("*", scheme) or _origin(source) == _origin(origin):
                return True
        return False
    return True


class Portal:
    """The portal's logic, apart from HTTP: sessions and guest tokens."""

    def __init__(
        self,
        config: PortalConfig,
        origin: str,
        client: SupersetClient,
        dashboards: list[EmbeddedDashboard],
    ) -> None:
        self.config = config
        self.origin = origin
        self.sessions = Sessions(config.users)
        self.dashboards = {d.uuid: d for d in dashboards}
        self._client = client
        # One Superset session serves every request; its login is not shared
        # safely between threads.
        self._lock = threading.Lock()

    @classmethod
    def open(cls, config: PortalConfig, origin: str) -> Portal:
        """Log in to Superset and check it embeds every dashboard for `origin`."""
        if not SDK_BUNDLE.is_file():
            raise ConfigurationError(
                f"the embedded SDK is not installed ({SDK_BUNDLE} is missing); run "
                "`make bootstrap`, which runs `npm ci` in portal/"
            )
        client = SupersetClient(
            config.superset_url, config.superset_username, config.superset_password
        )
        try:
            dashboards = _embedded_dashboards(client, config.dashboards_dir)
            for dashboard in dashboards:
                check_embedding(config, dashboard, origin)
            _check_guest_tokens(client, dashboards[0])
        except BaseException:
            client.close()
            raise
        return cls(config, origin, client, dashboards)

    def close(self) -> None:
        self._client.close()

    def session_info(self, user: PortalUser) -> dict[str, object]:
        """What the page needs to embed: never a credential."""
        # The landing dashboard first, the others in their shipped order.
        ordered = sorted(
            self.dashboards.values(), key=lambda d: d.uuid != MAIN_DASHBOARD_UUID
        )
        return {
            "user": user.username,
            "viewer": user.viewer.username,
            "superset_url": self.config.superset_browser_url,
            "dashboards": [
                {"uuid": d.uuid, "title": d.title, "embedded_id": d.embedded_uuid}
                for d in ordered
            ],
        }

    def guest_token(self, user: PortalUser, dashboard_uuid: object) -> Secret | None:
        """A guest token for a shipped dashboard, scoped to the user's viewer."""
        dashboard = self.dashboards.get(str(dashboard_uuid))
        if dashboard is None:
            return None
        with self._lock:
            return issue_guest_token(self._client, dashboard.embedded_uuid, user.viewer)


def check_embedding(
    config: PortalConfig, dashboard: EmbeddedDashboard, origin: str
) -> None:
    """Fail unless Superset lets a page of `origin` frame this dashboard.

    Two settings must agree: the dashboard's allowed domains (`embed enable`)
    and the frame-ancestors of Superset's CSP (SUPERSET_ALLOWED_ORIGINS).
    """
    superset_url = config.superset_url
    url = f"{superset_url}/embedded/{dashboard.embedded_uuid}"
    try:
        response = httpx.get(url, headers={"Referer": origin + "/"}, timeout=30.0)
    except httpx.HTTPError as exc:
        message = f"could not reach Superset at {superset_url}: {exc}"
        raise SupersetError(message) from exc
    if response.status_code in (403, 404):
        raise ConfigurationError(
            f"Superset does not let {origin} embed {dashboard.title!r} "
            f"({response.status_code}); run `dotloop-reporter embed enable "
            f"--allowed-domain {origin}`"
        )
    if response.status_code != 200:
        raise SupersetError(
            f"Superset answered {response.status_code} to GET /embedded/...",
            status_code=response.status_code,
        )
    policy = response.headers.get("content-security-policy", "")
    if not frame_ancestors_admit(policy, origin, config.superset_browser_url):
        raise ConfigurationError(
            f"Superset's frame-ancestors do not admit {origin}, so browsers "
            f"will not show {dashboard.title!r} in the portal; add {origin} to "
            "SUPERSET_ALLOWED_ORIGINS in Superset's environment and restart it"
        )


def _embedded_dashboards(
    client: SupersetClient, source_dir: Path
) -> list[EmbeddedDashboard]:
    found: list[EmbeddedDashboard] = []
    for dashboard_uuid, title in shipped_dashboards(source_dir).items():
        embedded = client.embedded_uuid(client.dashboard_id(uuid=dashboard_uuid))
        if embedded is None:
            raise ConfigurationError(
                f"dashboard {title!r} is not embedded in {client.url}; run "
                "`dotloop-reporter embed enable --allowed-domain <portal origin>`"
            )
        found.append(EmbeddedDashboard(dashboard_uuid, title, embedded))
    if not found:
        raise ConfigurationError(f"no dashboards under {source_dir / 'dashboards'}")
    return found


def _check_guest_tokens(client: SupersetClient, dashboard: EmbeddedDashboard) -> None:
    # Superset lets only accounts with can_grant_guest_token ask for tokens.
    try:
        issue_guest_token(client, dashboard.embedded_uuid, Viewer.brokerage())
    except SupersetError as exc:
        if exc.status_code not in (401, 403):
            raise
        raise ConfigurationError(
            f"Superset refuses guest tokens to {client.username!r}; set "
            "SUPERSET_USERNAME to an account with can_grant_guest_token (Admin "
            "has it)"
        ) from exc


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url.rstrip("/"))
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port or default
    except ValueError:
        port = None
    return (parts.scheme, (parts.hostname or "").lower(), port)
