"""Land loop list pages and profiles into the raw schema, one transaction a page.

A page lands in one statement: the loop rows and their profile links. Each
payload is stored once: a loop row holds the current ones with their content
hashes, and a payload it replaces moves into payload_history in the same
statement (a trigger, see schema.sql). Identical payloads rewrite nothing, so
a nightly run over unchanged loops leaves no dead rows behind; `fetched_at` is
when a loop's stored payloads last changed, `loop_profile.last_seen_at` when a
listing last showed it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .arrays import bytea_array, int8_array, text_array
from .db import Connection, storage_errors
from .landing_sql import LandingStatements, landing_statements
from .payloads import (
    Document,
    InvalidPayload,
    LoopItem,
    ParsedPage,
    UnusablePayload,
    parse_page,
    parse_participants,
    parse_profile,
    raw_bytes,
)

logger = logging.getLogger(__name__)

# Where a quarantined payload came from.
SOURCE_LOOP_PAGE = "loop_page"
SOURCE_LOOP_ITEM = "loop_item"
SOURCE_PARTICIPANTS = "participants"
SOURCE_DETAILS = "details"
SOURCE_PROFILE = "profile"

QuarantineRow = tuple[int | None, int | None, int | None, str, str, bytes, datetime]


@dataclass(frozen=True)
class LandingResult:
    """What landing one page did; quarantined_loops maps loop id to source.

    written counts the loop rows the landing inserted or changed.
    """

    loops: int
    quarantined: int
    written: int
    max_updated: datetime | None
    quarantined_loops: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProfileLandingResult:
    """The profiles that landed and how many were quarantined."""

    profiles: list[dict[str, Any]]
    quarantined: int


def stored_versions(
    conn: Connection, schema: str, loop_ids: Sequence[int]
) -> dict[int, tuple[str | None, str | None]]:
    """(loop_updated, participants_for_updated) of the stored loops among ids."""
    if not loop_ids:
        return {}
    with storage_errors("read stored loop versions"):
        rows = conn.execute(
            landing_statements(schema).versions, {"ids": list(loop_ids)}
        ).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def land_page(
    conn: Connection,
    *,
    schema: str,
    run_id: int | None,
    profile_id: int,
    items: Sequence[Any] | ParsedPage,
    participants_by_loop: Mapping[int, list[Any] | InvalidPayload],
    now: datetime,
) -> LandingResult:
    """Validate and land one list page with its participants, all or nothing.

    items are the page's raw items, or parse_page() of them when the caller
    has already validated them. participants_by_loop holds the participant
    arrays fetched for this page, or the InvalidPayload a fetch returned;
    loops without an entry keep the participants stored earlier.
    """
    prepared = prepare_page(
        profile_id=profile_id,
        run_id=run_id,
        items=items,
        participants_by_loop=participants_by_loop,
        now=now,
    )
    return land_prepared(conn, schema, prepared)


@dataclass(frozen=True)
class PreparedPage:
    """A validated page with its statement parameters built, not yet landed."""

    loops: int
    params: dict[str, Any] | None
    quarantined: list[QuarantineRow]
    max_updated: datetime | None

    def quarantined_loops(self) -> dict[int, str]:
        """The source of what landing quarantines, by loop id."""
        return _by_loop(self.quarantined)


def prepare_page(
    *,
    profile_id: int,
    run_id: int | None,
    items: Sequence[Any] | ParsedPage,
    participants_by_loop: Mapping[int, list[Any] | InvalidPayload],
    now: datetime,
) -> PreparedPage:
    """Validate a page and build what land_prepared() sends: Python work only.

    Holds no connection, so it can run before a transaction opens (a retried
    transaction does not repeat it) or on another thread while Postgres lands
    the previous page.
    """
    parsed = items if isinstance(items, ParsedPage) else parse_page(items)
    participants, bad_participants = _split_participants(participants_by_loop)
    quarantined: list[QuarantineRow] = [
        (run_id, profile_id, r.loop_id, SOURCE_LOOP_ITEM, r.reason, r.raw, now)
        for r in parsed.rejected
    ]
    quarantined += [
        (run_id, profile_id, loop_id, SOURCE_PARTICIPANTS, bad.reason, bad.raw, now)
        for loop_id, bad in bad_participants.items()
    ]
    loops = parsed.loops
    return PreparedPage(
        loops=len(loops),
        params=_loop_params(loops, participants, profile_id, run_id, now),
        quarantined=quarantined,
        max_updated=max((loop.updated for loop in loops), default=None),
    )


def land_prepared(conn: Connection, schema: str, page: PreparedPage) -> LandingResult:
    """Land a page prepare_page() built, in one transaction (or savepoint)."""
    statements = landing_statements(schema)
    written = 0
    with storage_errors("land a loop page"), conn.transaction():
        if page.params is not None:
            cursor = conn.execute(statements.land_loops, page.params)
            written = max(cursor.rowcount, 0)
        _insert_quarantine(conn, statements, page.quarantined)
    _log_quarantined(page.quarantined)
    return LandingResult(
        loops=page.loops,
        quarantined=len(page.quarantined),
        written=written,
        max_updated=page.max_updated,
        quarantined_loops=_by_loop(page.quarantined),
    )


def land_participants(
    conn: Connection,
    *,
    schema: str,
    run_id: int | None,
    profile_id: int,
    fetched: Mapping[int, tuple[str, list[Any] | InvalidPayload]],
    now: datetime,
) -> LandingResult:
    """Land participant lists fetched apart from a page, all or nothing.

    fetched maps a loop id to the `updated` the list was asked for at and the
    list (or the InvalidPayload the request returned); a loop whose stored
    version moved meanwhile is left for its next listing.
    """
    lists = {loop_id: value for loop_id, (_, value) in fetched.items()}
    valid, invalid = _split_participants(lists)
    quarantined: list[QuarantineRow] = [
        (run_id, profile_id, loop_id, SOURCE_PARTICIPANTS, bad.reason, bad.raw, now)
        for loop_id, bad in invalid.items()
    ]
    statements = landing_statements(schema)
    params = {
        "ids": list(valid),
        "updated": [fetched[loop_id][0] for loop_id in valid],
        "participants": [document.text for document in valid.values()],
        "hashes": [document.content_hash for document in valid.values()],
        "run_id": run_id,
        "now": now,
    }
    written = 0
    with storage_errors("land participant lists"), conn.transaction():
        if valid:
            cursor = conn.execute(statements.land_participants, params)
            written = max(cursor.rowcount, 0)
        _insert_quarantine(conn, statements, quarantined)
    _log_quarantined(quarantined)
    return LandingResult(
        loops=len(valid),
        quarantined=len(quarantined),
        written=written,
        max_updated=None,
        quarantined_loops=_by_loop(quarantined),
    )


def land_details(
    conn: Connection,
    *,
    schema: str,
    run_id: int | None,
    fetched: Mapping[int, tuple[str, Document]],
    now: datetime,
) -> int:
    """Land details fetched apart from a listing; how many loops took them.

    fetched maps a loop id to the `updated` the details were asked for at and
    the validated details; a loop whose stored version moved meanwhile is
    left for its next listing, which brings its details.
    """
    if not fetched:
        return 0
    params = {
        "ids": list(fetched),
        "updated": [updated for updated, _ in fetched.values()],
        "details": [document.text for _, document in fetched.values()],
        "hashes": [document.content_hash for _, document in fetched.values()],
        "run_id": run_id,
        "now": now,
    }
    with storage_errors("land details"):
        landed = conn.execute(
            landing_statements(schema).land_details, params
        ).fetchall()
    return len(landed)


def land_profiles(
    conn: Connection,
    *,
    schema: str,
    run_id: int | None,
    profiles: Sequence[Any],
    now: datetime,
) -> ProfileLandingResult:
    """Upsert the GET /profile items and their history; quarantine bad ones."""
    landed: dict[int, tuple[dict[str, Any], Document]] = {}
    quarantined: list[QuarantineRow] = []
    for profile in profiles:
        try:
            profile_id, document = parse_profile(profile)
        except UnusablePayload as exc:
            raw = raw_bytes(profile)
            quarantined.append((run_id, None, None, SOURCE_PROFILE, str(exc), raw, now))
            continue
        landed[profile_id] = (profile, document)
    documents = [document for _, document in landed.values()]
    with storage_errors("land profiles"), conn.transaction():
        if landed:
            conn.execute(
                landing_statements(schema).land_profiles,
                {
                    "ids": list(landed),
                    "hashes": [document.content_hash for document in documents],
                    "payloads": [document.jsonb() for document in documents],
                    "run_id": run_id,
                    "now": now,
                },
            )
        _insert_quarantine(conn, landing_statements(schema), quarantined)
    _log_quarantined(quarantined)
    return ProfileLandingResult(
        profiles=[profile for profile, _ in landed.values()],
        quarantined=len(quarantined),
    )


def quarantine(
    conn: Connection,
    *,
    schema: str,
    run_id: int | None,
    profile_id: int | None,
    loop_id: int | None,
    source: str,
    payload: InvalidPayload,
    now: datetime,
) -> None:
    """Keep a payload that cannot be landed, with the reason, in one transaction."""
    row = (run_id, profile_id, loop_id, source, payload.reason, payload.raw, now)
    with storage_errors("quarantine a payload"), conn.transaction():
        _insert_quarantine(conn, landing_statements(schema), [row])
    _log_quarantined([row])


def _split_participants(
    participants_by_loop: Mapping[int, list[Any] | InvalidPayload],
) -> tuple[dict[int, Document], dict[int, InvalidPayload]]:
    valid: dict[int, Document] = {}
    invalid: dict[int, InvalidPayload] = {}
    for loop_id, value in participants_by_loop.items():
        if isinstance(value, InvalidPayload):
            invalid[loop_id] = value
            continue
        try:
            valid[loop_id] = parse_participants(value)
        except UnusablePayload as exc:
            invalid[loop_id] = InvalidPayload(str(exc), raw_bytes(value))
    return valid, invalid


def _loop_params(
    loops: Sequence[LoopItem],
    participants: Mapping[int, Document],
    profile_id: int,
    run_id: int | None,
    now: datetime,
) -> dict[str, Any] | None:
    if not loops:
        return None
    people = [participants.get(loop.loop_id) for loop in loops]
    return {
        "ids": int8_array([loop.loop_id for loop in loops]),
        "updated": text_array([loop.updated_text.encode() for loop in loops]),
        "summaries": text_array([loop.summary.encoded for loop in loops]),
        "summary_hashes": bytea_array([loop.summary.content_hash for loop in loops]),
        "details": text_array([_encoded(loop.details) for loop in loops]),
        "details_hashes": bytea_array([_hash(loop.details) for loop in loops]),
        "participants": text_array([_encoded(document) for document in people]),
        "participants_hashes": bytea_array([_hash(document) for document in people]),
        "profile_id": profile_id,
        "run_id": run_id,
        "now": now,
    }


def _encoded(document: Document | None) -> bytes | None:
    return None if document is None else document.encoded


def _hash(document: Document | None) -> bytes | None:
    return None if document is None else document.content_hash


def _insert_quarantine(
    conn: Connection, statements: LandingStatements, rows: Sequence[QuarantineRow]
) -> None:
    if rows:
        conn.cursor().executemany(statements.quarantine, rows)


def _by_loop(rows: Sequence[QuarantineRow]) -> dict[int, str]:
    return {row[2]: row[3] for row in rows if row[2] is not None}


def _log_quarantined(rows: Sequence[QuarantineRow]) -> None:
    for run_id, profile_id, loop_id, source, reason, _, _ in rows:
        logger.warning(
            "run %s quarantined %s (profile %s, loop %s): %s",
            run_id,
            source,
            profile_id,
            loop_id,
            reason,
        )
