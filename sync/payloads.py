"""Validation of Dotloop payloads and their canonical, hashable JSON form."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from psycopg.types.json import Jsonb

# A NUL escape that is not itself escaped: jsonb cannot hold U+0000.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class UnusablePayload(ValueError):
    """A payload that cannot be landed; the message is the quarantine reason."""


@dataclass(frozen=True)
class InvalidPayload:
    """A response that could not be used: why, and its bytes as received."""

    reason: str
    raw: bytes


@dataclass(frozen=True)
class Document:
    """A JSON value in canonical text (UTF-8), and the hash that identifies it."""

    encoded: bytes
    content_hash: bytes

    @classmethod
    def of(cls, value: Any) -> Document:
        """Serialise canonically; raise UnusablePayload if Postgres cannot hold it."""
        encoded = canonical_bytes(value)
        # One byte is found with memchr, several times faster than the escape.
        if b"\\" in encoded and _NUL_ESCAPE.search(encoded):
            raise UnusablePayload("contains a NUL character, which jsonb cannot hold")
        return cls(encoded, hashlib.sha256(encoded).digest())

    @property
    def text(self) -> str:
        """The canonical JSON text."""
        return self.encoded.decode("utf-8")

    def jsonb(self) -> Jsonb:
        """Bind the already serialised text as jsonb without dumping it again."""
        return Jsonb(self.text, dumps=_as_is)


@dataclass(frozen=True)
class LoopItem:
    """A list item that passed validation, split into what the raw tables hold."""

    loop_id: int
    updated_text: str
    updated: datetime
    summary: Document
    details: Document | None


@dataclass(frozen=True)
class Rejection:
    """A list item that failed validation, traced to its loop when possible."""

    reason: str
    raw: bytes
    loop_id: int | None


# The canonical form is the standard library's: sorted keys, compact
# separators, no ASCII escaping, no NaN. One encoder serves every document:
# json.dumps() with options builds a new one per call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# orjson writes the same text some ten times faster, except that it writes
# NaN and infinities as null, and floats below 1e-4 in another notation
# ("1e-5" or "0.00001" where the standard library writes "1e-05"). Output
# that could hold either goes through the standard encoder, so a payload's
# hash never depends on which encoder produced its text.


def canonical_json(value: Any) -> str:
    """The JSON text hashed for history: sorted keys, compact separators.

    >>> canonical_json({"b": 1, "a": [1, "é"]})
    '{"a":[1,"é"],"b":1}'
    >>> canonical_json({"tiny": 0.00001, "none": None})
    '{"none":null,"tiny":1e-05}'
    """
    return canonical_bytes(value).decode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    """canonical_json() encoded as UTF-8, computed in one pass where possible."""
    try:
        encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        # Integers beyond 64 bits, non-string keys, surrogates, other types:
        # the standard encoder says what it makes of them.
        return _standard_bytes(value)
    if (
        b"null" in encoded or b"e-" in encoded or b"0.0000" in encoded
    ) and _has_odd_float(value):
        return _standard_bytes(value)
    return encoded


def _standard_bytes(value: Any) -> bytes:
    try:
        text = _CANONICAL.encode(value)
    except (TypeError, ValueError) as exc:
        raise UnusablePayload(f"not representable as JSON: {exc}") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnusablePayload("contains an unpaired UTF-16 surrogate") from None


def _has_odd_float(value: Any) -> bool:
    """Whether value holds a float orjson writes unlike the standard library."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            if not math.isfinite(item) or (item != 0 and abs(item) < 1e-4):
                return True
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def raw_bytes(value: Any) -> bytes:
    """A JSON value as bytes for quarantine, whatever it holds.

    >>> raw_bytes({"id": float("nan")})
    b'{"id": NaN}'
    """
    return json.dumps(value, default=repr).encode("utf-8", "backslashreplace")


def parse_updated(value: Any) -> datetime:
    """An ISO 8601 "updated" value as an aware UTC datetime; naive means UTC.

    >>> parse_updated("2024-03-05T17:04:11Z").isoformat()
    '2024-03-05T17:04:11+00:00'
    >>> parse_updated("2024-03-05T10:04:11-07:00").isoformat()
    '2024-03-05T17:04:11+00:00'
    """
    if not isinstance(value, str):
        raise UnusablePayload(f'"updated" is {type(value).__name__}, not a string')
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UnusablePayload(f'"updated" is not ISO 8601: {value[:40]!r}') from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_id(value: Any, key: str = "id") -> int:
    """An integer id, also when the API sends it as a string of digits.

    >>> parse_id("42"), parse_id(42)
    (42, 42)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise UnusablePayload(f'"{key}" is not an integer: {str(value)[:40]!r}')


def parse_item(item: Any) -> LoopItem:
    """Validate one loop list item; raise UnusablePayload saying why it is not."""
    if not isinstance(item, dict):
        raise UnusablePayload(f"loop item is {type(item).__name__}, not an object")
    loop_id = parse_id(item.get("id"))
    updated = parse_updated(item.get("updated"))
    details = item.get("details")
    if details is not None:
        _check_details(details)
    summary = dict(item)
    summary.pop("details", None)
    return LoopItem(
        loop_id=loop_id,
        updated_text=item["updated"],
        updated=updated,
        summary=Document.of(summary),
        details=None if details is None else Document.of(details),
    )


@dataclass(frozen=True)
class ParsedPage:
    """A list page split into valid loops (one per id) and rejected items."""

    loops: list[LoopItem]
    rejected: list[Rejection]


def parse_page(items: Iterable[Any]) -> ParsedPage:
    """Validate a page's items; the last of each id wins, page order is kept."""
    valid: dict[int, LoopItem] = {}
    rejected: list[Rejection] = []
    for item in items:
        try:
            parsed = parse_item(item)
        except UnusablePayload as exc:
            rejected.append(Rejection(str(exc), raw_bytes(item), _loose_id(item)))
            continue
        valid.pop(parsed.loop_id, None)
        valid[parsed.loop_id] = parsed
    return ParsedPage(list(valid.values()), rejected)


def parse_details(value: Any) -> Document:
    """Validate a details object (the detail endpoint's data); raise if unusable."""
    _check_details(value)
    return Document.of(value)


def parse_participants(value: Any) -> Document:
    """Validate a participant array; raise UnusablePayload saying why not."""
    if not isinstance(value, list):
        raise UnusablePayload(f"participants are {type(value).__name__}, not a list")
    if not all(isinstance(participant, dict) for participant in value):
        raise UnusablePayload("a participant is not an object")
    return Document.of(value)


def parse_profile(profile: Any) -> tuple[int, Document]:
    """A GET /profile item's id and document; raise UnusablePayload if unusable."""
    if not isinstance(profile, dict):
        raise UnusablePayload(f"profile is {type(profile).__name__}, not an object")
    return parse_id(profile.get("id")), Document.of(profile)


def _as_is(text: Any) -> str:
    return str(text)


def _loose_id(item: Any) -> int | None:
    # Best effort, so a quarantined item can still be traced to its loop.
    if not isinstance(item, dict):
        return None
    try:
        return parse_id(item.get("id"))
    except UnusablePayload:
        return None


def _check_details(details: Any) -> None:
    if not isinstance(details, dict):
        raise UnusablePayload(f'"details" is {type(details).__name__}, not an object')
    for section, fields in details.items():
        if not isinstance(fields, dict):
            raise UnusablePayload(f"details section {section[:40]!r} is not an object")
