"""Loop syncs waiting in the queue: one per loop, whichever profiles saw the edit.

An edit to a loop that several subscribed profiles see (the agent's, the
office's, the company's) arrives once per subscription, each delivery with
its own event id. The receiver notes each (loop, profile) here and queues a
sync only when none of that loop is waiting; the sync, when it starts,
takes the profiles noted so far and links the loop to each of them. An
event that arrives after a sync started fetching queues a new one, so an
edit made meanwhile is never taken for one already fetched.

A waiting mark expires (TTL) so that a sync lost from the queue cannot
swallow the loop's later events; a mark that expires while its sync still
waits costs one more sync, never an edit.

    mark      dotloop-reporter:loop-sync:<loop id>           "1", TTL
    profiles  dotloop-reporter:loop-sync:<loop id>:profiles  set of ids, TTL
"""

from __future__ import annotations

import logging
from typing import Protocol

import redis

from connector.secrets import Secret

from .settings import Settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "dotloop-reporter:loop-sync:"
# Longer than a sync waits in the queue, including the waits for a busy
# profile (each renews the mark).
WAITING_TTL_SECONDS = 3600


class QueuedLoops(Protocol):
    """Which loops have a sync waiting, and the profiles that saw them."""

    def add(self, loop_id: int, profile_id: int) -> bool:
        """Note that profile_id saw loop_id change; True: queue a sync of it."""

    def profiles(self, loop_id: int) -> set[int]:
        """The profiles noted for the waiting sync, without taking them."""

    def keep(self, loop_id: int) -> None:
        """The waiting sync was put off (its profile is busy): renew the mark."""

    def take(self, loop_id: int) -> set[int]:
        """The sync starts fetching: its profiles; later events queue anew."""

    def cancel(self, loop_id: int) -> None:
        """Queueing the sync failed: forget the mark, so a redelivery queues."""


class UnsharedQueuedLoops:
    """Without Redis: every event queues its own sync.

    The receiver and the workers are separate processes, and nothing but Redis
    is shared between them off the request path.
    """

    # TODO: with the SQLite queue (no REDIS_URL) one edit seen by n profiles
    # still costs n syncs; coalescing there needs a store the receiver can
    # reach without Postgres, which the 5-second answer rules out.

    def add(self, loop_id: int, profile_id: int) -> bool:
        return True

    def profiles(self, loop_id: int) -> set[int]:
        return set()

    def keep(self, loop_id: int) -> None:
        return None

    def take(self, loop_id: int) -> set[int]:
        return set()

    def cancel(self, loop_id: int) -> None:
        return None


class RedisQueuedLoops:
    """The waiting syncs in Redis, shared by every receiver and worker."""

    def __init__(self, url: Secret, ttl_seconds: int = WAITING_TTL_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self._redis = redis.Redis.from_url(url.reveal())

    def add(self, loop_id: int, profile_id: int) -> bool:
        mark, profiles = _keys(loop_id)
        # One transaction, so a worker's take() comes before or after it whole.
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(profiles, profile_id)
        pipe.expire(profiles, self.ttl_seconds)
        pipe.set(mark, b"1", nx=True, ex=self.ttl_seconds)
        return bool(pipe.execute()[-1])

    def profiles(self, loop_id: int) -> set[int]:
        _, profiles = _keys(loop_id)
        pipe = self._redis.pipeline(transaction=False)
        pipe.smembers(profiles)
        return {int(member) for member in pipe.execute()[0]}

    def keep(self, loop_id: int) -> None:
        pipe = self._redis.pipeline(transaction=True)
        for key in _keys(loop_id):
            pipe.expire(key, self.ttl_seconds)
        pipe.execute()

    def take(self, loop_id: int) -> set[int]:
        mark, profiles = _keys(loop_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.smembers(profiles)
        pipe.delete(profiles, mark)
        members = pipe.execute()[0]
        return {int(member) for member in members}

    def cancel(self, loop_id: int) -> None:
        self._redis.delete(*_keys(loop_id))


def _keys(loop_id: int) -> tuple[str, str]:
    mark = f"{KEY_PREFIX}{loop_id}"
    return mark, f"{mark}:profiles"


def queued_loops(settings: Settings) -> QueuedLoops:
    """Redis-backed when REDIS_URL is set, so receivers and workers share it."""
    if settings.redis_url is not None:
        return RedisQueuedLoops(settings.redis_url)
    return UnsharedQueuedLoops()
