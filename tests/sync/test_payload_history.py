"""Each payload stored once: current ones in their rows, replaced ones in history."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from psycopg import sql

from connector.secrets import Secret
from sync import db
from sync.landing import land_details, land_page, land_participants, land_profiles
from sync.payloads import Document
from sync.settings import Settings

SCHEMA = "raw_history"
FIRST = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SECOND = datetime(2024, 6, 2, 12, 0, tzinfo=UTC)
THIRD = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
UPDATED = "2024-05-01T10:00:00Z"
PEOPLE = [{"id": 1, "fullName": "Ann Agent", "role": "BUYING_AGENT"}]
OTHER_PEOPLE = [{"id": 2, "fullName": "Bo Broker", "role": "LISTING_AGENT"}]
DETAILS = {"Financials": {"Purchase/Sale Price": "650,000"}}
OTHER_DETAILS = {"Financials": {"Purchase/Sale Price": "700,000"}}
VERSIONS = (
    "SELECT kind, entity_id, content_hash, payload, first_seen_at, run_id "
    "FROM {raw}.payload_version ORDER BY 1, 2, 3"
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=Secret(database_url), raw_schema=SCHEMA)


@pytest.fixture
def conn(settings: Settings) -> Iterator[db.Connection]:
    with db.connect(settings) as connection:
        db.apply_schema(connection, settings)
        yield connection


def item(status: str = "UNDER_CONTRACT", details: Any = DETAILS) -> dict[str, Any]:
    found = {"id": 1, "name": "1 Main St", "status": status, "updated": UPDATED}
    return found if details is None else {**found, "details": details}


def land(
    conn: db.Connection,
    page_item: dict[str, Any],
    *,
    now: datetime,
    run_id: int,
    people: list[Any] | None = None,
) -> int:
    result = land_page(
        conn,
        schema=SCHEMA,
        run_id=run_id,
        profile_id=10,
        items=[page_item],
        participants_by_loop={} if people is None else {1: people},
        now=now,
    )
    return result.written


def rows(conn: db.Connection, text: str) -> list[tuple[Any, ...]]:
    statement = sql.SQL(text).format(raw=sql.Identifier(SCHEMA))
    return conn.execute(statement).fetchall()


def history(conn: db.Connection) -> list[tuple[Any, ...]]:
    """(kind, payload, first_seen_at, run_id) of every replaced payload."""
    return rows(
        conn,
        "SELECT kind, payload, first_seen_at, run_id FROM {raw}.payload_history "
        "ORDER BY kind, first_seen_at, entity_id",
    )


def current(conn: db.Connection, kind: str) -> tuple[Any, ...]:
    """(payload, first seen, run) of loop 1's current payload of a kind."""
    found = rows(
        conn,
        f"SELECT {kind}, {kind}_seen_at, {kind}_run_id FROM {{raw}}.loop "
        "WHERE loop_id = 1",
    )
    return found[0]


def test_a_replaced_payload_moves_to_history_and_the_current_stays_once(
    conn: db.Connection,
) -> None:
    land(conn, item(), now=FIRST, run_id=1, people=PEOPLE)

    written = land(conn, item("SOLD", OTHER_DETAILS), now=SECOND, run_id=2)

    assert written == 1
    assert history(conn) == [
        ("details", DETAILS, FIRST, 1),
        ("summary", item(details=None), FIRST, 1),
    ]
    assert current(conn, "summary") == (item("SOLD", None), SECOND, 2)
    assert current(conn, "details") == (OTHER_DETAILS, SECOND, 2)
    assert current(conn, "participants") == (PEOPLE, FIRST, 1)
    both = rows(
        conn,
        "SELECT count(*) FROM {raw}.payload_history AS history "
        "JOIN {raw}.payload_version AS version USING (kind, entity_id, content_hash) "
        "WHERE version.current",
    )
    assert both == [(0,)]
    assert rows(conn, "SELECT count(*) FROM {raw}.payload_version") == [(5,)]


def test_an_unchanged_page_moves_nothing(conn: db.Connection) -> None:
    land(conn, item(), now=FIRST, run_id=1, people=PEOPLE)
    before = rows(conn, VERSIONS)

    written = land(conn, item(), now=SECOND, run_id=2, people=PEOPLE)

    assert written == 0
    assert history(conn) == []
    assert rows(conn, VERSIONS) == before


def test_a_payload_back_at_an_earlier_version_leaves_history(
    conn: db.Connection,
) -> None:
    land(conn, item(), now=FIRST, run_id=1)
    land(conn, item("SOLD"), now=SECOND, run_id=2)

    land(conn, item(), now=THIRD, run_id=3)

    assert history(conn) == [("summary", item("SOLD", None), SECOND, 2)]
    assert current(conn, "summary") == (item(details=None), FIRST, 1)
    assert rows(conn, "SELECT count(*) FROM {raw}.payload_version") == [(3,)]


def replace_participants(conn: db.Connection) -> None:
    land_participants(
        conn,
        schema=SCHEMA,
        run_id=2,
        profile_id=10,
        fetched={1: (UPDATED, OTHER_PEOPLE)},
        now=SECOND,
    )


def replace_details(conn: db.Connection) -> None:
    fetched = {1: (UPDATED, Document.of(OTHER_DETAILS))}
    land_details(conn, schema=SCHEMA, run_id=2, fetched=fetched, now=SECOND)


def replace_details_in_a_page(conn: db.Connection) -> None:
    land(conn, item(details=OTHER_DETAILS), now=SECOND, run_id=2)


@pytest.mark.parametrize(
    ("replace", "kind", "old", "new"),
    [
        (replace_participants, "participants", PEOPLE, OTHER_PEOPLE),
        (replace_details, "details", DETAILS, OTHER_DETAILS),
        (replace_details_in_a_page, "details", DETAILS, OTHER_DETAILS),
    ],
    ids=["participants-apart", "details-apart", "details-in-a-page"],
)
def test_every_writer_keeps_what_it_replaces(
    conn: db.Connection,
    replace: Callable[[db.Connection], None],
    kind: str,
    old: Any,
    new: Any,
) -> None:
    land(conn, item(), now=FIRST, run_id=1, people=PEOPLE)

    replace(conn)

    assert history(conn) == [(kind, old, FIRST, 1)]
    assert current(conn, kind) == (new, SECOND, 2)


def test_a_replaced_profile_moves_to_history(conn: db.Connection) -> None:
    old, new = {"id": 10, "name": "Office"}, {"id": 10, "name": "Main Office"}
    for run_id, (profile, now) in enumerate(((old, FIRST), (new, SECOND)), 1):
        land_profiles(conn, schema=SCHEMA, run_id=run_id, profiles=[profile], now=now)

    assert history(conn) == [("profile", old, FIRST, 1)]
    assert rows(
        conn, "SELECT payload, payload_seen_at, payload_run_id FROM {raw}.profile"
    ) == [(new, SECOND, 2)]


def test_a_profile_back_at_an_earlier_version_leaves_history(
    conn: db.Connection,
) -> None:
    old, new = {"id": 10, "name": "Office"}, {"id": 10, "name": "Main Office"}
    landings = ((old, FIRST), (new, SECOND), (old, THIRD))
    for run_id, (profile, now) in enumerate(landings, 1):
        land_profiles(conn, schema=SCHEMA, run_id=run_id, profiles=[profile], now=now)

    assert history(conn) == [("profile", new, SECOND, 2)]
    assert rows(
        conn, "SELECT payload, payload_seen_at, payload_run_id FROM {raw}.profile"
    ) == [(old, FIRST, 1)]


def waiting_on_a_lock(conn: db.Connection, pid: int) -> None:
    """Return once the backend pid waits for a lock another transaction holds."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        if row is not None and row[0] == "Lock":
            return
        time.sleep(0.01)
    pytest.fail("the second landing never waited for the first")


@pytest.mark.parametrize("stored", [True, False], ids=["stored-loop", "new-loop"])
def test_two_landings_of_one_loop_at_once_lose_no_version(
    settings: Settings, stored: bool
) -> None:
    with (
        db.connect(settings) as first,
        db.connect(settings) as second,
        db.connect(settings) as watcher,
        ThreadPoolExecutor(1) as pool,
    ):
        db.apply_schema(first, settings)
        if stored:
            land(first, item(), now=FIRST, run_id=1)
        pid = second.execute("SELECT pg_backend_pid()").fetchone()
        assert pid is not None
        with first.transaction():
            land(first, item("SOLD"), now=SECOND, run_id=2)
            later = pool.submit(land, second, item("CLOSED"), now=THIRD, run_id=3)
            waiting_on_a_lock(watcher, pid[0])
        later.result(timeout=10)

        replaced = [(kind, payload) for kind, payload, _, _ in history(first)]
        assert current(first, "summary") == (item("CLOSED", None), THIRD, 3)

    earlier = [("summary", item(details=None))] if stored else []
    assert replaced == [*earlier, ("summary", item("SOLD", None))]


# The raw tables that held payloads before each was stored once: every current
# payload was in payload_history as well.
EARLIER_TABLES = """
CREATE SCHEMA {raw};
CREATE TABLE {raw}.profile (
    profile_id bigint PRIMARY KEY,
    payload jsonb NOT NULL,
    fetched_at timestamptz NOT NULL
);
CREATE TABLE {raw}.loop (
    loop_id bigint PRIMARY KEY,
    summary jsonb NOT NULL,
    details jsonb,
    participants jsonb,
    loop_updated text,
    participants_for_updated text,
    first_seen_at timestamptz NOT NULL,
    fetched_at timestamptz NOT NULL,
    removed_at timestamptz
);
CREATE TABLE {raw}.payload_history (
    kind text NOT NULL
        CHECK (kind IN ('profile', 'summary', 'details', 'participants')),
    entity_id bigint NOT NULL,
    content_hash bytea NOT NULL,
    payload jsonb NOT NULL,
    first_seen_at timestamptz NOT NULL,
    run_id bigint,
    PRIMARY KEY (kind, entity_id, content_hash)
);
"""


def earlier_raw_schema(conn: db.Connection) -> None:
    """Loop 1 changed once, loop 2 did not, loop 3 was written by hand."""
    conn.execute(sql.SQL(EARLIER_TABLES).format(raw=sql.Identifier(SCHEMA)))
    profile = {"id": 10, "name": "Office"}
    loops = [
        (1, item("SOLD", None), OTHER_DETAILS, PEOPLE),
        (2, {**item(details=None), "id": 2}, DETAILS, None),
        (3, {**item(details=None), "id": 3}, DETAILS, PEOPLE),
    ]
    versions = [
        ("profile", 10, profile, FIRST, 1),
        ("summary", 1, item(details=None), FIRST, 1),
        ("details", 1, DETAILS, FIRST, 1),
        ("participants", 1, PEOPLE, FIRST, 1),
        ("summary", 1, item("SOLD", None), SECOND, 2),
        ("details", 1, OTHER_DETAILS, SECOND, 2),
        ("summary", 2, loops[1][1], FIRST, 1),
        ("details", 2, DETAILS, FIRST, 1),
    ]
    insert = sql.SQL(
        "INSERT INTO {}.payload_history VALUES (%s, %s, %s, %s::jsonb, %s, %s)"
    ).format(sql.Identifier(SCHEMA))
    for kind, entity_id, payload, seen, run_id in versions:
        document = Document.of(payload)
        conn.execute(
            insert,
            (kind, entity_id, document.content_hash, document.text, seen, run_id),
        )
    conn.execute(
        sql.SQL("INSERT INTO {}.profile VALUES (10, %s::jsonb, %s)").format(
            sql.Identifier(SCHEMA)
        ),
        (Document.of(profile).text, FIRST),
    )
    for loop_id, summary, details, people in loops:
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.loop VALUES "
                "(%s, %s::jsonb, %s::jsonb, %s::jsonb, %s, %s, %s, %s)"
            ).format(sql.Identifier(SCHEMA)),
            (
                loop_id,
                Document.of(summary).text,
                Document.of(details).text,
                None if people is None else Document.of(people).text,
                UPDATED,
                None if people is None else UPDATED,
                FIRST,
                SECOND,
            ),
        )


def apply_again(conn: db.Connection, settings: Settings) -> None:
    """Apply schema.sql although its version is applied already."""
    conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS NULL").format(sql.Identifier(SCHEMA)))
    db.apply_schema(conn, settings)


def test_an_earlier_raw_schema_keeps_every_payload_once(settings: Settings) -> None:
    with db.connect(settings) as conn:
        earlier_raw_schema(conn)
        before = rows(conn, VERSIONS.replace("payload_version", "payload_history"))

        db.apply_schema(conn, settings)
        migrated = rows(conn, VERSIONS)
        apply_again(conn, settings)

        hand_written = [v for v in migrated if v[1] == 3]
        assert [v for v in migrated if v[1] != 3] == before
        assert [(kind, payload) for kind, _, _, payload, _, _ in hand_written] == [
            ("details", DETAILS),
            ("participants", PEOPLE),
            ("summary", {**item(details=None), "id": 3}),
        ]
        assert rows(conn, VERSIONS) == migrated
        assert history(conn) == [
            ("details", DETAILS, FIRST, 1),
            ("summary", item(details=None), FIRST, 1),
        ]
        assert current(conn, "summary") == (item("SOLD", None), SECOND, 2)
        assert current(conn, "participants") == (PEOPLE, FIRST, 1)


def test_landing_after_the_migration_replaces_as_usual(settings: Settings) -> None:
    with db.connect(settings) as conn:
        earlier_raw_schema(conn)
        db.apply_schema(conn, settings)

        unchanged = land(conn, item("SOLD", OTHER_DETAILS), now=THIRD, run_id=3)
        land(conn, {**item("SOLD"), "id": 3}, now=THIRD, run_id=3)
        changed = land(conn, item("CLOSED", OTHER_DETAILS), now=THIRD, run_id=3)

        assert (unchanged, changed) == (0, 1)
        assert history(conn) == [
            ("details", DETAILS, FIRST, 1),
            ("summary", item(details=None), FIRST, 1),
            ("summary", item("SOLD", None), SECOND, 2),
            ("summary", {**item(details=None), "id": 3}, SECOND, None),
        ]
        assert rows(conn, "SELECT count(*) FROM {raw}.payload_version") == [(13,)]
