"""A request budget that spreads calls evenly and honours the server's limit.

The budget is a generic cell rate algorithm: each request is given a slot one
emission interval (window / requests) after the previous one, with a small
burst allowance. Several threads may share one budget; each reserves its slot
under a lock and sleeps outside it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)

# TODO: the budget is shared by threads of one process only; DESIGN section 8
# shares one per token across every worker through Redis. A Redis-backed budget
# with this same interface is still to be written.

REMAINING_HEADER = "x-ratelimit-remaining"
RESET_HEADER = "x-ratelimit-reset"


class RequestBudget:
    """At most `requests_per_minute` requests per window, evenly spaced.

    `burst` requests may go back to back after an idle spell; `clock` and
    `sleep` are injectable so tests can run on a fake clock.
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
        if requests_per_minute < 1:
            raise ValueError("requests_per_minute must be at least 1")
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
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
        lowered = {key.lower(): value for key, value in headers.items()}
        remaining = _number(lowered, REMAINING_HEADER)
        if remaining is None or remaining > 0:
            return
        reset_ms = _number(lowered, RESET_HEADER)
        if reset_ms is None or reset_ms == 0:
            return
        # The window never lasts longer than itself; a larger value is not a delay.
        seconds = min(reset_ms / 1000.0, self.window_seconds)
        logger.warning(
            "Dotloop rate limit used up for this window; pausing requests for %.1f s",
            seconds,
        )
        self.pause_for(seconds)

    @property
    def paused_until(self) -> float:
        """The clock reading before which no request goes."""
        with self._lock:
            return self._paused_until


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
