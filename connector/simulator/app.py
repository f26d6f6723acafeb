"""The request path: route, authenticate, rate-limit, apply faults, answer, count.

Besides the API and OAuth, the app serves the stats and the edit endpoints
under /_simulator (see admin.py), and sends webhooks for the edits it makes to
the subscriptions that want them.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .admin import ADMIN_PREFIX, AdminEndpoints
from .api import ApiResources
from .changes import LoopChanges
from .config import SimulatorConfig
from .data import SimulatedData
from .delivery import EventNotifier, WebhookSender
from .errors import RequestRejected
from .faults import ApiCall, Fault, apply_faults
from .oauth import OAuthEndpoints
from .ratelimit import FixedWindowLimiter
from .stats import SimulatorStats
from .subscriptions import SubscriptionStore
from .tokens import TokenState, TokenStore
from .wire import Request, Response, error_response, json_response

logger = logging.getLogger(__name__)

API_PREFIX = "/public/v2"
OAUTH_PREFIX = "/oauth"
STATS_PATH = f"{ADMIN_PREFIX}/stats"
UNMATCHED = "(unmatched)"
# Path parameters are numbers (profile and loop ids), except a subscription
# id, which is opaque (a UUID at Dotloop) and read from the path by its handler.
_TOKEN_PARAMETERS = {"sid": "[0-9A-Za-z-]{1,64}"}

Action = Callable[[Request, Mapping[str, int]], Response]


@dataclass(frozen=True)
class Route:
    """A method and path template bound to an action."""

    method: str
    template: str
    action: Action

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.template}"

    def match(self, path: str) -> dict[str, int] | None:
        """The path parameters when `path` fits the template, else None."""
        found = _pattern(self.template).fullmatch(path)
        if found is None:
            return None
        return {
            name: int(value)
            for name, value in found.groupdict().items()
            if name not in _TOKEN_PARAMETERS
        }


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    def parameter(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?P<{name}>{_TOKEN_PARAMETERS.get(name, '[0-9]+')})"

    return re.compile(re.sub(r"\\{(\w+)\\}", parameter, re.escape(template)))


class SimulatorApp:
    """Turns a Request into a Response; shared by every server thread."""

    def __init__(
        self,
        data: SimulatedData,
        config: SimulatorConfig,
        clock: Callable[[], float],
        faults: Sequence[Fault] = (),
        changes: LoopChanges | None = None,
    ) -> None:
        self.stats = SimulatorStats()
        self.tokens = TokenStore(config.token_ttl_seconds, clock)
        self.limiter = FixedWindowLimiter(
            config.rate_limit_per_minute, config.window_seconds, clock
        )
        self.faults = list(faults)
        self.changes = changes or LoopChanges(data)
        self.subscriptions = SubscriptionStore(data)
        self.webhooks = WebhookSender(
            self.stats,
            scheme=config.webhook_signature_scheme,
            timeout=config.webhook_timeout_seconds,
            retry_delays=config.webhook_retry_delays,
        )
        self.changes.listen(EventNotifier(self.subscriptions, self.webhooks))
        oauth = OAuthEndpoints(config, self.tokens, self.stats)
        resources = ApiResources(data)
        subscriptions = self.subscriptions
        admin = AdminEndpoints(self.changes)
        self._oauth_routes = [
            Route("GET", "/authorize", lambda request, _: oauth.authorize(request)),
            Route("POST", "/token", lambda request, _: oauth.token(request)),
            Route("POST", "/token/revoke", lambda request, _: oauth.revoke(request)),
        ]
        self._api_routes = [
            Route("GET", "/account", resources.account),
            Route("GET", "/profile", resources.profiles),
            Route("GET", "/profile/{pid}/loop", resources.loops),
            Route("GET", "/profile/{pid}/loop/{lid}", resources.loop),
            Route("GET", "/profile/{pid}/loop/{lid}/detail", resources.detail),
            Route(
                "GET", "/profile/{pid}/loop/{lid}/participant", resources.participants
            ),
            Route("GET", "/subscription", subscriptions.list),
            Route("POST", "/subscription", subscriptions.create),
            Route("GET", "/subscription/{sid}", subscriptions.get),
            Route("PATCH", "/subscription/{sid}", subscriptions.update),
            Route("DELETE", "/subscription/{sid}", subscriptions.delete),
        ]
        self._admin_routes = [
            Route("POST", "/loop/{lid}/update", admin.update),
            Route("POST", "/loop/{lid}/participant", admin.participant),
            Route("POST", "/loop/{lid}/merge/{into}", admin.merge),
            Route("POST", "/profile/{pid}/loop", admin.create),
        ]

    def handle(self, request: Request) -> Response:
        """Answer one request and count it (stats and edits are not counted)."""
        path = request.path.rstrip("/") or "/"
        if path == STATS_PATH and request.method == "GET":
            return json_response(200, self.snapshot())
        if path.startswith(ADMIN_PREFIX + "/"):
            return self._admin(request, path.removeprefix(ADMIN_PREFIX))
        if path.startswith(API_PREFIX):
            endpoint, response = self._api(request, path.removeprefix(API_PREFIX))
        elif path.startswith(OAUTH_PREFIX):
            endpoint, response = self._oauth(request, path.removeprefix(OAUTH_PREFIX))
        else:
            endpoint, response = UNMATCHED, _no_route(request)
        self.stats.record(
            endpoint, response.status, fault=response.fault, dropped=response.drop
        )
        logger.debug("%s -> %d", endpoint, response.status)
        return response

    def snapshot(self) -> dict[str, Any]:
        """The counters, with the most requests any user sent in one window."""
        return {
            **self.stats.snapshot(),
            "busiest_window": {
                "requests": self.limiter.busiest_window,
                "limit": self.limiter.limit,
                "window_seconds": self.limiter.window_seconds,
            },
        }

    def close(self) -> None:
        """Stop sending webhooks; deliveries not yet sent are dropped."""
        self.webhooks.close()

    def _admin(self, request: Request, path: str) -> Response:
        route, params = _find(self._admin_routes, request.method, path)
        if route is None:
            return _no_route(request)
        try:
            return route.action(request, params)
        except RequestRejected as exc:
            return error_response(exc.status, exc.error, exc.message)

    def _oauth(self, request: Request, path: str) -> tuple[str, Response]:
        route, params = _find(self._oauth_routes, request.method, path)
        if route is None:
            return UNMATCHED, _no_route(request)
        return f"{route.method} {OAUTH_PREFIX}{route.template}", route.action(
            request, params
        )

    def _api(self, request: Request, path: str) -> tuple[str, Response]:
        route, params = _find(self._api_routes, request.method, path)
        endpoint = route.endpoint if route else UNMATCHED
        check = self.tokens.check(_bearer(request))
        if check.user is None:
            # The limit is per user, and a refused token names none: a 401
            # carries no X-RateLimit-* headers and uses up no one's window.
            return endpoint, _invalid_token(check.state)
        decision = self.limiter.hit(check.user)
        if not decision.allowed:
            response = error_response(429, "rate_limit_exceeded", "too many requests")
        elif route is None:
            response = _no_route(request)
        else:
            call = ApiCall(request, endpoint, params, check.user)
            response = apply_faults(self.faults, call, lambda: _run(route, call))
        # A fault's own rate headers (a 429 storm's) win over the limiter's.
        response.headers = {**decision.headers(), **response.headers}
        return endpoint, response


def _find(
    routes: Sequence[Route], method: str, path: str
) -> tuple[Route | None, dict[str, int]]:
    for route in routes:
        params = route.match(path)
        if params is not None and route.method == method:
            return route, params
    return None, {}


def _run(route: Route, call: ApiCall) -> Response:
    try:
        return route.action(call.request, call.params)
    except RequestRejected as exc:
        return error_response(exc.status, exc.error, exc.message)


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _invalid_token(state: TokenState) -> Response:
    message = {
        TokenState.EXPIRED: "access token expired",
        TokenState.UNKNOWN: "access token missing, unknown or revoked",
    }.get(state, "access token refused")
    return error_response(
        401,
        "invalid_token",
        message,
        **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _no_route(request: Request) -> Response:
    return error_response(404, "not_found", f"no resource at {request.path}")
