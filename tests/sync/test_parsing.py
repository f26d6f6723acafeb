"""The SQL parse functions, run in a real Postgres on strings as agents type them."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql

from sync.views import apply_functions

LIB = "reporting_lib"
UTC = datetime.UTC


@pytest.fixture(scope="module")
def conn(postgres_admin_url: str) -> Iterator[psycopg.Connection[Any]]:
    """One database for the module, holding only the helper functions."""
    name = f"dlr_parse_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            with connection.transaction():
                apply_functions(connection, LIB)
            yield connection
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


def call(conn: psycopg.Connection[Any], function: str, value: str | None) -> Any:
    """function(value), the value bound as a parameter."""
    query = sql.SQL("SELECT {}(%s::text)").format(sql.Identifier(LIB, function))
    row = conn.execute(query, (value,)).fetchone()
    assert row is not None
    return row[0]


def call_literal(conn: psycopg.Connection[Any], function: str, value: str) -> Any:
    """function('value') with a literal, which the planner folds at plan time."""
    query = sql.SQL("SELECT {}({}::text)").format(
        sql.Identifier(LIB, function), sql.Literal(value)
    )
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


MONEY = [
    ("650,000", Decimal("650000")),
    ("$735,000.00", Decimal("735000.00")),
    ("$ 1 200", Decimal("1200")),
    ("1200.5", Decimal("1200.5")),
    (" 18000 ", Decimal("18000")),
    ("$0", Decimal("0")),
    ("0", Decimal("0")),
    (".5", Decimal("0.5")),
    ("-50", Decimal("-50")),
    ("1,234,567.89", Decimal("1234567.89")),
    ("9,997.50", Decimal("9997.50")),
    ("650\u00a0000", Decimal("650000")),
    ("", None),
    ("   ", None),
    ("n/a", None),
    ("N/A", None),
    ("TBD", None),
    ("-", None),
    ("--", None),
    ("none", None),
    ("65,00", None),
    ("1.5M", None),
    ("about 450k", None),
    ("$$", None),
    ("12.34.56", None),
    ("1,2345", None),
    ("USD 100", None),
    (None, None),
]


@pytest.mark.parametrize(("value", "expected"), MONEY)
def test_parse_money(
    conn: psycopg.Connection[Any], value: str | None, expected: Decimal | None
) -> None:
    assert call(conn, "parse_money", value) == expected


PERCENT = [
    ("6%", Decimal("0.06")),
    ("6", Decimal("0.06")),
    ("6.0 %", Decimal("0.06")),
    ("0.06", Decimal("0.06")),
    ("50", Decimal("0.5")),
    ("50%", Decimal("0.5")),
    ("100%", Decimal("1")),
    ("2.5", Decimal("0.025")),
    ("1", Decimal("0.01")),
    ("0.5", Decimal("0.5")),
    (".03", Decimal("0.03")),
    ("0", Decimal("0")),
    (" 3 % ", Decimal("0.03")),
    ("", None),
    ("n/a", None),
    ("six", None),
    ("6%%", None),
    ("-3", None),
    ("2,5", None),
    ("%", None),
    (None, None),
]


@pytest.mark.parametrize(("value", "expected"), PERCENT)
def test_parse_percent(
    conn: psycopg.Connection[Any], value: str | None, expected: Decimal | None
) -> None:
    assert call(conn, "parse_percent", value) == expected


DATES = [
    ("03/05/2026", datetime.date(2026, 3, 5)),
    ("3/5/2026", datetime.date(2026, 3, 5)),
    ("3/5/26", datetime.date(2026, 3, 5)),
    ("12/31/99", datetime.date(1999, 12, 31)),
    ("03-05-2026", datetime.date(2026, 3, 5)),
    ("2026-03-05", datetime.date(2026, 3, 5)),
    ("2026-03-05T14:30:00Z", datetime.date(2026, 3, 5)),
    ("March 05, 2017", datetime.date(2017, 3, 5)),
    ("March 5th, 2026", datetime.date(2026, 3, 5)),
    ("march 1st 2026", datetime.date(2026, 3, 1)),
    ("Mar. 5, 2026", datetime.date(2026, 3, 5)),
    ("Sept 22, 2025", datetime.date(2025, 9, 22)),
    ("5 March 2026", datetime.date(2026, 3, 5)),
    ("  01/15/2026 ", datetime.date(2026, 1, 15)),
    ("02/29/2024", datetime.date(2024, 2, 29)),
    ("02/29/2023", None),
    ("02/30/2026", None),
    ("13/01/2026", None),
    ("00/10/2026", None),
    ("04/31/2026", None),
    ("2026-02-30", None),
    ("Smarch 5, 2026", None),
    ("March 32, 2026", None),
    ("03/05/0026", None),
    ("next Tuesday", None),
    ("TBD", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("value", "expected"), DATES)
def test_parse_date(
    conn: psycopg.Connection[Any], value: str | None, expected: datetime.date | None
) -> None:
    assert call(conn, "parse_date", value) == expected


TIMESTAMPS = [
    ("2024-03-06T18:19:58Z", datetime.datetime(2024, 3, 6, 18, 19, 58, tzinfo=UTC)),
    ("2024-03-06T18:19:58", datetime.datetime(2024, 3, 6, 18, 19, 58, tzinfo=UTC)),
    ("2024-03-06 18:19", datetime.datetime(2024, 3, 6, 18, 19, tzinfo=UTC)),
    (
        "2024-03-06T18:19:58.250+02:00",
        datetime.datetime(2024, 3, 6, 16, 19, 58, 250000, tzinfo=UTC),
    ),
    ("2024-03-06T18:19:58-0700", datetime.datetime(2024, 3, 7, 1, 19, 58, tzinfo=UTC)),
    ("2024-13-06T18:19:58Z", None),
    ("2024-03-06T24:00:00Z", None),
    ("2024-03-06T23:60:00Z", None),
    ("2024-02-30T10:00:00Z", None),
    ("yesterday", None),
    ("", None),
]


@pytest.mark.parametrize(("value", "expected"), TIMESTAMPS)
def test_parse_timestamp(
    conn: psycopg.Connection[Any], value: str, expected: datetime.datetime | None
) -> None:
    assert call(conn, "parse_timestamp", value) == expected


TEXT = [
    ("  Denver ", "Denver"),
    ("Cherry  Creek\tDr", "Cherry Creek Dr"),
    ("n/a", None),
    ("", None),
    (" ", None),
    (None, None),
]


@pytest.mark.parametrize(("value", "expected"), TEXT)
def test_parse_text(
    conn: psycopg.Connection[Any], value: str | None, expected: str | None
) -> None:
    assert call(conn, "parse_text", value) == expected


INTEGERS = [("4711", 4711), (" 42 ", 42), ("-7", -7), ("4.5", None), ("x", None)]


@pytest.mark.parametrize(("value", "expected"), INTEGERS)
def test_parse_integer(
    conn: psycopg.Connection[Any], value: str, expected: int | None
) -> None:
    assert call(conn, "parse_integer", value) == expected


STATUSES = [
    ("money_status", "$1,000", "ok"),
    ("money_status", None, "missing"),
    ("money_status", "  ", "missing"),
    ("money_status", "TBD", "placeholder"),
    ("money_status", "-", "placeholder"),
    ("money_status", "1.5M", "unparseable"),
    ("percent_status", "3%", "ok"),
    ("percent_status", "n/a", "placeholder"),
    ("percent_status", "three", "unparseable"),
    ("date_status", "03/05/2026", "ok"),
    ("date_status", "", "missing"),
    ("date_status", "02/30/2026", "unparseable"),
    ("timestamp_status", "2024-03-06T18:19:58Z", "ok"),
    ("timestamp_status", "soon", "unparseable"),
    ("integer_status", "12", "ok"),
    ("integer_status", "twelve", "unparseable"),
    ("text_status", "Denver", "ok"),
    ("text_status", "N/A", "placeholder"),
]


@pytest.mark.parametrize(("function", "value", "expected"), STATUSES)
def test_status_says_why_a_value_was_left_out(
    conn: psycopg.Connection[Any], function: str, value: str | None, expected: str
) -> None:
    assert call(conn, function, value) == expected


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("money", "1.5M", {"label": "L", "parse": "money", "value": "1.5M"}),
        ("money", "1,500,000", None),
        ("money", "n/a", None),
        ("date", "02/30/2026", {"label": "L", "parse": "date", "value": "02/30/2026"}),
        ("date", None, None),
    ],
)
def test_unreadable_describes_only_unparseable_values(
    conn: psycopg.Connection[Any],
    kind: str,
    value: str | None,
    expected: dict[str, str] | None,
) -> None:
    query = sql.SQL("SELECT {}('L', %s, %s, {}(%s::text) IS NOT NULL)").format(
        sql.Identifier(LIB, "unreadable"), sql.Identifier(LIB, f"parse_{kind}")
    )
    row = conn.execute(query, (kind, value, value)).fetchone()

    assert row == (expected,)


# Inputs that break naive parsers: huge numbers, odd unicode, SQL, regex bait.
HOSTILE = [
    "9" * 400,
    "$" + "9" * 40,
    "1" + ",000" * 50,
    "99/99/9999",
    "2026-99-99",
    "0/0/0",
    "February 30th, 2026",
    "'; DROP TABLE loop; --",
    "(.*)+$",
    "\u202e650,000",
    "\uff16\uff15\uff10",
    "NaN",
    "Infinity",
    "1e10",
    "%%%",
]

PARSERS = [
    "parse_money",
    "parse_percent",
    "parse_date",
    "parse_timestamp",
    "parse_integer",
    "parse_text",
    "money_status",
    "percent_status",
    "date_status",
]


@pytest.mark.parametrize("function", PARSERS)
@pytest.mark.parametrize("value", HOSTILE)
def test_parsers_never_raise(
    conn: psycopg.Connection[Any], function: str, value: str
) -> None:
    call(conn, function, value)
    call_literal(conn, function, value)


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        ("parse_date", "02/30/2026", None),
        ("parse_date", "13/13/2026", None),
        ("parse_money", "65,00", None),
        ("parse_timestamp", "2024-02-30T10:00:00Z", None),
    ],
)
def test_constants_fold_without_raising(
    conn: psycopg.Connection[Any], function: str, value: str, expected: Any
) -> None:
    assert call_literal(conn, function, value) == expected


def test_functions_are_immutable_and_parallel_safe(
    conn: psycopg.Connection[Any],
) -> None:
    rows = conn.execute(
        """
        SELECT p.proname, p.provolatile, p.proparallel
        FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname = %s
        """,
        (LIB,),
    ).fetchall()

    assert len(rows) >= 10
    # period_anchor() reads the anchor setting and today's date, so it can only
    # be STABLE; every parse function must be IMMUTABLE to be indexable.
    volatility = {name: (volatile, parallel) for name, volatile, parallel in rows}
    assert volatility.pop("period_anchor") == ("s", "s")
    assert [r for r in volatility.items() if r[1] != ("i", "s")] == []
