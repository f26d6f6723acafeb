"""Listing checkpoints: where an interrupted listing of a profile resumes.

A checkpoint row exists while a profile's listing is under way. The engine
writes it in the same transaction as every page it lands, so whatever stops a
run, the row and the landed data agree: the row names the last landed batch,
the oldest `updated` landed so far (the bound a resume starts from) and the
counts that tell, at the end, whether the listing saw every loop. How a resume
uses them is explained in sync/listing.py.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import lru_cache

from psycopg import sql
from psycopg.rows import class_row

from .db import Connection, storage_errors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    """The persisted state of one profile's listing.

    `shortfall` sums, over the finished segments of the listing (the part one
    run read), how many loops a segment should have read but did not; None
    when Dotloop gave no totals, so completeness cannot be told.
    `segment_expected` and `segment_counted` belong to the current segment.
    """

    profile_id: int
    since: datetime | None
    started_at: datetime
    run_id: int | None
    batch_number: int = 0
    bound: datetime | None = None
    newest: datetime | None = None
    loops_landed: int = 0
    pages_landed: int = 0
    listing_total: int | None = None
    shortfall: int | None = 0
    segment_expected: int | None = None
    segment_counted: int = 0
    unusable_pages: int = 0

    @property
    def is_backfill(self) -> bool:
        """Whether the listing reads every loop (no updated_min filter)."""
        return self.since is None

    @property
    def resumable(self) -> bool:
        """Whether a page landed with a loop, so a resume has a bound."""
        return self.bound is not None

    def with_page(
        self,
        batch_number: int,
        oldest: datetime | None,
        newest: datetime | None,
        loops: int,
    ) -> Checkpoint:
        """The checkpoint once a page with these loops has landed."""
        return replace(
            self,
            batch_number=batch_number,
            bound=_earliest(self.bound, oldest),
            newest=_latest(self.newest, newest),
            loops_landed=self.loops_landed + loops,
            pages_landed=self.pages_landed + 1,
        )


def load_checkpoint(
    conn: Connection, schema: str, profile_id: int
) -> Checkpoint | None:
    """The checkpoint of a listing under way for the profile, if any."""
    query = sql.SQL("SELECT {} FROM {} WHERE profile_id = %s").format(
        _columns(), sql.Identifier(schema, "listing_checkpoint")
    )
    with storage_errors("read a listing checkpoint"):
        cursor = conn.cursor(row_factory=class_row(Checkpoint))
        return cursor.execute(query, (profile_id,)).fetchone()


def save_checkpoint(conn: Connection, schema: str, checkpoint: Checkpoint) -> None:
    """Insert or replace the profile's checkpoint (inside the page's transaction)."""
    with storage_errors("save a listing checkpoint"):
        conn.execute(_upsert(schema), asdict(checkpoint))


def delete_checkpoint(conn: Connection, schema: str, profile_id: int) -> None:
    """Forget the profile's checkpoint: its listing is over."""
    query = sql.SQL("DELETE FROM {} WHERE profile_id = %s").format(
        sql.Identifier(schema, "listing_checkpoint")
    )
    with storage_errors("delete a listing checkpoint"):
        conn.execute(query, (profile_id,))


def listings_under_way(conn: Connection, schema: str) -> list[Checkpoint]:
    """Every checkpoint, by profile: the listings an interrupted run left."""
    query = sql.SQL("SELECT {} FROM {} ORDER BY profile_id").format(
        _columns(), sql.Identifier(schema, "listing_checkpoint")
    )
    with storage_errors("read listing checkpoints"):
        cursor = conn.cursor(row_factory=class_row(Checkpoint))
        return cursor.execute(query).fetchall()


def _columns() -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, _FIELDS))


@lru_cache(maxsize=8)
def _upsert(schema: str) -> sql.Composed:
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = excluded.{0}").format(sql.Identifier(name))
        for name in _FIELDS
        if name != "profile_id"
    )
    return sql.SQL(
        "INSERT INTO {table} ({columns}, updated_at) VALUES ({values}, now()) "
        "ON CONFLICT (profile_id) DO UPDATE SET {updates}, updated_at = now()"
    ).format(
        table=sql.Identifier(schema, "listing_checkpoint"),
        columns=_columns(),
        values=sql.SQL(", ").join(map(sql.Placeholder, _FIELDS)),
        updates=updates,
    )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a if b is None else b
    return min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a if b is None else b
    return max(a, b)


_FIELDS = tuple(Checkpoint.__dataclass_fields__)
