"""Counters of what a simulator served, for tests and benchmarks to read."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

DROPPED = "dropped"


class SimulatorStats:
    """Requests by endpoint template and outcome, faults, refreshes, deliveries.

    An outcome is the status sent, or "dropped" for a connection closed
    without an answer. Webhook delivery attempts count by their outcome.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoints: Counter[str] = Counter()
        self._outcomes: Counter[int | str] = Counter()
        self._faults: Counter[str] = Counter()
        self._refreshes = 0
        self._deliveries: Counter[str] = Counter()

    def record(
        self,
        endpoint: str,
        status: int,
        *,
        fault: str | None = None,
        dropped: bool = False,
    ) -> None:
        """Count one request by its endpoint, outcome and injected fault."""
        with self._lock:
            self._endpoints[endpoint] += 1
            self._outcomes[DROPPED if dropped else status] += 1
            if fault is not None:
                self._faults[fault] += 1

    def count_refresh(self) -> None:
        """Count one access token issued for a refresh token."""
        with self._lock:
            self._refreshes += 1

    def count_delivery(self, outcome: str) -> None:
        """Count one webhook delivery attempt: delivered, retrying or failed."""
        with self._lock:
            self._deliveries[outcome] += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of the counters."""
        with self._lock:
            return {
                "total_requests": sum(self._endpoints.values()),
                "requests_by_endpoint": dict(sorted(self._endpoints.items())),
                "responses_by_status": {
                    str(outcome): count
                    for outcome, count in sorted(
                        self._outcomes.items(), key=lambda item: str(item[0])
                    )
                },
                "rate_limited": self._outcomes[429],
                "faults_injected": dict(sorted(self._faults.items())),
                "token_refreshes": self._refreshes,
                "webhook_deliveries": dict(sorted(self._deliveries.items())),
            }
