"""Walking a profile's loop listing newest first, resumable and checked complete.

The listing is `sort=updated:desc`, optionally from an `updated_min`. Paging
by `batch_number` over it is paging by position over something that moves
while it is read: a loop edited meanwhile jumps to the front (every loop
behind it shifts down one place, so a page boundary is read twice: harmless),
and a loop that vanishes from the part already read (merged, access removed)
shifts everything up one place, so one loop at the next page boundary is never
read. The walk copes with both by what it records and what it checks.

Resuming. A run killed at any point left a checkpoint written with its last
landed page (sync/checkpoints.py). The batch number in it is stale: loops edited
since then moved to the front and pushed the rest down. What does not go stale
is the bound, the oldest `updated` landed so far. Every loop older than the
bound is still unread, because `updated` only grows and the listing is sorted by
it; a loop newer than the bound was landed already or was edited after the
listing began, and the next incremental run reads it because the watermark
never passes the start of the listing. So a resume starts where the bound lies
now: one request of batch size 1 filtered `updated_min = bound + 1 s` says how
many loops are newer (meta.total), which gives the batch holding the last of
them. Without a total the stale batch number is the estimate. Either way the
first page read must open with a loop newer than the bound, which proves that
nothing between the bound and that page was skipped; otherwise the walk steps
back one batch and checks again.

Completeness. The watermark may only advance after a listing that read every
loop it should have. Loops only ever leave the part of the listing at or below
the bound (edited away to the front, or gone), and nothing enters it. So each
segment (what one run read) knows how many loops it has to read, the loops at
or below the bound where it found its place (meta.total minus that position),
and counts the distinct loops it read there. What a segment missed is folded
into the checkpoint's shortfall when the next one starts. A listing is complete
when the shortfall is zero and no page was unusable. A skip always leaves a
shortfall; a loop edited before the walk reached it does too (a false alarm
that only costs the next run a longer listing). When Dotloop gives no totals
(meta.total of -1) completeness cannot be told, and a listing that reaches its
end is taken as complete; the sweep (sync/sweep.py) is the backstop.

Loops sharing one `updated` second keep the order Dotloop gives them; if that
order changed between requests, ties could be read twice or skipped, which the
count catches as a shortfall.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from connector import DotloopClient, InvalidResponseError, LoopPage

from .checkpoints import Checkpoint
from .payloads import ParsedPage, UnusablePayload, parse_id, parse_page, parse_updated

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
SORT = "updated:desc"
# `updated` has whole seconds: the first moment after the bound.
_RESOLUTION = timedelta(seconds=1)


@dataclass(frozen=True)
class ListedPage:
    """A page to land, and the checkpoint to write in the same transaction."""

    page: LoopPage
    parsed: ParsedPage
    checkpoint: Checkpoint


@dataclass(frozen=True)
class UnusablePage:
    """A page that could not be read, and the checkpoint that records it."""

    batch_number: int
    error: InvalidResponseError
    checkpoint: Checkpoint


Step = ListedPage | UnusablePage
# Where a walk goes on: the next batch (0 at the end) and whether it is verified.
Resume = tuple[int, bool]


class ListingWalk:
    """The pages of one listing, from its checkpoint to its end.

    Iterate it and land every step (with its checkpoint) before asking for
    the next one: the walk takes each step's checkpoint as landed then. Once
    the iteration ends, complete() says whether the watermark may advance.
    """

    def __init__(
        self,
        client: DotloopClient,
        checkpoint: Checkpoint,
        *,
        batch_size: int = BATCH_SIZE,
        include_details: bool = True,
    ) -> None:
        self.client = client
        self.batch_size = batch_size
        self.include_details = include_details
        self.resumed = checkpoint.resumable
        self.checkpoint = checkpoint if self.resumed else _fresh(checkpoint)
        # Ids counted at exactly the bound: a tie group may span pages.
        self._ties: set[int] = set()
        self._found_place = False
        self._last_total = checkpoint.listing_total

    def __iter__(self) -> Iterator[Step]:
        batch = self._first_batch() if self.resumed else 1
        verified = batch == 1
        while batch:
            batch, verified = yield from self._walk_from(batch, verified)

    def complete(self) -> bool:
        """Whether the finished walk read every loop it had to; logs why not."""
        final = self._finish(self.checkpoint)
        profile_id = final.profile_id
        if final.unusable_pages:
            logger.warning(
                "profile %d listing is incomplete: %d unusable page(s)",
                profile_id,
                final.unusable_pages,
            )
            return False
        if final.shortfall is None:
            logger.info(
                "profile %d listing gave no totals; taken as complete", profile_id
            )
            return True
        if final.shortfall > 0:
            logger.warning(
                "profile %d listing missed %d loop(s) that moved or vanished while "
                "it was paged; the next run lists them again",
                profile_id,
                final.shortfall,
            )
        return final.shortfall == 0

    def _walk_from(self, batch: int, verified: bool) -> Generator[Step, None, Resume]:
        """Walk from `batch`; returns where to go on, (0, _) at the end."""
        pages = self.client.iter_loop_pages(
            self.checkpoint.profile_id,
            batch_size=self.batch_size,
            sort=SORT,
            filters=self._filters(),
            include_details=self.include_details,
            first_batch=batch,
        )
        asked = batch
        try:
            for page in pages:
                self._last_total = _known(page.total, self._last_total)
                if not verified and not self._opens_above_bound(page):
                    logger.info(
                        "profile %d batch %d does not open above the resume bound; "
                        "stepping back one batch",
                        page.profile_id,
                        page.batch_number,
                    )
                    return page.batch_number - 1, page.batch_number == 2
                verified = True
                step = self._listed(page)
                yield step
                self.checkpoint = step.checkpoint
                asked = page.batch_number + 1
        except InvalidResponseError as exc:
            unusable = self._unusable(asked, exc)
            yield unusable
            self.checkpoint = unusable.checkpoint
            # Past a page that cannot be read, no position can be verified.
            return self._after_unusable(asked), True
        return 0, True

    def _listed(self, page: LoopPage) -> ListedPage:
        parsed = parse_page(page.items)
        updates = [loop.updated for loop in parsed.loops]
        checkpoint = self._count(page).with_page(
            page.batch_number,
            min(updates, default=None),
            max(updates, default=None),
            len(parsed.loops),
        )
        if checkpoint.listing_total is None:
            checkpoint = replace(checkpoint, listing_total=_known(page.total, None))
        return ListedPage(page, parsed, checkpoint)

    def _count(self, page: LoopPage) -> Checkpoint:
        """Count the page's loops at or below the bound (see the docstring)."""
        checkpoint = self.checkpoint
        bound = checkpoint.bound
        counted: dict[int, datetime | None] = {}
        offset = (page.batch_number - 1) * self.batch_size
        for index, item in enumerate(page.items):
            loop_id, updated = _position(item)
            if updated is None and not self._found_place:
                continue
            if updated is not None and bound is not None and updated > bound:
                continue
            if not self._found_place:
                checkpoint = self._find_place(checkpoint, page.total, offset + index)
            if updated is not None and updated == bound and loop_id in self._ties:
                continue
            # An item without a usable id still takes its place in the count.
            counted.setdefault(-index - 1 if loop_id is None else loop_id, updated)
        return self._rebound(checkpoint, counted)

    def _find_place(
        self, checkpoint: Checkpoint, total: int | None, position: int
    ) -> Checkpoint:
        """Start this segment's count at the first loop at or below the bound."""
        self._found_place = True
        self._ties = set()
        expected = _remaining(_known(total, None), position)
        return replace(
            checkpoint,
            shortfall=_fold(checkpoint, expected),
            segment_expected=expected,
            segment_counted=0,
        )

    def _rebound(
        self, checkpoint: Checkpoint, counted: dict[int, datetime | None]
    ) -> Checkpoint:
        """Keep the count relative to the bound the page leaves behind.

        segment_counted holds the loops counted above the bound; those at the
        bound are the ties, read again by a resume and counted then.
        """
        bound = checkpoint.bound
        moments = [moment for moment in counted.values() if moment is not None]
        new_bound = min(moments, default=bound)
        if bound is not None and new_bound is not None:
            new_bound = min(new_bound, bound)
        above = checkpoint.segment_counted
        if new_bound != bound:
            above += len(self._ties)
            self._ties = set()
        for loop_id, moment in counted.items():
            if moment is not None and moment == new_bound:
                self._ties.add(loop_id)
            else:
                above += 1
        return replace(checkpoint, segment_counted=above)

    def _finish(self, checkpoint: Checkpoint) -> Checkpoint:
        if not self._found_place:
            # The walk reached the end without a loop at or below the bound.
            checkpoint = replace(
                checkpoint,
                shortfall=_fold(checkpoint, 0),
                segment_expected=0,
                segment_counted=0,
            )
        expected = checkpoint.segment_expected
        if checkpoint.shortfall is None or expected is None:
            return replace(checkpoint, shortfall=None)
        read = checkpoint.segment_counted + len(self._ties)
        return replace(
            checkpoint, shortfall=checkpoint.shortfall + max(0, expected - read)
        )

    def _unusable(self, batch: int, error: InvalidResponseError) -> UnusablePage:
        checkpoint = replace(
            self.checkpoint,
            batch_number=batch,
            unusable_pages=self.checkpoint.unusable_pages + 1,
        )
        return UnusablePage(batch, error, checkpoint)

    def _after_unusable(self, batch: int) -> int:
        """The batch after an unusable one, or 0 when the total says none is left."""
        total = self._last_total
        if total is None or batch * self.batch_size >= total:
            return 0
        return batch + 1

    def _first_batch(self) -> int:
        """The batch holding the last loop newer than the bound (see the docstring)."""
        checkpoint = self.checkpoint
        assert checkpoint.bound is not None
        newer = self._count_newer(checkpoint.bound)
        if newer is None:
            return max(checkpoint.batch_number, 1)
        batch = (newer - 1) // self.batch_size + 1 if newer > 0 else 1
        logger.info(
            "profile %d resumes its listing at batch %d: %d loop(s) newer than %s, "
            "%d landed before",
            checkpoint.profile_id,
            batch,
            newer,
            format_moment(checkpoint.bound),
            checkpoint.loops_landed,
        )
        return batch

    def _count_newer(self, bound: datetime) -> int | None:
        """How many loops are newer than the bound now (one request), if told."""
        pages = self.client.iter_loop_pages(
            self.checkpoint.profile_id,
            batch_size=1,
            sort=SORT,
            filters={"updated_min": format_moment(bound + _RESOLUTION)},
            include_details=False,
        )
        try:
            first = next(pages, None)
        except InvalidResponseError as exc:
            logger.warning("could not count the loops newer than the bound: %s", exc)
            return None
        return None if first is None else _known(first.total, None)

    def _opens_above_bound(self, page: LoopPage) -> bool:
        bound = self.checkpoint.bound
        for item in page.items:
            updated = _position(item)[1]
            if updated is not None:
                return bound is None or updated > bound
        return False

    def _filters(self) -> dict[str, str]:
        since = self.checkpoint.since
        return {} if since is None else {"updated_min": format_moment(since)}


def format_moment(moment: datetime) -> str:
    """A moment as the `updated_min` filter takes it.

    >>> from datetime import UTC
    >>> format_moment(datetime(2024, 3, 5, 17, 4, 11, 500, tzinfo=UTC))
    '2024-03-05T17:04:11Z'
    """
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fresh(checkpoint: Checkpoint) -> Checkpoint:
    # No loop landed yet: start over from the first page, same listing.
    return replace(
        checkpoint,
        batch_number=0,
        shortfall=0,
        segment_expected=None,
        segment_counted=0,
    )


def _fold(checkpoint: Checkpoint, expected_now: int | None) -> int | None:
    """The shortfall once the previous segment is closed, given what is left now."""
    if checkpoint.shortfall is None or expected_now is None:
        return None
    previous = checkpoint.segment_expected
    if previous is None:
        return checkpoint.shortfall
    missed = previous - expected_now - checkpoint.segment_counted
    return checkpoint.shortfall + max(0, missed)


def _remaining(total: int | None, position: int) -> int | None:
    return None if total is None else max(0, total - position)


def _known(total: int | None, fallback: int | None) -> int | None:
    return total if total is not None and total >= 0 else fallback


def _position(item: Any) -> tuple[int | None, datetime | None]:
    """A list item's id and `updated`, each None when it does not parse."""
    if not isinstance(item, dict):
        return None, None
    try:
        loop_id: int | None = parse_id(item.get("id"))
    except UnusablePayload:
        loop_id = None
    try:
        return loop_id, parse_updated(item.get("updated"))
    except UnusablePayload:
        return loop_id, None
