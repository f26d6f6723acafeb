"""Huey tasks: a queued sync and a nightly one, on Redis or on SQLite.

Huey registers tasks on an instance, and the instance depends on the settings
(which queue, which database), which the entry point reads once. So nothing
here reads the environment at import time: `create_app(settings)` builds the
Huey instance and registers the tasks on it as closures over those settings.
The process that enqueues and the worker each build the app from their own
settings; Huey matches a queued task by its name (`sync.tasks.sync_all`), so
both sides agree. The work itself is the plain function `sync_all(settings,
trigger)`, which tests and the foreground command call directly.

Runs go side by side: each holds a lease on the profile it is syncing
(sync/leases.py), so a worker that picks up a sync of profiles another worker
is syncing skips those and syncs the rest. A webhook's loop sync takes its
profile's lease too, and one whose profile is busy is queued again for later.
Each connected Dotloop account has its own request budget, shared through
Redis by every worker that syncs it (see budget_key), so several accounts
sync in parallel, each at its own pace.
"""

from __future__ import annotations

import hashlib
import logging
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from huey import Huey, RedisHuey, SqliteHuey

from connector import DotloopClient, RefreshTokenSource, TokenSource, build_budget

from .db import connect
from .engine import SyncRunResult, run_sync
from .errors import ConfigurationError, StorageError, SyncInProgressError
from .loop_sync import BUSY, merge_loops, sync_loop
from .queued_loops import QueuedLoops, queued_loops
from .settings import DotloopSettings, Settings
from .token_source import StoredTokenSource
from .token_store import fingerprint
from .views import refresh_reporting, try_refresh_reporting

logger = logging.getLogger(__name__)

QUEUE_NAME = "dotloop-reporter"
# How long a loop sync whose profile another run holds waits to try again.
BUSY_LOOP_DELAY_SECONDS = 120
# How long a refresh after a webhook event waits when another one is running.
BUSY_REFRESH_DELAY_SECONDS = 60


@dataclass(frozen=True)
class TaskApp:
    """A Huey instance with the sync tasks registered on it."""

    huey: Huey
    # Huey's task wrappers: call to enqueue, .call_local() to run in-process.
    sync_all: Any
    nightly_sync: Any
    # Queued by the webhook receiver: one loop, or one merge.
    sync_loop: Any
    merge_loops: Any
    # A sync of some profiles only: sync_profiles([id, ...], trigger).
    sync_profiles: Any
    # The loop syncs waiting, shared by the receiver that queues them.
    queued_loops: QueuedLoops
    # A refresh of the fast tables, put off while another one ran.
    refresh: Any


def build_client(settings: Settings) -> DotloopClient:
    """A Dotloop client from the settings' credentials, URLs and request budget.

    With a database, tokens are shared by every worker through its private
    schema; with Redis, so is the request budget of the Dotloop user.
    """
    dotloop = settings.dotloop
    if (
        dotloop.client_id is None
        or dotloop.client_secret is None
        or (dotloop.refresh_token is None and settings.database_url is None)
    ):
        raise ConfigurationError(
            "Dotloop is not connected: set DOTLOOP_CLIENT_ID, "
            "DOTLOOP_CLIENT_SECRET and DOTLOOP_REFRESH_TOKEN (and DOTLOOP_API_URL "
            "and DOTLOOP_AUTH_URL to use a simulator)"
        )
    tokens: TokenSource
    if settings.database_url is not None:
        tokens = StoredTokenSource(settings)
    else:
        assert dotloop.refresh_token is not None
        tokens = RefreshTokenSource(
            dotloop.auth_url,
            dotloop.client_id,
            dotloop.client_secret,
            dotloop.refresh_token,
        )
    budget = build_budget(
        dotloop.requests_per_minute,
        redis_url=settings.redis_url,
        key=budget_key(dotloop, stored_connection(settings)),
    )
    return DotloopClient(dotloop.api_url, tokens, budget)


def budget_key(dotloop: DotloopSettings, connection: str | None = None) -> str:
    """Whose rate limit it is: the client id and the user's grant.

    Dotloop limits each user, so workers syncing one brokerage share one budget
    while another brokerage connected through the same client id has its own.
    The grant is the configured refresh token, else the stored connection
    (stored_connection()) whose tokens the workers share.
    """
    assert dotloop.client_id is not None
    if dotloop.refresh_token is not None:
        return f"{dotloop.client_id}:{fingerprint(dotloop.refresh_token)[:16]}"
    if connection is not None:
        return f"{dotloop.client_id}:{connection}"
    return dotloop.client_id


def stored_connection(settings: Settings) -> str | None:
    """Which stored Dotloop connection the workers use: database and schema.

    `auth login` keeps one connection per client id in the private schema of
    the database, so that place names the user; host, port and database name
    only, never the credentials in the URL.
    """
    if settings.database_url is None:
        return None
    parts = urlsplit(settings.database_url.reveal())
    where = f"{parts.hostname}:{parts.port}{parts.path}/{settings.private_schema}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def sync_all(
    settings: Settings, trigger: str = "queue", profile_ids: Sequence[int] = ()
) -> SyncRunResult | None:
    """Sync every profile (or profile_ids) once; None when all were busy.

    Busy means another run is syncing the profile (or a purge holds the
    schema): that run brings it up to date, this one skips it.
    """
    with build_client(settings) as client:
        try:
            result = run_sync(
                settings, client, trigger=trigger, profile_ids=profile_ids
            )
        except SyncInProgressError as exc:
            logger.warning("%s sync skipped: %s", trigger, exc)
            return None
    refresh_fast_tables(settings)
    logger.info(
        "%s sync run %d done: %d loops seen, %d changed, %d requests",
        trigger,
        result.run_id,
        result.counts.loops_seen,
        result.counts.loops_changed,
        result.counts.requests,
    )
    return result


def refresh_fast_tables(settings: Settings) -> None:
    """Bring the fast tables the dashboards read up to date with what landed."""
    with connect(settings) as conn:
        refresh_reporting(conn, settings)


def refresh_after_event(settings: Settings) -> bool:
    """Refresh after a webhook's loop landed; False when another refresh runs.

    A nightly refresh can take minutes: rather than hold the worker behind
    it, the caller schedules this again for later. A failure is logged and
    counts as done: the loop is stored, raising would make Huey fetch it
    again, and any later refresh picks it up as it is.
    """
    try:
        with connect(settings) as conn:
            return try_refresh_reporting(conn, settings) is not None
    except StorageError as exc:
        logger.warning("reporting refresh after a webhook event failed: %s", exc)
        return True


def is_nightly(moment: datetime, *, hour: int, timezone: str) -> bool:
    """Whether moment falls in the first minute of `hour` o'clock local time.

    A naive moment is UTC, as Huey passes it. On the night clocks spring
    forward past that hour the run starts at the first minute after the gap;
    on the night they fall back through it, at its first occurrence only.
    """
    zone = zoneinfo.ZoneInfo(timezone)
    instant = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    instant = instant.astimezone(UTC).replace(second=0, microsecond=0)
    local_day = instant.astimezone(zone).date()
    # fold=0 maps a skipped wall time to the instant just after the gap and an
    # ambiguous one to its first occurrence.
    wall = datetime(local_day.year, local_day.month, local_day.day, hour, tzinfo=zone)
    return instant == wall.astimezone(UTC)


def nightly_schedule(settings: Settings) -> Callable[[datetime], bool]:
    """Huey's validate function for the nightly run at settings.nightly_hour."""

    def validate(moment: datetime) -> bool:
        return is_nightly(
            moment, hour=settings.nightly_hour, timezone=settings.timezone
        )

    return validate


def create_huey(settings: Settings) -> Huey:
    """RedisHuey when REDIS_URL is set, else SqliteHuey in the data directory."""
    if settings.redis_url is not None:
        return RedisHuey(QUEUE_NAME, url=settings.redis_url.reveal())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "huey.db"))


def create_app(settings: Settings, queued: QueuedLoops | None = None) -> TaskApp:
    """Build the Huey instance and register the sync tasks bound to settings.

    queued: where waiting loop syncs are noted (default: from the settings).
    """
    huey = create_huey(settings)
    waiting = queued_loops(settings) if queued is None else queued

    def queued_sync(trigger: str = "queue") -> SyncRunResult | None:
        return sync_all(settings, trigger)

    def queued_profiles(
        profile_ids: list[int], trigger: str = "queue"
    ) -> SyncRunResult | None:
        return sync_all(settings, trigger, profile_ids)

    def nightly_sync() -> None:
        # Nobody waits for a scheduled run, so its result is not kept.
        sync_all(settings, "nightly")

    def queued_loop_sync(profile_id: int, loop_id: int) -> None:
        # The receiver answered long ago; the outcome goes to the log only.
        with build_client(settings) as client:
            outcome = sync_loop(settings, client, profile_id, loop_id, waiting)
        if outcome == BUSY:
            # The busy run may have listed the loop before the edit: once it
            # is done, this sync still brings the edit.
            loop_sync.schedule((profile_id, loop_id), delay=BUSY_LOOP_DELAY_SECONDS)
            return
        # A broker who just edited a loop looks for it on the dashboards.
        queued_refresh()

    def queued_merge(old_id: int, new_id: int) -> None:
        merge_loops(settings, old_id, new_id)
        queued_refresh()

    def queued_refresh() -> None:
        if not refresh_after_event(settings):
            refresh.schedule(delay=BUSY_REFRESH_DELAY_SECONDS)

    # Registered by call rather than as decorators: Huey is untyped.
    # A webhook is the only news of an edit until the nightly run, so a failed
    # fetch (Dotloop down, rate limited) is tried again later.
    loop_sync = huey.task(name="sync_loop", retries=2, retry_delay=60)(queued_loop_sync)
    refresh = huey.task(name="refresh_reporting")(queued_refresh)
    return TaskApp(
        huey=huey,
        sync_all=huey.task(name="sync_all")(queued_sync),
        nightly_sync=huey.periodic_task(
            nightly_schedule(settings), name="nightly_sync"
        )(nightly_sync),
        sync_loop=loop_sync,
        merge_loops=huey.task(name="merge_loops")(queued_merge),
        sync_profiles=huey.task(name="sync_profiles")(queued_profiles),
        queued_loops=waiting,
        refresh=refresh,
    )


def run_worker(settings: Settings, workers: int = 1, *, periodic: bool = True) -> None:
    """Run the Huey consumer until interrupted.

    Exactly one worker of a deployment should run the periodic schedule; the
    others pass periodic=False and only take queued tasks.
    """
    app = create_app(settings)
    schedule = (
        f"nightly sync at {settings.nightly_hour:02d}:00 {settings.timezone}"
        if periodic
        else "no periodic schedule"
    )
    logger.info(
        "worker starting: %d worker(s), %s, queue on %s",
        workers,
        schedule,
        "Redis" if settings.redis_url is not None else "SQLite",
    )
    consumer = app.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=periodic
    )
    consumer.run()
