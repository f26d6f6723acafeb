"""Webhook deliveries from a background thread, retried the way Dotloop does.

When a loop changes, every subscription that wants the event gets a signed
delivery. API requests are never slowed by it: deliveries wait in a queue
that one thread sends, giving each receiver the configured time to answer
(Dotloop allows 5 s). An answer other than 2xx, or none, is sent again after
the next wait of the retry schedule (Dotloop's: 30 s up to 8 h, 8 retries),
with the same event id, so a receiver may see an event twice; after the last
retry the delivery is given up. Deliveries go to this machine only.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from .changes import LoopEvent
from .stats import SimulatorStats
from .subscriptions import SubscriptionStore
from .webhooks import event_body, is_loopback, signed_headers

logger = logging.getLogger(__name__)

DELIVERED = "delivered"
RETRYING = "retrying"
FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """One event on its way to one subscription's url."""

    url: str
    body: bytes
    event_type: str
    loop_id: int
    signing_key: str | None = field(default=None, repr=False)
    retries: int = 0


class WebhookSender:
    """Sends deliveries on a background thread, started by the first one."""

    def __init__(
        self,
        stats: SimulatorStats,
        *,
        scheme: str = "body",
        timeout: float = 5.0,
        retry_delays: Sequence[float] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stats = stats
        self._scheme = scheme
        self._timeout = timeout
        self._retry_delays = tuple(retry_delays)
        self._clock = clock
        self._ready = threading.Condition()
        self._queue: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, delivery: Delivery) -> None:
        """Queue a delivery to send at once."""
        if not is_loopback(delivery.url):
            raise ValueError(f"the simulator sends to 127.0.0.1 only: {delivery.url}")
        with self._ready:
            self._closed = False
            self._push(self._clock(), delivery)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="webhook-deliveries", daemon=True
                )
                self._thread.start()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being sent; False if timeout came first."""
        with self._ready:
            return self._ready.wait_for(
                lambda: not self._queue and not self._in_flight, timeout
            )

    def close(self) -> None:
        """Stop the thread; deliveries still queued are dropped."""
        with self._ready:
            self._closed = True
            dropped = len(self._queue)
            self._queue.clear()
            self._ready.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        if dropped:
            logger.info("%d webhook deliveries dropped at stop", dropped)

    def _push(self, due: float, delivery: Delivery) -> None:
        heapq.heappush(self._queue, (due, next(self._order), delivery))
        self._ready.notify_all()

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout, trust_env=False) as http:
            while (delivery := self._next()) is not None:
                delivered = False
                try:
                    delivered = self._send(http, delivery)
                except Exception:  # the thread must outlive one bad delivery
                    logger.exception("webhook delivery to %s broke", delivery.url)
                finally:
                    with self._ready:
                        self._in_flight -= 1
                        if not delivered:
                            self._retry_later(delivery)
                        self._ready.notify_all()

    def _next(self) -> Delivery | None:
        with self._ready:
            while not self._closed:
                wait = self._queue[0][0] - self._clock() if self._queue else None
                if wait is not None and wait <= 0:
                    self._in_flight += 1
                    return heapq.heappop(self._queue)[2]
                self._ready.wait(wait)
            return None

    def _send(self, http: httpx.Client, delivery: Delivery) -> bool:
        headers = {"Content-Type": "application/json"}
        if delivery.signing_key is not None:
            headers = signed_headers(
                delivery.signing_key, delivery.body, scheme=self._scheme
            )
        try:
            answer = http.post(delivery.url, content=delivery.body, headers=headers)
        except httpx.HTTPError as exc:
            outcome = f"no answer ({type(exc).__name__})"
        else:
            if answer.is_success:
                self._stats.count_delivery(DELIVERED)
                logger.info(
                    "delivered %s of loop %d to %s: %d",
                    delivery.event_type,
                    delivery.loop_id,
                    delivery.url,
                    answer.status_code,
                )
                return True
            outcome = f"HTTP {answer.status_code}"
        logger.warning(
            "delivery of %s to %s failed: %s",
            delivery.event_type,
            delivery.url,
            outcome,
        )
        return False

    def _retry_later(self, delivery: Delivery) -> None:
        if self._closed or delivery.retries >= len(self._retry_delays):
            self._stats.count_delivery(FAILED)
            logger.error(
                "gave up delivering %s of loop %d to %s after %d retries",
                delivery.event_type,
                delivery.loop_id,
                delivery.url,
                delivery.retries,
            )
            return
        self._stats.count_delivery(RETRYING)
        wait = self._retry_delays[delivery.retries]
        retry = Delivery(
            delivery.url,
            delivery.body,
            delivery.event_type,
            delivery.loop_id,
            delivery.signing_key,
            delivery.retries + 1,
        )
        self._push(self._clock() + wait, retry)


class EventNotifier:
    """Turns loop events into deliveries to the subscriptions that want them."""

    def __init__(self, subscriptions: SubscriptionStore, sender: WebhookSender) -> None:
        self._subscriptions = subscriptions
        self._sender = sender

    def __call__(self, event: LoopEvent) -> None:
        for subscription in self._subscriptions.matching(event):
            body = event_body(
                event.event_type,
                subscription.target_id,
                event.loop_id,
                merged_loop_id=event.merged_loop_id,
                external_id=subscription.external_id,
                participant_id=event.participant_id,
            )
            self._sender.submit(
                Delivery(
                    subscription.url,
                    body,
                    event.event_type,
                    event.loop_id,
                    subscription.signing_key,
                )
            )
