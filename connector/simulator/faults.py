"""Faults injected into the request path, drawn from a seed so a run replays.

A fault wraps the handler of an authenticated API call that passed the rate
limit: it may answer instead (a 5xx, a 429 storm, a body that is not JSON),
hang past the caller's timeout, or alter the data (rows moving between
pages, loops merged into others). Faults are applied in order, the first one
outermost. Each kind draws from its own seeded stream, so turning one kind on
never changes when another strikes; with one client sending requests in
order, the same seed gives the same faults on the same requests. Data faults
edit through a LoopChanges, so subscribed receivers hear of their edits.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields

from .changes import LoopChanges
from .data import LoopEntry, SimulatedData
from .errors import RequestRejected
from .listing import parse_loop_query, sorted_selection
from .wire import Request, Response, error_response

logger = logging.getLogger(__name__)

Handler = Callable[[], Response]

SERVER_ERROR = "server_error"
TIMEOUT_ANSWERED = "timeout_answered"
TIMEOUT_DROPPED = "timeout_dropped"
RATE_LIMIT_STORM = "rate_limit_storm"
NON_JSON = "non_json"
SHIFT = "shift_between_pages"
MERGE = "merged_loop"
LOOP_LIST = "GET /profile/{pid}/loop"

_GATEWAY_PAGE = (
    b"<html><head><title>%d</title></head><body><h1>%d %s</h1>"
    b"<p>The upstream server did not answer in time.</p></body></html>"
)
_MAINTENANCE_PAGE = (
    b"<!DOCTYPE html><html><body><h1>We'll be right back</h1>"
    b"<p>dotloop is undergoing scheduled maintenance.</p></body></html>"
)


@dataclass(frozen=True)
class ApiCall:
    """An API request on its way to its handler."""

    request: Request
    endpoint: str  # the route template, such as "GET /profile/{pid}/loop"
    params: Mapping[str, int]  # path parameters: pid, lid
    user: str


Fault = Callable[[ApiCall, Handler], Response]


@dataclass(frozen=True)
class FaultConfig:
    """Which faults strike and how often; rates are chances per API call."""

    seed: int = 1
    server_error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 35.0  # longer than the client's 30 s default
    storm_rate: float = 0.0  # chance that a call starts a run of 429s
    storm_seconds: float = 5.0
    storm_retry_after: bool = False
    non_json_rate: float = 0.0
    shift_rate: float = 0.0  # chance that a later page sees a loop move
    merge_rate: float = 0.0  # chance that a listing sees two of its loops merge

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{item.name} must be between 0 and 1, not {value}")
            if item.name.endswith("_seconds") and not value > 0:
                raise ValueError(f"{item.name} must be positive, not {value}")

    @property
    def active(self) -> bool:
        """Whether any fault can strike."""
        return any(
            getattr(self, item.name) > 0
            for item in fields(self)
            if item.name.endswith("_rate")
        )


def build_faults(
    config: FaultConfig,
    data: SimulatedData,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    changes: LoopChanges | None = None,
) -> list[Fault]:
    """The faults `config` turns on, outermost first.

    The shift and merge faults change `data` in place, through `changes` when
    given (pass the simulator's, so subscribers hear of it): give them data no
    other simulator serves.
    """
    edits = changes or LoopChanges(data, wall_clock)
    faults: list[Fault] = []
    if config.storm_rate:
        faults.append(RateLimitStorms(config, clock))
    if config.timeout_rate:
        faults.append(Timeouts(config))
    if config.server_error_rate:
        faults.append(ServerErrors(config))
    if config.non_json_rate:
        faults.append(NonJsonBodies(config))
    if config.shift_rate:
        faults.append(ShiftBetweenPages(config, edits, wall_clock))
    if config.merge_rate:
        faults.append(MergeLoops(config, edits, wall_clock))
    return faults


def apply_faults(faults: Sequence[Fault], call: ApiCall, handler: Handler) -> Response:
    """Run `handler` wrapped in every fault; with no faults, just the handler."""
    wrapped = handler
    for fault in reversed(faults):
        wrapped = functools.partial(fault, call, wrapped)
    return wrapped()


class Dice:
    """A seeded random stream for one kind of fault, shared by server threads."""

    def __init__(self, seed: int, kind: str, rate: float) -> None:
        self.rate = rate
        self._random = random.Random(f"{seed}:{kind}")
        self._lock = threading.Lock()

    def strikes(self) -> bool:
        """True with the configured chance."""
        with self._lock:
            return self._random.random() < self.rate

    def pick(self, count: int) -> int:
        """A number from 0 to count - 1."""
        with self._lock:
            return self._random.randrange(count)


class ServerErrors:
    """A 500, 502, 503 or 504 instead of the answer, gateway ones as HTML."""

    def __init__(self, config: FaultConfig) -> None:
        self._dice = Dice(config.seed, SERVER_ERROR, config.server_error_rate)

    def __call__(self, call: ApiCall, handler: Handler) -> Response:
        if not self._dice.strikes():
            return handler()
        status = (500, 502, 503, 504)[self._dice.pick(4)]
        if status in (502, 504):
            reason = b"Bad Gateway" if status == 502 else b"Gateway Timeout"
            page = _GATEWAY_PAGE % (status, status, reason)
            return Response(status, page, "text/html", fault=SERVER_ERROR)
        response = error_response(status, "server_error", "internal error")
        response.fault = SERVER_ERROR
        return response


class Timeouts:
    """Hang for `timeout_seconds`, then answer late or close without a word."""

    def __init__(self, config: FaultConfig) -> None:
        self._dice = Dice(config.seed, "timeout", config.timeout_rate)
        self._seconds = config.timeout_seconds

    def __call__(self, call: ApiCall, handler: Handler) -> Response:
        if not self._dice.strikes():
            return handler()
        dropped = self._dice.pick(2) == 0
        time.sleep(self._seconds)
        if dropped:
            return Response(0, b"", fault=TIMEOUT_DROPPED, drop=True)
        response = handler()
        response.fault = TIMEOUT_ANSWERED
        return response


class RateLimitStorms:
    """Runs of 429s at random moments, as when another app spends the budget.

    A storm lasts `storm_seconds` for the user that met it; its answers say
    the window is used up until the storm ends, with Retry-After if asked.
    """

    def __init__(self, config: FaultConfig, clock: Callable[[], float]) -> None:
        self._dice = Dice(config.seed, RATE_LIMIT_STORM, config.storm_rate)
        self._seconds = config.storm_seconds
        self._retry_after = config.storm_retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def __call__(self, call: ApiCall, handler: Handler) -> Response:
        left = self._storm_left(call.user)
        if left <= 0:
            return handler()
        headers = {
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(left * 1000)),
        }
        if self._retry_after:
            headers["Retry-After"] = str(math.ceil(left))
        response = error_response(
            429, "rate_limit_exceeded", "too many requests", **headers
        )
        response.fault = RATE_LIMIT_STORM
        return response

    def _storm_left(self, user: str) -> float:
        with self._lock:
            now = self._clock()
            until = self._until.get(user, -math.inf)
            if now >= until and self._dice.strikes():
                until = self._until[user] = now + self._seconds
                logger.info("a 429 storm of %.1f s begins", self._seconds)
            return until - now


class NonJsonBodies:
    """A 200 whose body is not JSON: a maintenance page or a cut-off body."""

    def __init__(self, config: FaultConfig) -> None:
        self._dice = Dice(config.seed, NON_JSON, config.non_json_rate)

    def __call__(self, call: ApiCall, handler: Handler) -> Response:
        if not self._dice.strikes():
            return handler()
        if self._dice.pick(2) == 0:
            return Response(200, _MAINTENANCE_PAGE, "text/html", fault=NON_JSON)
        response = handler()
        # Cut inside the envelope, so the rest can never parse.
        cut = response.body[: max(1, len(response.body) // 2)]
        return Response(response.status, cut, response.content_type, fault=NON_JSON)


class ShiftBetweenPages:
    """While a listing is paged, a loop not yet served is updated.

    Before a page after the first is selected, one loop at or past that page
    gets a new `updated` (now, and newer than any other), in every profile
    that sees it. Sorted by `updated`, it jumps out of the pages still to
    come, and the rows it passes move by one: a row already served comes
    again and the moved loop is missed, as with the real API.
    """

    def __init__(
        self, config: FaultConfig, changes: LoopChanges, clock: Callable[[], float]
    ) -> None:
        self._dice = Dice(config.seed, SHIFT, config.shift_rate)
        self._changes = changes
        self._data = changes.data
        self._clock = clock
        self._lock = threading.Lock()

    def __call__(self, call: ApiCall, handler: Handler) -> Response:
        moved = call.endpoint == LOOP_LIST and self._move_one(call)
        response = handler()
        if moved:
            response.fault = SHIFT
        return response

    def _move_one(self, call: ApiCall) -> bool:
        listing = self._data.listing(call.params["pid"])
        try:
            query = parse_loop_query(call.request.query)
        except RequestRejected:
            return False  # the handler answers 400
        if listing is None or listing.raw is not None or query.batch_number < 2:
            return False
        with self._lock:
            if not self._dice.strikes():
                return False
            start = (query.batch_number - 1) * query.batch_size
            ahead = sorted_selection(listing, query)[start:]
            if not ahead:
                return False
            chosen = ahead[self._dice.pick(len(ahead))]
            if chosen.loop_id is None:
                return False
            return self._changes.update(chosen.loop_id, self._clock())


class MergeLoops:
    """Before a listing page is served, two loops of the profile may merge.

    One loop, chosen at random, is merged into another: it leaves every
    listing and answers 404, and the survivor is updated, as when an agent
    merges duplicate loops in Dotloop. A sync meets a loop it stored that is
    gone without a word, unless a webhook subscription tells it.
    """

    def __init__(
        self, config: FaultConfig, changes: LoopChanges, clock: Callable[[], float]
    ) -> None:
        self._dice = Dice(config.seed, MERGE, config.merge_rate)
        self._changes = changes
        self._clock = clock
        self._lock = threading.Lock()

    def __call__(self, call: ApiCall, handler: Handler) -> Response:
        merged = call.endpoint == LOOP_LIST and self._merge_two(call.params["pid"])
        response = handler()
        if merged:
            response.fault = MERGE
        return response

    def _merge_two(self, profile_id: int) -> bool:
        listing = self._changes.data.listing(profile_id)
        if listing is None or listing.raw is not None:
            return False
        with self._lock:
            if not self._dice.strikes():
                return False
            loops = _mergeable(listing.entries)
            if len(loops) < 2:
                return False
            old = loops.pop(self._dice.pick(len(loops)))
            new = loops[self._dice.pick(len(loops))]
            return self._changes.merge(old, new, self._clock())


def _mergeable(entries: Sequence[LoopEntry]) -> list[int]:
    return [
        entry.loop_id
        for entry in entries
        if entry.loop_id is not None and isinstance(entry.summary(), dict)
    ]
