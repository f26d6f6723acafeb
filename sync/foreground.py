"""`dotloop-reporter sync`: one run in the foreground with a progress bar."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from . import db
from .engine import SyncProgress, SyncRunResult, run_sync
from .settings import Settings
from .tasks import build_client
from .views import apply_views, refresh_reporting

logger = logging.getLogger(__name__)


def sync_in_foreground(settings: Settings, *, trigger: str = "manual") -> int:
    """Apply schema and views, sync every profile, print a summary; 0 on success."""
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
        apply_views(conn, settings)
    result = sync_with_progress(settings, trigger=trigger)
    Console(stderr=True).print(summarize(result))
    return 0 if result.status == "succeeded" and not result.incomplete_profiles else 1


def sync_with_progress(settings: Settings, *, trigger: str) -> SyncRunResult:
    """Run one sync, drawing profiles done and loops listed as progress bars."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
    )
    with (
        build_client(settings) as client,
        Progress(*columns, console=Console(stderr=True)) as bar,
    ):
        profiles = bar.add_task("profiles", total=None, detail="")
        loops = bar.add_task("loops", total=None, detail="")

        def update(progress: SyncProgress) -> None:
            counts = progress.counts
            bar.update(
                profiles,
                completed=progress.profiles_done,
                total=progress.profiles_total,
                detail=f"profile {progress.profile_id}",
            )
            eta = progress.eta_seconds
            bar.update(
                loops,
                completed=counts.loops_seen,
                detail=(
                    f"{counts.loops_changed} changed, {counts.requests} requests, "
                    f"{counts.quarantined} quarantined"
                    + (f", about {eta / 60:.0f} min left" if eta else "")
                ),
            )

        result = run_sync(settings, client, trigger=trigger, progress=update)
        bar.update(profiles, completed=result.counts.profiles)
        bar.update(loops, total=result.counts.loops_seen)
    with db.connect(settings) as conn:
        refresh_reporting(conn, settings)
    return result


def summarize(result: SyncRunResult) -> str:
    """One line a person can read about how the run went."""
    counts = result.counts
    seconds = (result.finished_at - result.started_at).total_seconds()
    line = (
        f"sync run {result.run_id} {result.status} in {seconds:.0f}s: "
        f"{counts.profiles} profiles, {counts.loops_seen} loops listed, "
        f"{counts.loops_changed} new or changed, {counts.participants_fetched} "
        f"participant lists, {counts.quarantined} quarantined, "
        f"{counts.requests} requests ({counts.throttled} throttled)"
    )
    if result.incomplete_profiles:
        ids = ", ".join(map(str, result.incomplete_profiles))
        line += f"; listing incomplete for profiles {ids}"
    if result.busy_profiles:
        # Not a failure: the run that holds them brings them up to date.
        ids = ", ".join(map(str, result.busy_profiles))
        line += f"; skipped profiles {ids}, which another sync run was syncing"
    return line
