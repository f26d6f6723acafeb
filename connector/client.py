"""The Dotloop API v2 client: paced, retried, re-authenticated, typed errors."""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from .auth import TokenSource
from .errors import (
    AuthenticationError,
    ClientError,
    DotloopError,
    InvalidResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    excerpt,
)
from .pacing import Budget
from .paging import LoopPage, check_batch_size, loop_list_params
from .secrets import Secret
from .subscriptions import Subscription, SubscriptionRequest, parse_subscription

logger = logging.getLogger(__name__)

USER_AGENT = "dotloop-reporter/0.1"
_RETRYABLE = (TransportError, ServerError, RateLimitedError)


@dataclass(frozen=True)
class ClientStats:
    """Requests sent (every attempt), 429 answers received, and retries made."""

    requests: int = 0
    throttled: int = 0
    retries: int = 0


class DotloopClient:
    """Reads the Dotloop public API v2; every request goes through the budget.

    Connection errors, timeouts, 5xx and 429 are retried at most `max_retries`
    times with jittered exponential backoff (a 429 waits as long as the server
    asks, up to `backoff_max`); a 401 re-authenticates once.
    """

    def __init__(
        self,
        api_url: str,
        tokens: TokenSource,
        budget: Budget,
        timeout: float = 30.0,
        max_retries: int = 4,
        *,
        http: httpx.Client | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self.api_url = api_url.rstrip("/")
        self._tokens = tokens
        self._budget = budget
        self._timeout = timeout
        self._max_retries = max_retries
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._sleep = sleep
        self._random = random.Random()
        self._stats_lock = threading.Lock()
        self._stats = ClientStats()

    def __enter__(self) -> DotloopClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            self._http.close()

    @property
    def stats(self) -> ClientStats:
        """Counters since the client was created."""
        with self._stats_lock:
            return self._stats

    def account(self) -> dict[str, Any]:
        """The account of the connected user (`GET /account`)."""
        return self._get_object("/account")

    def profiles(self) -> list[dict[str, Any]]:
        """Every profile the user can see, deactivated ones included."""
        profiles, _, response = self._get_list("/profile")
        if not all(isinstance(p, dict) for p in profiles):
            raise _invalid(response, "/profile", "a profile is not an object")
        return profiles

    def iter_loop_pages(
        self,
        profile_id: int,
        *,
        batch_size: int = 100,
        sort: str = "updated:desc",
        filters: Mapping[str, str | Sequence[str]] | None = None,
        include_details: bool = True,
        first_batch: int = 1,
    ) -> Iterator[LoopPage]:
        """Every page of a profile's loops from `first_batch` to the first short page.

        `meta.total` is reported on each page but never trusted for stopping.
        """
        check_batch_size(batch_size)
        if first_batch < 1:
            raise ValueError("first_batch must be at least 1")
        return self._loop_pages(
            profile_id, batch_size, sort, filters, include_details, first_batch
        )

    def loop(self, profile_id: int, loop_id: int) -> dict[str, Any]:
        """One loop's summary."""
        return self._get_object(f"/profile/{int(profile_id)}/loop/{int(loop_id)}")

    def loop_detail(self, profile_id: int, loop_id: int) -> dict[str, Any]:
        """One loop's details: `{"<Section>": {"<Label>": "<string>"}}`."""
        path = f"/profile/{int(profile_id)}/loop/{int(loop_id)}/detail"
        return self._get_object(path)

    def loop_participants(self, profile_id: int, loop_id: int) -> list[Any]:
        """One loop's participants, as Dotloop sent them."""
        path = f"/profile/{int(profile_id)}/loop/{int(loop_id)}/participant"
        return self._get_list(path)[0]

    def subscriptions(self, *, enabled: bool | None = None) -> list[Subscription]:
        """Every webhook subscription of the client, following `meta.nextCursor`."""
        path = "/subscription"
        params = {} if enabled is None else {"enabled": str(enabled).lower()}
        found: list[Subscription] = []
        while True:
            response = self._send(path, params)
            envelope = _envelope(response, path)
            items = envelope.get("data")
            if not isinstance(items, list):
                raise _invalid(response, path, "the envelope's data is not a list")
            found += [_subscription(response, path, item) for item in items]
            cursor = _next_cursor(envelope.get("meta"))
            if cursor is None or cursor == params.get("next_cursor"):
                logger.info("listed %d webhook subscriptions", len(found))
                return found
            params = {**params, "next_cursor": cursor}

    def subscription(self, subscription_id: str) -> Subscription:
        """One webhook subscription; NotFoundError when there is none."""
        path = _subscription_path(subscription_id)
        response = self._send(path, None)
        return _subscription(response, path, _envelope(response, path).get("data"))

    def create_subscription(self, request: SubscriptionRequest) -> Subscription:
        """Subscribe request.url to events about request's target."""
        created = self._write_subscription("POST", "/subscription", request.creation())
        logger.info(
            "created webhook subscription %s for %s %d",
            created.subscription_id,
            created.target_type,
            created.target_id,
        )
        return created

    def update_subscription(
        self, subscription_id: str, request: SubscriptionRequest
    ) -> Subscription:
        """Set a subscription's url, event types, key and state to request's."""
        path = _subscription_path(subscription_id)
        return self._write_subscription("PATCH", path, request.changes())

    def delete_subscription(self, subscription_id: str) -> None:
        """Delete a webhook subscription; NotFoundError when there is none."""
        self._send(_subscription_path(subscription_id), None, method="DELETE")
        logger.info("deleted webhook subscription %s", subscription_id)

    def _write_subscription(
        self, method: str, path: str, body: dict[str, Any]
    ) -> Subscription:
        response = self._send(path, None, method=method, body=body)
        return _subscription(response, path, _envelope(response, path).get("data"))

    def _loop_pages(
        self,
        profile_id: int,
        batch_size: int,
        sort: str,
        filters: Mapping[str, str | Sequence[str]] | None,
        include_details: bool,
        first_batch: int,
    ) -> Iterator[LoopPage]:
        path = f"/profile/{int(profile_id)}/loop"
        batch_number = first_batch
        while True:
            params = loop_list_params(
                batch_number, batch_size, sort, filters, include_details
            )
            items, total, response = self._get_list(path, params)
            size = len(response.content)
            logger.info(
                "profile %d batch %d: %d loops (total %s, %d bytes)",
                profile_id,
                batch_number,
                len(items),
                total,
                size,
            )
            yield LoopPage(profile_id, batch_number, items, total, size)
            if len(items) < batch_size:
                return
            batch_number += 1

    def _get_object(self, path: str) -> dict[str, Any]:
        response = self._send(path, None)
        data = _envelope(response, path).get("data")
        if not isinstance(data, dict):
            raise _invalid(response, path, "the envelope's data is not an object")
        return data

    def _get_list(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> tuple[list[Any], int | None, httpx.Response]:
        response = self._send(path, params)
        envelope = _envelope(response, path)
        data = envelope.get("data")
        if not isinstance(data, list):
            raise _invalid(response, path, "the envelope's data is not a list")
        return data, _total(envelope.get("meta")), response

    def _send(
        self,
        path: str,
        params: Mapping[str, str] | None,
        *,
        method: str = "GET",
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        retries = 0
        reauthenticated = False
        while True:
            error: DotloopError
            try:
                token = self._tokens.access_token()
                response = self._exchange(method, path, params, token, body)
            except (TransportError, ServerError) as exc:
                error, delay = exc, None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code == 401 and not reauthenticated:
                    logger.warning(
                        "Dotloop refused the access token; re-authenticating"
                    )
                    self._tokens.invalidate(token)
                    reauthenticated = True
                    self._count(retries=1)
                    continue
                error = _status_error(response, path)
                delay = _server_delay(response)
            if not isinstance(error, _RETRYABLE) or retries >= self._max_retries:
                raise error
            if method == "POST" and not isinstance(error, RateLimitedError):
                # A POST lost in flight may have created its resource: only one
                # refused outright (429) is sent again.
                raise error
            retries += 1
            self._wait_before_retry(error, delay, retries)

    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        token: Secret,
        body: dict[str, Any] | None,
    ) -> httpx.Response:
        self._budget.acquire()
        self._count(requests=1)
        shown = path + ("?" + urlencode(params) if params else "")
        started = time.monotonic()
        try:
            response = self._http.request(
                method,
                self.api_url + path,
                params=params,
                json=body,
                headers={
                    "Authorization": f"Bearer {token.reveal()}",
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                },
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:
            logger.debug("%s %s failed: %s", method, shown, type(exc).__name__)
            raise TransportError(
                f"{method} {path} failed: {type(exc).__name__}",
                url=self.api_url + path,
            ) from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug(
            "%s %s -> %d in %.0f ms", method, shown, response.status_code, elapsed_ms
        )
        self._budget.observe(response.headers)
        if response.status_code == 429:
            self._count(throttled=1)
        return response

    def _wait_before_retry(
        self, error: DotloopError, delay: float | None, retry: int
    ) -> None:
        self._count(retries=1)
        if delay is None:
            ceiling = min(self._backoff_max, self._backoff_base * 2 ** (retry - 1))
            delay = ceiling / 2 + self._random.uniform(0, ceiling / 2)
        delay = min(delay, self._backoff_max)
        logger.warning(
            "%s; retry %d of %d in %.1f s",
            error,
            retry,
            self._max_retries,
            delay,
        )
        if isinstance(error, RateLimitedError):
            # Everyone sharing the budget holds back, not just this caller.
            self._budget.pause_for(delay)
        else:
            self._sleep(delay)

    def _count(
        self, *, requests: int = 0, throttled: int = 0, retries: int = 0
    ) -> None:
        with self._stats_lock:
            self._stats = ClientStats(
                self._stats.requests + requests,
                self._stats.throttled + throttled,
                self._stats.retries + retries,
            )


def _status_error(response: httpx.Response, path: str) -> DotloopError:
    status = response.status_code
    url = str(response.request.url)
    where = f"{response.request.method} {path}"
    if status == 401:
        return AuthenticationError(
            f"{where}: Dotloop refused a freshly refreshed access token "
            "(HTTP 401); reconnect Dotloop",
            status_code=status,
            url=url,
        )
    kind: type[DotloopError]
    if status == 404:
        kind = NotFoundError
    elif status == 429:
        kind = RateLimitedError
    elif status >= 500:
        kind = ServerError
    else:
        kind = ClientError
    message = f"{where} answered HTTP {status}"
    if kind is ClientError:
        # Say why: a 400 to a subscription names the field at fault.
        message += _reason(response)
    return kind(message, status_code=status, url=url)


def _reason(response: httpx.Response) -> str:
    """The answer's error description as ": text", masked and short; or ""."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    if not isinstance(payload, dict):
        return ""
    for key in ("error_description", "message"):
        text = payload.get(key)
        if isinstance(text, str) and text:
            return f": {excerpt(text.encode())}"
    return ""


def _server_delay(response: httpx.Response) -> float | None:
    """Seconds the server asks to wait: Retry-After, or on a 429 the window reset."""
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        seconds = _retry_after_seconds(retry_after.strip())
        if seconds is not None:
            return seconds
    if response.status_code != 429:
        # Every answer carries the reset; it says nothing about a 5xx.
        return None
    reset_ms = _finite(response.headers.get("x-ratelimit-reset"))
    return None if reset_ms is None else reset_ms / 1000.0


def _retry_after_seconds(value: str) -> float | None:
    seconds = _finite(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        logger.debug("ignoring unusable Retry-After header %r", value[:40])
        return None
    return max(0.0, when.timestamp() - time.time())


def _finite(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _envelope(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        raise _invalid(response, path, "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise _invalid(response, path, "the body is not a JSON object")
    return payload


def _total(meta: object) -> int | None:
    if not isinstance(meta, dict):
        return None
    total = meta.get("total")
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _next_cursor(meta: object) -> str | None:
    cursor = meta.get("nextCursor") if isinstance(meta, dict) else None
    return cursor if isinstance(cursor, str) and cursor else None


def _subscription_path(subscription_id: str) -> str:
    # An id typed on the command line must not reach another path.
    return "/subscription/" + quote(str(subscription_id), safe="")


def _subscription(response: httpx.Response, path: str, item: Any) -> Subscription:
    try:
        return parse_subscription(item)
    except ValueError as exc:
        raise _invalid(response, path, str(exc)) from None


def _invalid(response: httpx.Response, path: str, reason: str) -> InvalidResponseError:
    return InvalidResponseError(
        f"{response.request.method} {path} (HTTP {response.status_code}): {reason}",
        body=response.content,
        status_code=response.status_code,
        url=str(response.request.url),
    )
