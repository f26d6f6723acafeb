"""Postgres arrays in their binary wire format, built before they are sent.

psycopg dumps a list element by element in Python when the statement is
executed. A landing page binds eight arrays of a hundred elements, so building
their wire form ahead, where the page is prepared (possibly on another thread
while Postgres lands the previous page), takes that work off the path between
two statements. Bind the result with a binary placeholder (`%(name)b`).

>>> text_array([b"a", None]).data.hex()
'00000001000000010000001900000002000000010000000161ffffffff'
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import psycopg
from psycopg import pq
from psycopg.adapt import Dumper

# Element and array type oids (pg_type).
_TEXT, _TEXT_ARRAY = 25, 1009
_BYTEA, _BYTEA_ARRAY = 17, 1001
_INT8, _INT8_ARRAY = 20, 1016

# ndim, has nulls, element oid, length, lower bound.
_HEADER = struct.Struct("!iiiii")
_LENGTH = struct.Struct("!i")
_NULL = _LENGTH.pack(-1)
_INT8_ELEMENT = struct.Struct("!iq")


class BinaryArray:
    """A one-dimensional array already in binary wire format."""

    __slots__ = ("data",)
    # The array type, which the dumper registered for the class sends.
    oid = 0

    def __init__(self, data: bytes) -> None:
        self.data = data


class _TextArray(BinaryArray):
    oid = _TEXT_ARRAY


class _ByteaArray(BinaryArray):
    oid = _BYTEA_ARRAY


class _Int8Array(BinaryArray):
    oid = _INT8_ARRAY


def text_array(values: Sequence[bytes | None]) -> BinaryArray:
    """A text[] of UTF-8 encoded strings (None for NULL)."""
    return _TextArray(_varlena(values, _TEXT))


def bytea_array(values: Sequence[bytes | None]) -> BinaryArray:
    """A bytea[] (None for NULL)."""
    return _ByteaArray(_varlena(values, _BYTEA))


def int8_array(values: Sequence[int]) -> BinaryArray:
    """A bigint[] without NULLs."""
    header = _HEADER.pack(1, 0, _INT8, len(values), 1)
    return _Int8Array(
        header + b"".join(_INT8_ELEMENT.pack(8, value) for value in values)
    )


def _varlena(values: Sequence[bytes | None], element_oid: int) -> bytes:
    parts: list[bytes] = []
    has_null = 0
    for value in values:
        if value is None:
            parts.append(_NULL)
            has_null = 1
        else:
            parts.append(_LENGTH.pack(len(value)))
            parts.append(value)
    return _HEADER.pack(1, has_null, element_oid, len(values), 1) + b"".join(parts)


def _dumper(array: type[BinaryArray]) -> type[Dumper]:
    """A dumper that sends the class's arrays as they are, typed by its oid."""

    class ArrayDumper(Dumper):
        format = pq.Format.BINARY
        oid = array.oid

        def dump(self, obj: BinaryArray) -> bytes:
            return obj.data

    return ArrayDumper


for _array in (_TextArray, _ByteaArray, _Int8Array):
    psycopg.adapters.register_dumper(_array, _dumper(_array))
