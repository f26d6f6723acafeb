"""Landing list pages, participants and profiles into the raw schema."""

from __future__ import annotations

import doctest
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import sync.landing
import sync.payloads
from connector.secrets import Secret
from sync import db
from sync.landing import land_page, land_profiles, quarantine
from sync.payloads import InvalidPayload
from sync.settings import Settings

SCHEMA = "raw_under_test"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2024, 6, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=Secret(database_url), raw_schema=SCHEMA)


@pytest.fixture
def conn(settings: Settings) -> Iterator[db.Connection]:
    with db.connect(settings) as connection:
        db.apply_schema(connection, settings)
        yield connection


def loop_item(loop_id: int, updated: str = "2024-05-01T10:00:00Z", **extra: Any) -> Any:
    item: dict[str, Any] = {
        "id": loop_id,
        "name": f"{loop_id} Main St",
        "transactionType": "PURCHASE_OFFER",
        "status": "UNDER_CONTRACT",
        "updated": updated,
        "details": {
            "Property Address": {"City": "Denver"},
            "Financials": {"Purchase/Sale Price": "650,000"},
        },
    }
    item.update(extra)
    return item


PEOPLE = [
    {"id": 1, "fullName": "Ann Agent", "email": "ann@x.test", "role": "BUYING_AGENT"}
]


def land(
    conn: db.Connection,
    items: list[Any],
    *,
    profile_id: int = 10,
    participants: dict[int, Any] | None = None,
    now: datetime = NOW,
) -> sync.landing.LandingResult:
    return land_page(
        conn,
        schema=SCHEMA,
        run_id=None,
        profile_id=profile_id,
        items=items,
        participants_by_loop=participants or {},
        now=now,
    )


def count(conn: db.Connection, table: str, where: str = "true") -> int:
    row = conn.execute(
        f"SELECT count(*) FROM {SCHEMA}.{table} WHERE {where}"
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_landing_the_same_page_twice_adds_no_history(conn: db.Connection) -> None:
    page = [loop_item(1), loop_item(2)]
    first = land(conn, page, participants={1: PEOPLE})
    second = land(conn, page, participants={1: PEOPLE}, now=LATER)

    assert (first.loops, first.written) == (2, 2)
    assert (second.loops, second.written) == (2, 0)
    assert count(conn, "payload_version") == 5
    assert count(conn, "payload_history") == 0
    assert count(conn, "loop") == 2


def test_a_changed_payload_adds_one_history_row(conn: db.Connection) -> None:
    land(conn, [loop_item(1)])
    changed = loop_item(1, updated="2024-05-02T10:00:00Z", status="SOLD")
    result = land(conn, [changed], now=LATER)

    assert result.written == 1
    assert count(conn, "payload_version", "kind = 'summary'") == 2
    assert count(conn, "payload_version", "kind = 'details'") == 1
    assert count(conn, "payload_history") == 1
    row = conn.execute(
        f"SELECT summary->>'status', loop_updated, fetched_at, first_seen_at "
        f"FROM {SCHEMA}.loop WHERE loop_id = 1"
    ).fetchone()
    assert row == ("SOLD", "2024-05-02T10:00:00Z", LATER, NOW)


def test_a_loop_in_two_profiles_is_one_loop_and_two_links(conn: db.Connection) -> None:
    land(conn, [loop_item(7)], profile_id=10)
    land(conn, [loop_item(7)], profile_id=20, now=LATER)

    assert count(conn, "loop") == 1
    links = conn.execute(
        f"SELECT profile_id, first_seen_at, last_seen_at FROM {SCHEMA}.loop_profile "
        "ORDER BY profile_id"
    ).fetchall()
    assert links == [(10, NOW, NOW), (20, LATER, LATER)]


def test_summary_excludes_details_and_details_are_kept(conn: db.Connection) -> None:
    land(conn, [loop_item(3)])
    without_details = loop_item(3)
    del without_details["details"]
    land(conn, [without_details], now=LATER)

    summary, details = conn.execute(
        f"SELECT summary, details FROM {SCHEMA}.loop WHERE loop_id = 3"
    ).fetchone() or (None, None)
    assert "details" not in summary
    assert details == loop_item(3)["details"]


BAD_ITEMS = [
    ("a string", "not an object"),
    ({"updated": "2024-05-01T10:00:00Z"}, '"id" is not an integer'),
    ({"id": "12a", "updated": "2024-05-01T10:00:00Z"}, '"id" is not an integer'),
    ({"id": True, "updated": "2024-05-01T10:00:00Z"}, '"id" is not an integer'),
    ({"id": 5}, '"updated" is NoneType'),
    ({"id": 5, "updated": "yesterday"}, "not ISO 8601"),
    ({"id": 5, "updated": "2024-05-01T10:00:00Z", "details": []}, "not an object"),
    (
        {"id": 5, "updated": "2024-05-01T10:00:00Z", "details": {"Financials": "x"}},
        "section 'Financials' is not an object",
    ),
    ({"id": 5, "updated": "2024-05-01T10:00:00Z", "price": float("nan")}, "JSON"),
    ({"id": 5, "updated": "2024-05-01T10:00:00Z", "name": "a\x00b"}, "NUL"),
    ({"id": 5, "updated": "2024-05-01T10:00:00Z", "name": "\ud800"}, "surrogate"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_ITEMS)
def test_bad_items_are_quarantined_and_the_rest_lands(
    conn: db.Connection, bad: Any, reason: str
) -> None:
    result = land(conn, [loop_item(1), bad, loop_item(2)])

    assert (result.loops, result.quarantined) == (2, 1)
    assert count(conn, "loop") == 2
    source, stored_reason, raw = conn.execute(
        f"SELECT source, reason, raw FROM {SCHEMA}.quarantine"
    ).fetchone() or (None, None, None)
    assert source == "loop_item"
    assert reason in stored_reason
    assert bytes(raw) == json.dumps(bad, default=repr).encode(
        "utf-8", "backslashreplace"
    )


def test_a_backslash_before_u0000_text_is_not_a_nul(conn: db.Connection) -> None:
    result = land(conn, [loop_item(1, name="C:\\u0000 folder")])

    assert (result.loops, result.quarantined) == (1, 0)


def test_string_ids_are_accepted(conn: db.Connection) -> None:
    result = land(conn, [loop_item("42")])  # type: ignore[arg-type]

    assert result.loops == 1
    assert count(conn, "loop", "loop_id = 42") == 1


def test_participants_are_stored_with_the_version_they_belong_to(
    conn: db.Connection,
) -> None:
    land(conn, [loop_item(1)], participants={1: PEOPLE})
    land(conn, [loop_item(1, updated="2024-05-03T00:00:00Z")], now=LATER)

    row = conn.execute(
        f"SELECT participants, loop_updated, participants_for_updated "
        f"FROM {SCHEMA}.loop WHERE loop_id = 1"
    ).fetchone()
    assert row == (PEOPLE, "2024-05-03T00:00:00Z", "2024-05-01T10:00:00Z")


@pytest.mark.parametrize(
    ("participants", "reason"),
    [
        (InvalidPayload("body is not JSON", b"<html>"), "body is not JSON"),
        ({"id": 1}, "not a list"),
        (["Ann"], "not an object"),
    ],
)
def test_bad_participants_are_quarantined_and_the_loop_lands(
    conn: db.Connection, participants: Any, reason: str
) -> None:
    result = land(conn, [loop_item(1)], participants={1: participants})

    assert (result.loops, result.quarantined) == (1, 1)
    row = conn.execute(
        f"SELECT participants, participants_for_updated FROM {SCHEMA}.loop"
    ).fetchone()
    assert row == (None, None)
    quarantined = conn.execute(
        f"SELECT source, loop_id, reason FROM {SCHEMA}.quarantine"
    ).fetchone()
    assert quarantined is not None
    assert quarantined[:2] == ("participants", 1)
    assert reason in quarantined[2]


def test_history_is_keyed_by_the_hash_of_canonical_json(conn: db.Connection) -> None:
    item = loop_item(9)
    land(conn, [item])
    summary = {k: v for k, v in item.items() if k != "details"}
    canonical = json.dumps(summary, sort_keys=True, separators=(",", ":"))

    row = conn.execute(
        f"SELECT content_hash, payload FROM {SCHEMA}.payload_version "
        "WHERE kind = 'summary' AND entity_id = 9"
    ).fetchone()
    assert row is not None
    assert bytes(row[0]) == hashlib.sha256(canonical.encode()).digest()
    assert row[1] == summary


def test_duplicate_ids_in_one_page_land_once(conn: db.Connection) -> None:
    result = land(conn, [loop_item(1), loop_item(1, status="SOLD")])

    assert result.loops == 1
    row = conn.execute(f"SELECT summary->>'status' FROM {SCHEMA}.loop").fetchone()
    assert row == ("SOLD",)


def test_max_updated_is_reported(conn: db.Connection) -> None:
    result = land(
        conn,
        [
            loop_item(1, updated="2024-05-01T10:00:00Z"),
            loop_item(2, "2024-05-04T08:00:00Z"),
        ],
    )

    assert result.max_updated == datetime(2024, 5, 4, 8, 0, tzinfo=UTC)


def test_profiles_land_with_history_and_bad_ones_are_quarantined(
    conn: db.Connection,
) -> None:
    profiles = [
        {"id": 10, "name": "Office", "type": "OFFICE"},
        {"name": "no id"},
        {"id": 20, "name": "Me", "type": "INDIVIDUAL", "deactivated": True},
    ]
    result = land_profiles(conn, schema=SCHEMA, run_id=None, profiles=profiles, now=NOW)
    land_profiles(conn, schema=SCHEMA, run_id=None, profiles=profiles, now=LATER)

    assert [p["id"] for p in result.profiles] == [10, 20]
    assert result.quarantined == 1
    assert count(conn, "profile") == 2
    assert count(conn, "payload_version", "kind = 'profile'") == 2
    assert count(conn, "quarantine", "source = 'profile'") == 2


def test_quarantine_keeps_a_whole_page(conn: db.Connection) -> None:
    quarantine(
        conn,
        schema=SCHEMA,
        run_id=None,
        profile_id=10,
        loop_id=None,
        source="loop_page",
        payload=InvalidPayload("body is not JSON", b"<html>oops</html>"),
        now=NOW,
    )

    row = conn.execute(
        f"SELECT profile_id, source, raw FROM {SCHEMA}.quarantine"
    ).fetchone()
    assert row is not None
    assert (row[0], row[1], bytes(row[2])) == (10, "loop_page", b"<html>oops</html>")


def test_the_examples_in_the_module_hold() -> None:
    failures, attempted = doctest.testmod(sync.payloads)

    assert attempted > 0
    assert failures == 0


def test_an_identical_page_rewrites_no_loop_row(conn: db.Connection) -> None:
    land(conn, [loop_item(1)], participants={1: PEOPLE})
    before = conn.execute(f"SELECT xmin::text FROM {SCHEMA}.loop").fetchone()

    land(conn, [loop_item(1)], participants={1: PEOPLE}, now=LATER)

    assert conn.execute(f"SELECT xmin::text FROM {SCHEMA}.loop").fetchone() == before
    row = conn.execute(
        f"SELECT l.fetched_at, p.last_seen_at FROM {SCHEMA}.loop l "
        f"JOIN {SCHEMA}.loop_profile p USING (loop_id)"
    ).fetchone()
    assert row == (NOW, LATER)


def test_a_loop_seen_again_is_no_longer_removed(conn: db.Connection) -> None:
    land(conn, [loop_item(1)])
    conn.execute(f"UPDATE {SCHEMA}.loop SET removed_at = %s", (NOW,))

    land(conn, [loop_item(1)], now=LATER)

    row = conn.execute(f"SELECT removed_at FROM {SCHEMA}.loop").fetchone()
    assert row == (None,)


def test_participants_at_a_new_version_are_recorded_even_if_unchanged(
    conn: db.Connection,
) -> None:
    land(conn, [loop_item(1)], participants={1: PEOPLE})
    newer = loop_item(1, updated="2024-05-09T00:00:00Z")
    land(conn, [newer], now=LATER)

    land(conn, [newer], participants={1: PEOPLE}, now=LATER)

    row = conn.execute(
        f"SELECT loop_updated, participants_for_updated FROM {SCHEMA}.loop"
    ).fetchone()
    assert row == ("2024-05-09T00:00:00Z", "2024-05-09T00:00:00Z")
