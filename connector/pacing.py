"""Request budgets that spread calls evenly and honour the server's limit.

Both budgets run a generic cell rate algorithm: each request is given a slot
one emission interval (window / requests) after the previous one, with a
small burst allowance, and the caller sleeps until its slot. RequestBudget
keeps the schedule in the process, for threads; SharedRequestBudget keeps it
in Redis, for every worker process spending one Dotloop user's limit.
`build_budget` picks one.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import redis

from .errors import TransportError
from .secrets import Secret, redact

logger = logging.getLogger(__name__)

REMAINING_HEADER = "x-ratelimit-remaining"
RESET_HEADER = "x-ratelimit-reset"
REDIS_PREFIX = "dotloop-reporter:budget:"
_MICROS = 1_000_000


class Budget(Protocol):
    """What the client needs of a budget."""

    def acquire(self) -> None:
        """Block until this caller's request may go."""

    def observe(self, headers: Mapping[str, str]) -> None:
        """Follow the server's X-RateLimit-* headers."""

    def pause_for(self, seconds: float) -> None:
        """Hold every caller back for `seconds`."""


def build_budget(
    requests_per_minute: int,
    *,
    window_seconds: float = 60.0,
    redis_url: Secret | None = None,
    key: str = "default",
) -> RequestBudget | SharedRequestBudget:
    """A budget shared through Redis when there is one, else one per process.

    `key` names whose limit it is (the Dotloop user or client id): workers
    with the same key share one budget.
    """
    if redis_url is None:
        return RequestBudget(requests_per_minute, window_seconds)
    client = redis.Redis.from_url(
        redis_url.reveal(), socket_timeout=5.0, socket_connect_timeout=5.0
    )
    return SharedRequestBudget(client, key, requests_per_minute, window_seconds)


class RequestBudget:
    """At most `requests_per_minute` requests per window, evenly spaced.

    `burst` requests may go back to back after an idle spell; `clock` and
    `sleep` are injectable so tests can run on a fake clock. Several threads
    may share one budget; each reserves its slot under a lock and sleeps
    outside it.
    """

    def __init__(
        self,
        requests_per_minute: int,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        burst: int = 2,
    ) -> None:
        _check(requests_per_minute, window_seconds, burst)
        self.requests_per_minute = requests_per_minute
        self.window_seconds = window_seconds
        self.interval = window_seconds / requests_per_minute
        self._tolerance = (burst - 1) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_at = -math.inf  # the theoretical arrival time of the next slot
        self._paused_until = -math.inf
        self._pauses = 0

    def acquire(self) -> None:
        """Block until this caller's request may go."""
        while True:
            with self._lock:
                now = self._clock()
                slot = max(now, self._next_at - self._tolerance, self._paused_until)
                self._next_at = max(self._next_at, slot) + self.interval
                pauses = self._pauses
            if slot > now:
                self._sleep(slot - now)
            # A pause that began while this caller slept voids its slot.
            with self._lock:
                if pauses == self._pauses or self._clock() >= self._paused_until:
                    return

    def pause_for(self, seconds: float) -> None:
        """Hold every caller back for `seconds` (after a 429, say)."""
        if not seconds > 0:
            return
        with self._lock:
            until = self._clock() + seconds
            if until > self._paused_until:
                self._paused_until = until
                self._pauses += 1

    def observe(self, headers: Mapping[str, str]) -> None:
        """Pause everyone when the server says the window's requests are used up."""
        seconds = server_pause(headers, self.window_seconds)
        if seconds is not None:
            self.pause_for(seconds)

    @property
    def paused_until(self) -> float:
        """The clock reading before which no request goes."""
        with self._lock:
            return self._paused_until


# One script, so that reading and moving the schedule is one atomic step on
# Redis's clock, the only clock every worker agrees on. Times are in
# microseconds. The schedule is a hash: `tat` (the theoretical arrival time of
# the next slot), `paused` (no request before it) and `shift` (how far pauses
# have moved the schedule so far). A pause moves every slot reserved but not
# yet used by the same amount, so that the first of them lands at the pause's
# end: no slot is lost and the spacing holds. A caller whose slot was moved
# learns it when it confirms the slot after its sleep.
_SCRIPT = """
local function exact(x) return string.format('%.17g', x) end
local now = tonumber(ARGV[6])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local op = ARGV[1]
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tat', 'paused', 'shift')
local tat = tonumber(state[1]) or now
local paused = tonumber(state[2]) or 0
local shift = tonumber(state[3]) or 0
if op == 'confirm' then
  local slot = tonumber(ARGV[5]) + shift - tonumber(ARGV[7])
  if slot >= paused then
    return {exact(slot), exact(shift), exact(now)}
  end
  -- A pause that did not move this slot (it was due as the pause began):
  -- the caller takes a new slot after the pause.
  op = 'reserve'
end
local answer
if op == 'reserve' then
  answer = math.max(now, tat - tolerance, paused)
  tat = math.max(tat, answer) + interval
else
  local ends = now + tonumber(ARGV[5])
  if ends > paused then
    local last = tat - tolerance - interval
    if last > now then
      local first = last - interval * (math.ceil((last - now) / interval) - 1)
      local moved = math.max(0, ends - first)
      tat = tat + moved
      shift = shift + moved
    end
    paused = ends
  end
  answer = paused
end
redis.call('HSET', KEYS[1], 'tat', exact(tat), 'paused', exact(paused),
  'shift', exact(shift))
local idle = math.max(tat, paused) - now
redis.call('PEXPIRE', KEYS[1], math.ceil(idle / 1000) + window)
return {exact(answer), exact(shift), exact(now)}
"""


class SharedRequestBudget:
    """A RequestBudget kept in Redis under `key`, shared by every process.

    Slots, pauses after a 429 and pauses after `X-RateLimit-Remaining: 0` hold
    for every worker with the same key. The default burst of 1 keeps any
    window of the server's length to the budget. `clock`, when given, stands
    in for Redis's clock (seconds), for tests.
    """

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        requests_per_minute: int,
        window_seconds: float = 60.0,
        *,
        burst: int = 1,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] | None = None,
    ) -> None:
        _check(requests_per_minute, window_seconds, burst)
        self.requests_per_minute = requests_per_minute
        self.window_seconds = window_seconds
        self.interval = window_seconds / requests_per_minute
        self.key = REDIS_PREFIX + key
        self._client = client
        self._script = client.register_script(_SCRIPT)
        self._sleep = sleep
        self._clock = clock
        self._settings = (
            repr(self.interval * _MICROS),
            repr((burst - 1) * self.interval * _MICROS),
            str(math.ceil(window_seconds * 1000)),
        )

    def acquire(self) -> None:
        """Block until this caller's request may go."""
        slot, seen, now = self._run("reserve")
        while slot > now:
            self._sleep((slot - now) / _MICROS)
            # A pause that began while this caller slept moves its slot on.
            slot, seen, now = self._run("confirm", slot, seen)

    def pause_for(self, seconds: float) -> None:
        """Hold every caller of every process back for `seconds`."""
        if seconds > 0:
            self._run("pause", seconds * _MICROS)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Pause everyone when the server says the window's requests are used up."""
        seconds = server_pause(headers, self.window_seconds)
        if seconds is not None:
            self.pause_for(seconds)

    def close(self) -> None:
        """Close the Redis connections."""
        self._client.close()

    def _run(self, op: str, first: float = 0.0, second: float = 0.0) -> list[float]:
        now = "" if self._clock is None else repr(self._clock() * _MICROS)
        args: list[Any] = [op, *self._settings, repr(first), now, repr(second)]
        try:
            answer = self._script(keys=[self.key], args=args)
        except redis.RedisError as exc:
            raise TransportError(
                "the shared request budget in Redis could not be reached "
                f"({type(exc).__name__}: {redact(str(exc))}); check REDIS_URL"
            ) from exc
        return [float(value) for value in answer]


def server_pause(headers: Mapping[str, str], window_seconds: float) -> float | None:
    """Seconds to hold back when the server says the window is used up, else None.

    `X-RateLimit-Reset` is in milliseconds; a value beyond the window is
    capped at the window, since no window lasts longer than itself.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    remaining = _number(lowered, REMAINING_HEADER)
    if remaining is None or remaining > 0:
        return None
    reset_ms = _number(lowered, RESET_HEADER)
    if reset_ms is None or reset_ms == 0:
        return None
    seconds = min(reset_ms / 1000.0, window_seconds)
    logger.warning(
        "Dotloop rate limit used up for this window; pausing requests for %.1f s",
        seconds,
    )
    return seconds


def _check(requests_per_minute: int, window_seconds: float, burst: int) -> None:
    if requests_per_minute < 1:
        raise ValueError("requests_per_minute must be at least 1")
    if window_seconds <= 0:
        raise ValueError("window_seconds must be positive")
    if burst < 1:
        raise ValueError("burst must be at least 1")


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        logger.debug("ignoring unusable %s header value %r", name, raw[:40])
        return None
    return value
