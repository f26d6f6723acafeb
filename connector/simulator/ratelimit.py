"""A fixed-window request limit per user, reported in X-RateLimit-* headers."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may go, and what the headers tell the caller."""

    allowed: bool
    limit: int
    remaining: int
    reset_ms: int

    def headers(self) -> dict[str, str]:
        """X-RateLimit-Limit, -Remaining and -Reset (milliseconds to the reset)."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_ms),
        }


@dataclass
class _Window:
    start: float
    used: int = 0  # requests let through
    attempts: int = 0  # requests let through or refused


class FixedWindowLimiter:
    """At most `limit` requests per key in a window opened by its first request.

    It also remembers the most requests any key sent in one window, refused
    ones included, so a test can see whether its callers kept to a budget.
    """

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float]
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._busiest = 0

    @property
    def busiest_window(self) -> int:
        """The most requests (refused ones too) any key sent in one window."""
        with self._lock:
            return self._busiest

    def hit(self, key: str) -> RateDecision:
        """Count a request for `key` unless its window is already full."""
        with self._lock:
            now = self._clock()
            window = self._windows.get(key)
            if window is None or now >= window.start + self.window_seconds:
                window = self._windows[key] = _Window(now)
            allowed = window.used < self.limit
            window.used += allowed
            window.attempts += 1
            self._busiest = max(self._busiest, window.attempts)
            used = window.used
        reset_ms = math.ceil((window.start + self.window_seconds - now) * 1000)
        return RateDecision(allowed, self.limit, self.limit - used, max(reset_ms, 0))
