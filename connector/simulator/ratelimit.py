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


class FixedWindowLimiter:
    """At most `limit` requests per key in a window opened by its first request."""

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float]
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> RateDecision:
        """Count a request for `key` unless its window is already full."""
        with self._lock:
            now = self._clock()
            start, used = self._windows.get(key, (now, 0))
            if now >= start + self.window_seconds:
                start, used = now, 0
            allowed = used < self.limit
            if allowed:
                used += 1
            self._windows[key] = (start, used)
        reset_ms = math.ceil((start + self.window_seconds - now) * 1000)
        return RateDecision(allowed, self.limit, self.limit - used, max(reset_ms, 0))
