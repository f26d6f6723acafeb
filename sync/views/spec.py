"""Dataset specs: the YAML files under datasets/, read and checked.

A spec describes one reporting view: its name, what it is, where its rows
come from and each column with its type, its description and how it is
derived. Every problem raises ViewSpecError naming the file and the key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ViewSpecError

logger = logging.getLogger(__name__)

# How a detail or summary string is read; each names SQL functions
# parse_<kind> and <kind>_status in the helper schema.
PARSE_KINDS = ("text", "money", "percent", "date", "timestamp", "integer")

# Declared column types; every column is cast to its type.
COLUMN_TYPES = (
    "bigint",
    "boolean",
    "date",
    "integer",
    "jsonb",
    "numeric",
    "text",
    "text[]",
    "timestamptz",
)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VIEW_KEYS = (
    "view",
    "description",
    "source",
    "joins",
    "where",
    "group_by",
    "columns",
    "union",
    "materialize",
)
_MATERIALIZE_KEYS = ("indexes", "rebuild_by", "rebuild_from")
_COLUMN_KEYS = (
    "name",
    "type",
    "description",
    "sql",
    "detail",
    "summary",
    "parse",
    "unparsed",
    "over_rows",
)
_DERIVATIONS = ("sql", "detail", "summary", "unparsed")
_PART_KEYS = ("source", "joins", "where", "group_by", "values")


@dataclass(frozen=True)
class Query:
    """The FROM, WHERE and GROUP BY of one SELECT, as SQL text from the spec.

    With group_by, the columns not grouped by are aggregates.
    """

    source: str
    joins: tuple[str, ...] = ()
    where: str | None = None
    group_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its name, type, description and derivation.

    Exactly one of sql, detail, summary or unparsed is set, except in a
    union view, where each part gives the column's SQL. An over_rows column
    is computed over the rows the other columns make (window functions
    across loops), its SQL naming those columns.
    """

    name: str
    type: str
    description: str
    key: str
    sql: str | None = None
    detail: tuple[str, str] | None = None
    summary: str | None = None
    parse: str = "text"
    unparsed: tuple[str, ...] | None = None
    over_rows: bool = False

    @property
    def is_parsed_field(self) -> bool:
        """Whether the column reads a detail or summary string."""
        return self.detail is not None or self.summary is not None


@dataclass(frozen=True)
class UnionPart:
    """One SELECT of a union view: its rows and each column's SQL."""

    query: Query
    values: Mapping[str, str]
    key: str


@dataclass(frozen=True)
class Materialize:
    """How a view is also kept as a fast table in the reporting schema.

    The refresh replaces the rows of each changed loop; a view whose rows
    depend on other loops (a window over an agent's loops) names the column
    whose values are rebuilt whole (rebuild_by) and where the values touched
    by the changed loops are found (rebuild_from: view and column, read after
    that view's own refresh, besides this table's old rows). A table without
    loop_id, whose rows add up several loops, reads rebuild_from before any
    table is refreshed too. With rebuild_rows_of instead, the keys (one or
    more columns) are those of the rows this refresh wrote in that fast
    table, as they were and are: a night touching every agent then rebuilds
    only the agents' months that moved.
    """

    indexes: tuple[tuple[str, ...], ...] = ()
    rebuild_by: tuple[str, ...] = ("loop_id",)
    rebuild_from: tuple[str, str] | None = None
    rebuild_rows_of: str | None = None

    @property
    def key(self) -> str:
        """The rebuild column of a table rebuilt by one column."""
        return self.rebuild_by[0]


@dataclass(frozen=True)
class ViewSpec:
    """A reporting view as its spec file declares it."""

    name: str
    description: str
    path: Path
    columns: tuple[ColumnSpec, ...]
    query: Query | None = None
    union: tuple[UnionPart, ...] = ()
    materialize: Materialize | None = None

    def error(self, key: str, message: str) -> ViewSpecError:
        """A ViewSpecError naming this spec's file and the key at fault."""
        return ViewSpecError(f"{self.path.name}: {key}: {message}")

    def column(self, name: str) -> ColumnSpec | None:
        """The column of that name, if the view has one."""
        return next((c for c in self.columns if c.name == name), None)


def load_specs(directory: Path) -> list[ViewSpec]:
    """Every spec under the directory (*.yaml), in file name order."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise ViewSpecError(f"{directory}: no dataset specs (*.yaml) found")
    specs = [load_spec(path) for path in paths]
    logger.debug("loaded %d dataset specs from %s", len(specs), directory)
    return specs


def load_spec(path: Path) -> ViewSpec:
    """Read and check one spec file."""
    try:
        document = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ViewSpecError(f"{path.name}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ViewSpecError(f"{path.name}: is not valid YAML: {exc}") from exc
    return _Reader(path).view(document)


class _Reader:
    """Checks one parsed YAML document; knows the file for messages."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> ViewSpecError:
        return ViewSpecError(f"{self.path.name}: {key}: {message}")

    def view(self, document: Any) -> ViewSpec:
        data = self.mapping(document, "(top level)", _VIEW_KEYS)
        name = self.name(data.get("view"), "view")
        if name != self.path.stem:
            raise self.fail("view", f"must be {self.path.stem!r}, as the file")
        union = self.union(data)
        columns = self.columns(data.get("columns"), union=bool(union))
        spec = ViewSpec(
            name=name,
            description=self.prose(data.get("description"), "description"),
            path=self.path,
            columns=columns,
            query=None if union else self.query(data, ""),
            union=union,
            materialize=self.materialize(data.get("materialize"), columns),
        )
        self.check_unparsed(spec)
        self.check_union_values(spec)
        self.check_over_rows(spec)
        return spec

    def query(self, data: Mapping[str, Any], prefix: str) -> Query:
        joins = data.get("joins", [])
        if not isinstance(joins, list):
            raise self.fail(f"{prefix}joins", "must be a list of JOIN clauses")
        where = data.get("where")
        group_by = data.get("group_by", [])
        if not isinstance(group_by, list):
            raise self.fail(f"{prefix}group_by", "must be a list of SQL expressions")
        return Query(
            source=self.text(data.get("source"), f"{prefix}source"),
            joins=tuple(
                self.text(join, f"{prefix}joins[{i}]") for i, join in enumerate(joins)
            ),
            where=None if where is None else self.text(where, f"{prefix}where"),
            group_by=tuple(
                self.text(item, f"{prefix}group_by[{i}]")
                for i, item in enumerate(group_by)
            ),
        )

    def materialize(
        self, value: Any, columns: tuple[ColumnSpec, ...]
    ) -> Materialize | None:
        if value is None or value is False:
            return None
        data: Mapping[str, Any] = (
            {}
            if value is True
            else self.mapping(value, "materialize", _MATERIALIZE_KEYS)
        )
        names = {c.name for c in columns}
        indexes = data.get("indexes", [])
        if not isinstance(indexes, list):
            raise self.fail("materialize.indexes", "must be a list of column lists")
        rebuild_by = self.rebuild_by(data.get("rebuild_by", "loop_id"))
        if "loop_id" not in names and rebuild_by == ("loop_id",):
            raise self.fail(
                "materialize",
                "a fast table needs a loop_id column, or rebuild_by and rebuild_from",
            )
        for column in (*rebuild_by, *(c for index in indexes for c in index)):
            if column not in names:
                raise self.fail("materialize", f"{column!r} is not a column")
        source = data.get("rebuild_from")
        rows_of = self.rebuild_rows_of(source, rebuild_by)
        return Materialize(
            indexes=tuple(self.index(index) for index in indexes),
            rebuild_by=rebuild_by,
            rebuild_from=None if rows_of else self.rebuild_from(source, rebuild_by),
            rebuild_rows_of=rows_of,
        )

    def rebuild_by(self, value: Any) -> tuple[str, ...]:
        """One column, or a list of them rebuilt together (rebuild_from a table)."""
        if isinstance(value, list) and value:
            return tuple(self.name(c, "materialize.rebuild_by") for c in value)
        return (self.name(value, "materialize.rebuild_by"),)

    def rebuild_rows_of(self, value: Any, rebuild_by: tuple[str, ...]) -> str | None:
        """The fast table whose written rows give the keys: rebuild_from alone."""
        if isinstance(value, str) and "." not in value:
            return self.name(value.strip(), "materialize.rebuild_from")
        if len(rebuild_by) > 1:
            raise self.fail(
                "materialize.rebuild_from",
                "several rebuild_by columns take their keys from a fast table's rows: "
                "name the table alone",
            )
        return None

    def index(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail("materialize.indexes", "each index is a list of columns")
        return tuple(self.name(c, "materialize.indexes") for c in value)

    def rebuild_from(
        self, value: Any, rebuild_by: tuple[str, ...]
    ) -> tuple[str, str] | None:
        if value is None:
            if rebuild_by != ("loop_id",):
                raise self.fail("materialize.rebuild_from", "needed with rebuild_by")
            return None
        parts = self.text(value, "materialize.rebuild_from").split(".")
        if len(parts) != 2:
            raise self.fail("materialize.rebuild_from", "must be <view>.<column>")
        view, column = (self.name(p, "materialize.rebuild_from") for p in parts)
        return view, column

    def union(self, data: Mapping[str, Any]) -> tuple[UnionPart, ...]:
        parts = data.get("union")
        if parts is None:
            return ()
        for key in ("source", "joins", "where", "group_by"):
            if key in data:
                raise self.fail(key, "a union view gives it in each part")
        if not isinstance(parts, list) or not parts:
            raise self.fail("union", "must be a non-empty list of parts")
        return tuple(
            self.union_part(part, f"union[{i}]") for i, part in enumerate(parts)
        )

    def union_part(self, part: Any, key: str) -> UnionPart:
        data = self.mapping(part, key, _PART_KEYS)
        values = self.mapping(data.get("values"), f"{key}.values", None)
        return UnionPart(
            query=self.query(data, f"{key}."),
            values={
                str(name): self.text(sql, f"{key}.values.{name}")
                for name, sql in values.items()
            },
            key=key,
        )

    def columns(self, value: Any, *, union: bool) -> tuple[ColumnSpec, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail("columns", "must be a non-empty list of columns")
        columns = tuple(
            self.column(item, f"columns[{i}]", union=union)
            for i, item in enumerate(value)
        )
        seen: set[str] = set()
        for column in columns:
            if column.name in seen:
                raise self.fail(column.key, f"column {column.name!r} is declared twice")
            seen.add(column.name)
        return columns

    def column(self, item: Any, key: str, *, union: bool) -> ColumnSpec:
        data = self.mapping(item, key, _COLUMN_KEYS)
        name = self.name(data.get("name"), f"{key}.name")
        key = f"columns.{name}"
        column_type = data.get("type")
        if column_type not in COLUMN_TYPES:
            raise self.fail(
                f"{key}.type",
                f"{column_type!r} is not one of {', '.join(COLUMN_TYPES)}",
            )
        derivations = [d for d in _DERIVATIONS if d in data]
        self.check_derivation(derivations, key, union=union)
        if "parse" in data and not {"detail", "summary"} & set(derivations):
            raise self.fail(f"{key}.parse", "only a detail or summary field is parsed")
        return ColumnSpec(
            name=name,
            type=str(column_type),
            description=self.prose(data.get("description"), f"{key}.description"),
            key=key,
            sql=self.optional_text(data, "sql", key),
            detail=self.detail(data.get("detail"), key),
            summary=self.optional_text(data, "summary", key),
            parse=self.parse(data.get("parse", "text"), key),
            unparsed=self.unparsed(data.get("unparsed"), key),
            over_rows=self.over_rows(data, key),
        )

    def check_derivation(
        self, derivations: list[str], key: str, *, union: bool
    ) -> None:
        if union and derivations:
            raise self.fail(
                f"{key}.{derivations[0]}", "a union view gives columns in each part"
            )
        if not union and len(derivations) != 1:
            raise self.fail(key, f"needs exactly one of {', '.join(_DERIVATIONS)}")

    def over_rows(self, data: Mapping[str, Any], key: str) -> bool:
        value = data.get("over_rows", False)
        if not isinstance(value, bool):
            raise self.fail(f"{key}.over_rows", "must be true or false")
        if value and "sql" not in data:
            raise self.fail(f"{key}.over_rows", "only an sql column is over rows")
        return value

    def detail(self, value: Any, key: str) -> tuple[str, str] | None:
        if value is None:
            return None
        if not (isinstance(value, list) and len(value) == 2):
            raise self.fail(f"{key}.detail", "must be [Section, Field label]")
        section, label = (self.text(v, f"{key}.detail") for v in value)
        return section, label

    def parse(self, value: Any, key: str) -> str:
        if value not in PARSE_KINDS:
            raise self.fail(
                f"{key}.parse", f"{value!r} is not one of {', '.join(PARSE_KINDS)}"
            )
        return str(value)

    def unparsed(self, value: Any, key: str) -> tuple[str, ...] | None:
        if value is None:
            return None
        if value == "all":
            return ("all",)
        if isinstance(value, list) and value:
            return tuple(self.name(v, f"{key}.unparsed") for v in value)
        raise self.fail(f"{key}.unparsed", "must be 'all' or a list of column names")

    def check_unparsed(self, spec: ViewSpec) -> None:
        for column in spec.columns:
            for name in column.unparsed or ():
                if name == "all":
                    continue
                target = spec.column(name)
                if target is None or not target.is_parsed_field:
                    raise self.fail(
                        f"{column.key}.unparsed",
                        f"{name!r} is not a detail or summary column of this view",
                    )
                if target.parse == "text":
                    raise self.fail(
                        f"{column.key}.unparsed", f"{name!r} is text, never unparseable"
                    )

    def check_over_rows(self, spec: ViewSpec) -> None:
        over = [column for column in spec.columns if column.over_rows]
        if not over:
            return
        if spec.query is None or spec.query.group_by:
            raise self.fail(
                f"{over[0].key}.over_rows", "needs a single-source view, ungrouped"
            )
        materialize = spec.materialize
        if materialize is not None and materialize.rebuild_by != ("loop_id",):
            # The refresh replaces the changed loops' rows, then works the
            # over_rows columns out again for the partitions they are in.
            raise self.fail(
                "materialize.rebuild_by", "must be loop_id with over_rows columns"
            )

    def check_union_values(self, spec: ViewSpec) -> None:
        names = {c.name for c in spec.columns}
        for part in spec.union:
            unknown = sorted(set(part.values) - names)
            if unknown:
                raise self.fail(
                    f"{part.key}.values.{unknown[0]}", "is not a column of this view"
                )

    def mapping(
        self, value: Any, key: str, allowed: tuple[str, ...] | None
    ) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        if allowed is not None:
            unknown = sorted(str(k) for k in value if k not in allowed)
            if unknown:
                raise self.fail(
                    key,
                    f"unknown key {unknown[0]!r} (expected {', '.join(allowed)})",
                )
        return value

    def name(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            raise self.fail(key, f"{value!r} is not a lower-case SQL name")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value.strip()

    def prose(self, value: Any, key: str) -> str:
        # Folded YAML keeps line breaks and indentation; SQL Lab shows one line.
        return " ".join(self.text(value, key).split())

    def optional_text(self, data: Mapping[str, Any], name: str, key: str) -> str | None:
        value = data.get(name)
        return None if value is None else self.text(value, f"{key}.{name}")
