"""Canonical JSON from the fast encoder, and arrays sent in binary wire form."""

from __future__ import annotations

import doctest
import json
from typing import Any

import psycopg
import pytest

import sync.arrays
from sync.arrays import bytea_array, int8_array, text_array
from sync.payloads import Document, UnusablePayload, canonical_json

# The canonical form is the standard library's, so a payload keeps the hash
# it had before the faster encoder came in.
STANDARD = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1, "é"], "": None},
        {"tiny": 0.00001, "tinier": 6.26703014325946e-05, "e": 2.5e-9},
        {"large": 1e16, "huge": 1.5e300, "negative zero": -0.0, "whole": 100.0},
        {"beyond 64 bits": 2**70, "min": -(2**63)},
        {"text with e-5 and null": "e-5 null 0.00001"},
        {"control": "tab\there\x7f\u2028", "emoji": "😀", "quote": '"\\'},
        {"nested": {"z": [{"b": [], "a": {}}], "a": True, "m": False}},
        [1, 2.5, "three", None, [], {}],
        {"1": "string key", "2": "sorted as text", "10": "before 2"},
    ],
    ids=[
        "sorted-keys",
        "tiny-floats",
        "large-floats",
        "big-ints",
        "look-alike-text",
        "escapes",
        "nested",
        "list",
        "numeric-keys",
    ],
)
def test_canonical_json_is_the_standard_librarys(value: Any) -> None:
    assert canonical_json(value) == STANDARD.encode(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"price": float("nan")}, "not representable as JSON"),
        ({"price": [1.0, float("inf")]}, "not representable as JSON"),
        ({"name": "\ud800"}, "surrogate"),
        ({"when": object()}, "not representable as JSON"),
        ({"name": "NUL \u0000 inside"}, "NUL"),
    ],
    ids=["nan", "infinity", "surrogate", "object", "nul"],
)
def test_what_postgres_cannot_hold_is_refused(value: Any, reason: str) -> None:
    with pytest.raises(UnusablePayload, match=reason):
        Document.of(value)


def test_non_string_keys_are_written_as_the_standard_library_writes_them() -> None:
    value = {10: "ten", 2: "two", 2.5: "two and a half"}

    assert canonical_json(value) == STANDARD.encode(value)
    assert canonical_json(value) == '{"2":"two","2.5":"two and a half","10":"ten"}'


def test_the_examples_in_docstrings_hold() -> None:
    failures, attempted = doctest.testmod(sync.arrays)

    assert (failures, attempted > 0) == (0, True)


def test_binary_arrays_arrive_as_the_values_they_hold(database_url: str) -> None:
    texts = [b"plain", None, "é😀".encode(), b""]
    blobs = [bytes(range(256)), None, b""]
    numbers = [0, -(2**63), 2**63 - 1, 42]

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT %(t)b, %(b)b, %(n)b, pg_typeof(%(t)b)::text, "
            "pg_typeof(%(b)b)::text, pg_typeof(%(n)b)::text",
            {"t": text_array(texts), "b": bytea_array(blobs), "n": int8_array(numbers)},
        ).fetchone()

    assert row is not None
    assert row[0] == ["plain", None, "é😀", ""]
    assert row[1] == blobs
    assert row[2] == numbers
    assert row[3:] == ("text[]", "bytea[]", "bigint[]")


def test_empty_arrays_are_empty(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT cardinality(%s::text[]), cardinality(%s::bigint[])",
            (text_array([]), int8_array([])),
        ).fetchone()

    assert row == (0, 0)
