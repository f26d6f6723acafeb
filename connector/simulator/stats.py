"""Counters of what a simulator served, for tests and benchmarks to read."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class SimulatorStats:
    """Requests by endpoint template, responses by status, 429s and refreshes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoints: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._refreshes = 0

    def record(self, endpoint: str, status: int) -> None:
        """Count one answered request."""
        with self._lock:
            self._endpoints[endpoint] += 1
            self._statuses[status] += 1

    def count_refresh(self) -> None:
        """Count one access token issued for a refresh token."""
        with self._lock:
            self._refreshes += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of the counters."""
        with self._lock:
            return {
                "total_requests": sum(self._endpoints.values()),
                "requests_by_endpoint": dict(sorted(self._endpoints.items())),
                "responses_by_status": {
                    str(status): count
                    for status, count in sorted(self._statuses.items())
                },
                "rate_limited": self._statuses[429],
                "token_refreshes": self._refreshes,
            }
