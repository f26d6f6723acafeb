"""Reporting views built from their specs as sqlglot expressions.

Each spec is built twice. In the helper schema it is a view that parses the
stored payloads whenever it is read (the definition of record). In the
reporting schema it is a view too, unless the spec says `materialize`: then
it is a table with indexes, filled by the same SELECT reading the reporting
objects it depends on, and kept current by refresh_reporting().
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError

from ..brokerage import config_tables
from ..settings import Settings
from .expressions import Resolver, Schemas, parse_statement, render
from .library import function_names, lib_schema
from .spec import ColumnSpec, Materialize, UnionPart, ViewSpec, load_specs

logger = logging.getLogger(__name__)

_RAW_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS \{raw\}\.(\w+)")
_SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.sql"

# jsonb_build_object() takes at most 100 arguments; build in slices of pairs.
_PAIRS_PER_OBJECT = 40

# The alias of the rows over_rows columns are computed over.
_ROWS = "_rows"

# The temporary table of keys a refresh rebuilds a table by, when they come
# from another fast table's written rows (materialize.rebuild_from a table).
REBUILD_KEYS = "refresh_keys"


@dataclass(frozen=True)
class ViewColumn:
    """A column of a built view, as analysts see it."""

    name: str
    type: str
    description: str


@dataclass(frozen=True)
class ViewSql:
    """One object's SQL: CREATE VIEW (or TABLE and its indexes), then COMMENTs.

    A fast table (materialize set) also has `fill`, the INSERT that loads it
    whole; `select` is the query behind the view or the table. config_reads
    names the config tables the SQL reads itself (not through other views).
    A table with over_rows columns has `row_select`, its rows with those
    columns NULL, and `settle_select`, which works them out over the table's
    own rows (ctid as row_id, the values stored now as stored_<column>);
    settle_key is a column every window of theirs partitions by, so whole
    partitions are worked out by its values. A table rebuilt by the rows
    another one wrote has `rebuild_select`, its SELECT for the keys in the
    REBUILD_KEYS table only.
    """

    name: str
    schema: str
    description: str
    spec_file: str
    columns: tuple[ViewColumn, ...]
    depends_on: tuple[str, ...]
    config_reads: tuple[str, ...]
    create: str
    comments: tuple[str, ...]
    select: str = ""
    # Whether the rows depend on the configuration, here or in a view read.
    reads_config: bool = False
    materialize: Materialize | None = None
    indexes: tuple[str, ...] = ()
    fill: str = ""
    # Whether no two rows are alike (the spec groups): the refresh then
    # writes only rows that changed.
    distinct_rows: bool = False
    over_rows: tuple[str, ...] = ()
    row_select: str = ""
    settle_select: str = ""
    settle_key: str = ""
    rebuild_select: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def is_table(self) -> bool:
        return self.materialize is not None

    @property
    def has_loop_id(self) -> bool:
        """Whether each row is of one loop; else it adds up several."""
        return any(column.name == "loop_id" for column in self.columns)

    @property
    def statements(self) -> tuple[str, ...]:
        """The statements that create the object, in order, without terminators."""
        return (self.create, *self.indexes, *self.comments)

    @property
    def sql(self) -> str:
        """A script for the object, headed by where it comes from."""
        header = (
            f"-- {self.qualified_name}: generated from datasets/{self.spec_file}; "
            "edit the spec, not this SQL."
        )
        statements = self.statements + ((self.fill,) if self.fill else ())
        body = "\n\n".join(f"{statement};" for statement in statements)
        return f"{header}\n{body}\n"


def schemas_of(settings: Settings) -> Schemas:
    """The schema names the views are built against."""
    return Schemas(
        raw=settings.raw_schema,
        reporting=settings.reporting_schema,
        lib=lib_schema(settings),
        config=settings.config_schema,
    )


@functools.cache
def raw_tables() -> frozenset[str]:
    """Tables of the raw schema, as sync/schema.sql creates them."""
    return frozenset(_RAW_TABLE.findall(_SCHEMA_FILE.read_text("utf-8")))


def build_views(
    settings: Settings, datasets_dir: Path | None = None, *, parsing: bool = False
) -> list[ViewSql]:
    """Every reporting object of the specs, dependencies first.

    With parsing, the helper schema's views instead: every spec a view that
    parses the payloads when read, reading the other helper views. Built
    once per content of the spec files: the refresh after every sync asks
    again, and building takes seconds.
    """
    directory = datasets_dir or settings.datasets_dir
    schemas = schemas_of(settings)
    if parsing:
        schemas = Schemas(
            raw=schemas.raw,
            reporting=schemas.lib,
            lib=schemas.lib,
            config=schemas.config,
        )
    return list(_built_views(schemas, directory, parsing, _specs_digest(directory)))


def _specs_digest(directory: Path) -> str:
    """A digest of the spec files' names and contents."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def _built_views(
    schemas: Schemas, directory: Path, parsing: bool, digest: str
) -> tuple[ViewSql, ...]:
    specs = load_specs(directory)
    names = frozenset(spec.name for spec in specs)
    views = [
        _ViewBuilder(spec, schemas, names, materialize=not parsing).build()
        for spec in specs
    ]
    by_name = {spec.name: spec for spec in specs}
    ordered = _with_config_dependency(_dependency_order(views, by_name))
    if not parsing:
        _check_rebuild_rows(ordered, by_name)
    logger.debug("built %d views: %s", len(ordered), ", ".join(v.name for v in ordered))
    return tuple(ordered)


class _ViewBuilder:
    """Builds one spec's SELECT, CREATE VIEW and COMMENT statements."""

    def __init__(
        self,
        spec: ViewSpec,
        schemas: Schemas,
        views: frozenset[str],
        *,
        materialize: bool,
    ) -> None:
        self.spec = spec
        self.schemas = schemas
        self.views = views
        self.materialize = spec.materialize if materialize else None
        self.depends_on: set[str] = set()
        self.config_reads: set[str] = set()

    def resolver(self) -> Resolver:
        return Resolver(
            self.spec,
            self.schemas,
            views=self.views,
            raw_tables=raw_tables(),
            config_tables=config_tables(),
            lib_functions=function_names(),
            dependencies=self.depends_on,
            config_reads=self.config_reads,
        )

    def build(self) -> ViewSql:
        query = self.union() if self.spec.union else self.select()
        table = exp.Table(
            this=exp.to_identifier(self.spec.name),
            db=exp.to_identifier(self.schemas.reporting),
        )
        if self.spec.name in self.depends_on:
            raise self.spec.error("source", "a view cannot read itself")
        if self.materialize is not None:
            return self.table(table, query, self.materialize)
        create = exp.Create(this=table, kind="VIEW", replace=True, expression=query)
        return self.view_sql(table, query, create, "VIEW")

    def table(
        self, table: exp.Table, query: exp.Query, materialize: Materialize
    ) -> ViewSql:
        """A fast table: CREATE TABLE, its indexes, comments and the full fill."""
        definitions = [
            exp.ColumnDef(this=exp.to_identifier(c.name), kind=_data_type(c))
            for c in self.spec.columns
        ]
        create = exp.Create(
            this=exp.Schema(this=table.copy(), expressions=definitions), kind="TABLE"
        )
        return self.view_sql(
            table,
            query,
            create,
            "TABLE",
            materialize=materialize,
            indexes=tuple(
                render(i)
                for i in _indexes(
                    table, materialize, {c.name for c in self.spec.columns}
                )
            ),
            fill=render(exp.insert(query.copy(), table.copy())),
            distinct_rows=bool(self.spec.query and self.spec.query.group_by),
            rebuild_select=self.rebuild_select(materialize),
            **self.settling(table),
        )

    def rebuild_select(self, materialize: Materialize) -> str:
        """The SELECT of the rows whose rebuild_by values are in REBUILD_KEYS.

        The filter goes before any grouping, on the key columns' own SQL, so
        that only the source rows of those keys are read and added up.
        """
        if materialize.rebuild_rows_of is None:
            return ""
        if self.spec.union:
            raise self.spec.error("materialize.rebuild_from", "not for a union view")
        resolver = self.resolver()
        keys = []
        for name in materialize.rebuild_by:
            column = self.spec.column(name)
            assert column is not None
            if column.sql is None or column.over_rows:
                raise self.spec.error(
                    "materialize.rebuild_by", f"{name!r} needs sql, not over rows"
                )
            key = resolver.expression(column.sql, f"{column.key}.sql")
            if _is_aggregate(key):
                raise self.spec.error(
                    "materialize.rebuild_by", f"{name!r} cannot be an aggregate"
                )
            keys.append(key)
        wanted = exp.select(*materialize.rebuild_by).from_(REBUILD_KEYS)
        condition = exp.In(
            this=exp.Tuple(expressions=keys), query=exp.Subquery(this=wanted)
        )
        return render(self.select().where(condition))

    def settling(self, table: exp.Table) -> dict[str, Any]:
        """For a table with over_rows columns, the SQL the refresh settles them by."""
        over = [column for column in self.spec.columns if column.over_rows]
        if not over:
            return {}
        values = self.over_rows_values(_ROWS)
        nulls = [exp.alias_(exp.cast(exp.Null(), _data_type(c)), c.name) for c in over]
        rows = exp.select(
            *(
                exp.column(c.name, table=_ROWS) if not c.over_rows else nulls.pop(0)
                for c in self.spec.columns
            )
        ).from_(self.rows_subquery())
        settle = exp.select(
            exp.alias_(exp.column("ctid", table=_ROWS), "row_id"),
            *(values[c.name] for c in over),
            *(
                exp.alias_(exp.column(c.name, table=_ROWS), f"stored_{c.name}")
                for c in over
            ),
        ).from_(exp.alias_(table.copy(), _ROWS, table=True))
        return {
            "over_rows": tuple(c.name for c in over),
            "row_select": render(rows),
            "settle_select": render(settle),
            "settle_key": self.settle_key(values),
        }

    def settle_key(self, values: dict[str, exp.Expression]) -> str:
        """A column that every window of the over_rows columns partitions by."""
        partitions = [
            [
                column.name
                for part in window.args.get("partition_by") or []
                for column in [part]
                if isinstance(column, exp.Column)
            ]
            for value in values.values()
            for window in value.find_all(exp.Window)
        ]
        common = [
            name
            for name in (partitions[0] if partitions else [])
            if all(name in other for other in partitions)
        ]
        if not common:
            raise self.spec.error(
                "columns",
                "over_rows columns need windows partitioned by a common column",
            )
        return common[0]

    def view_sql(
        self,
        table: exp.Table,
        query: exp.Query,
        create: exp.Create,
        kind: str,
        **fast_table: Any,
    ) -> ViewSql:
        """The rendered statements of a view or, with fast_table set, a table."""
        return ViewSql(
            name=self.spec.name,
            schema=self.schemas.reporting,
            description=self.spec.description,
            spec_file=self.spec.path.name,
            columns=tuple(
                ViewColumn(c.name, c.type, c.description) for c in self.spec.columns
            ),
            depends_on=tuple(sorted(self.depends_on)),
            config_reads=tuple(sorted(self.config_reads)),
            create=render(create),
            comments=tuple(render(c) for c in self.comments(table, kind)),
            select=render(query),
            **fast_table,
        )

    def select(self) -> exp.Select:
        """SELECT of a single-source view: source, joins, computed columns."""
        assert self.spec.query is not None
        query = self.spec.query
        resolver = self.resolver()
        source = resolver.source(query.source, "source")
        joins = [
            resolver.join(text, f"joins[{index}]")
            for index, text in enumerate(query.joins)
        ]
        for column in self.spec.columns:
            if column.is_parsed_field:
                raw = self.raw_value(column, source.alias_or_name)
                resolver.raw_values[column.name] = raw
        items, layers = self.columns(resolver)
        select = exp.select(*items).from_(source)
        for join in joins + layers:
            select = select.join(join)
        if query.where is not None:
            condition = resolver.expression(query.where, "where")
            if _is_aggregate(condition):
                raise self.spec.error(
                    "where", "cannot use an aggregate or window column"
                )
            select = select.where(condition)
        grouped = self.grouped(select, query.group_by, resolver, "group_by")
        if not any(column.over_rows for column in self.spec.columns):
            return grouped
        values = self.over_rows_values(_ROWS)
        return exp.select(
            *(
                values[c.name] if c.over_rows else exp.column(c.name, table=_ROWS)
                for c in self.spec.columns
            )
        ).from_(exp.Subquery(this=grouped, alias=exp.TableAlias(this=_ROWS)))

    def rows_subquery(self) -> exp.Subquery:
        """The view's rows without its over_rows columns, as `_rows`."""
        rows = self.select()
        inner = rows.args["from_"].this
        assert isinstance(inner, exp.Subquery)
        return inner.copy()

    def over_rows_values(self, alias: str) -> dict[str, exp.Expression]:
        """Each over_rows column's typed SQL over the rows named `alias`."""
        resolver = self.resolver()
        for column in self.spec.columns:
            if not column.over_rows:
                resolver.columns[column.name] = exp.column(column.name, table=alias)
        values: dict[str, exp.Expression] = {}
        for column in self.spec.columns:
            if not column.over_rows:
                continue
            assert column.sql is not None
            typed = exp.cast(
                resolver.expression(column.sql, f"{column.key}.sql"),
                _data_type(column),
            )
            # A later over_rows column repeats this one's window in full.
            resolver.columns[column.name] = exp.paren(typed.copy())
            values[column.name] = exp.alias_(typed, column.name)
        return values

    def grouped(
        self,
        select: exp.Select,
        group_by: tuple[str, ...],
        resolver: Resolver,
        key: str,
    ) -> exp.Select:
        """The SELECT with the spec's GROUP BY expressions, if any."""
        if not group_by:
            return select
        return select.group_by(
            *(
                resolver.expression(text, f"{key}[{index}]")
                for index, text in enumerate(group_by)
            )
        )

    def columns(
        self, resolver: Resolver
    ) -> tuple[list[exp.Expression], list[exp.Join]]:
        """The select list, and the LATERAL layers it reads.

        A column that other columns (or the filter) use is computed once, in
        a LATERAL subquery per dependency level, fenced by OFFSET 0 so that
        Postgres does not paste its expression into every use. An aggregate
        or window column cannot be computed row by row there: its expression
        is written out wherever it is used instead.
        """
        references = _references(self.spec)
        used = set().union(*references.values())
        levels: dict[str, int] = {}
        layers: dict[int, list[exp.Expression]] = {}
        items = []
        for column in self.spec.columns:
            if column.over_rows:
                continue
            typed = exp.cast(self.derive(column, resolver), _data_type(column))
            if column.name not in used:
                items.append(exp.alias_(typed, column.name))
                continue
            if _is_aggregate(typed):
                resolver.columns[column.name] = exp.paren(typed.copy())
                items.append(exp.alias_(typed, column.name))
                continue
            level = max(
                (levels.get(r, 0) + 1 for r in references[column.name]), default=0
            )
            levels[column.name] = level
            layers.setdefault(level, []).append(exp.alias_(typed, column.name))
            reference = exp.column(column.name, table=_layer(level))
            resolver.columns[column.name] = reference
            items.append(exp.alias_(reference.copy(), column.name))
        laterals = [_lateral(layers[level], level) for level in sorted(layers)]
        return items, laterals

    def union(self) -> exp.Union:
        """UNION ALL of the parts of a union view, each giving every column."""
        selects = []
        for part in self.spec.union:
            resolver = self.resolver()
            select = exp.select(
                *(
                    self.part_value(part, column, resolver)
                    for column in self.spec.columns
                )
            ).from_(resolver.source(part.query.source, f"{part.key}.source"))
            for index, text in enumerate(part.query.joins):
                select = select.join(resolver.join(text, f"{part.key}.joins[{index}]"))
            if part.query.where is not None:
                condition = resolver.expression(part.query.where, f"{part.key}.where")
                select = select.where(condition)
            selects.append(
                self.grouped(
                    select, part.query.group_by, resolver, f"{part.key}.group_by"
                )
            )
        return exp.union(*selects, distinct=False)

    def part_value(
        self, part: UnionPart, column: ColumnSpec, resolver: Resolver
    ) -> exp.Expression:
        text = part.values.get(column.name)
        key = f"{part.key}.values.{column.name}"
        value = exp.Null() if text is None else resolver.expression(text, key)
        aliased: exp.Expression = exp.alias_(
            exp.cast(value, _data_type(column)), column.name
        )
        return aliased

    def derive(self, column: ColumnSpec, resolver: Resolver) -> exp.Expression:
        if column.sql is not None:
            return resolver.expression(column.sql, f"{column.key}.sql")
        if column.unparsed is not None:
            return self.unparsed(column, resolver)
        return self.lib_call(f"parse_{column.parse}", resolver.raw_values[column.name])

    def raw_value(self, column: ColumnSpec, alias: str) -> exp.Expression:
        """The string a detail or summary column reads, from the source row."""
        path: tuple[str, ...]
        if column.detail is not None:
            document, path = "details", column.detail
        else:
            assert column.summary is not None
            document, path = "summary", (column.summary,)
        return exp.Anonymous(
            this="jsonb_extract_path_text",
            expressions=[
                exp.column(document, table=alias),
                *(exp.Literal.string(step) for step in path),
            ],
        )

    def unparsed(self, column: ColumnSpec, resolver: Resolver) -> exp.Expression:
        """A jsonb object of the fields whose value could not be read."""
        pairs: list[exp.Expression] = []
        for target in _unparsed_targets(self.spec, column):
            parsed = resolver.columns.get(target.name)
            if parsed is None:
                raise self.spec.error(
                    f"{column.key}.unparsed",
                    f"must come after the columns it covers ({target.name})",
                )
            pairs += [
                exp.Literal.string(target.name),
                self.problem(target, parsed, resolver),
            ]
        size = 2 * _PAIRS_PER_OBJECT
        merged: exp.Expression = exp.Anonymous(
            this="jsonb_build_object", expressions=pairs[:size]
        )
        for start in range(size, len(pairs), size):
            more = exp.Anonymous(
                this="jsonb_build_object", expressions=pairs[start : start + size]
            )
            merged = exp.DPipe(this=merged, expression=more)
        return exp.Anonymous(this="jsonb_strip_nulls", expressions=[merged])

    def problem(
        self, column: ColumnSpec, parsed: exp.Expression, resolver: Resolver
    ) -> exp.Expression:
        """{label, parse, value} when the column's value is unreadable, else NULL."""
        label = " / ".join(column.detail) if column.detail else str(column.summary)
        return self.lib_call(
            "unreadable",
            exp.Literal.string(label),
            exp.Literal.string(column.parse),
            resolver.raw_values[column.name],
            exp.Not(this=exp.Is(this=parsed, expression=exp.Null())),
        )

    def lib_call(self, name: str, *arguments: exp.Expression) -> exp.Expression:
        """name(arguments...) in the helper schema."""
        call = exp.Anonymous(this=name, expressions=[a.copy() for a in arguments])
        return exp.Dot(this=exp.to_identifier(self.schemas.lib), expression=call)

    def comments(self, table: exp.Table, kind: str) -> list[exp.Comment]:
        comments = [
            exp.Comment(
                this=table.copy(),
                kind=kind,
                expression=exp.Literal.string(self.spec.description),
            )
        ]
        for column in self.spec.columns:
            target = exp.column(column.name, table=table.name, db=table.db)
            comments.append(
                exp.Comment(
                    this=target,
                    kind="COLUMN",
                    expression=exp.Literal.string(column.description),
                )
            )
        return comments


def _indexes(
    table: exp.Table, materialize: Materialize, columns: set[str]
) -> list[exp.Create]:
    """CREATE INDEX for the refresh's keys, then for those the spec lists."""
    keys = [("loop_id",)] if "loop_id" in columns else []
    wanted = [*keys, materialize.rebuild_by, *materialize.indexes]
    unique = list(dict.fromkeys(wanted))
    return [
        exp.Create(
            kind="INDEX",
            this=exp.Index(
                this=exp.to_identifier("_".join((table.name, *columns, "idx"))),
                table=table.copy(),
                params=exp.IndexParameters(
                    columns=[exp.Ordered(this=exp.column(c)) for c in columns]
                ),
            ),
        )
        for columns in unique
    ]


def _data_type(column: ColumnSpec) -> exp.DataType:
    return exp.DataType.build(column.type, dialect="postgres")


def _layer(level: int) -> str:
    return f"_c{level}"


def _lateral(items: list[exp.Expression], level: int) -> exp.Join:
    """CROSS JOIN LATERAL (SELECT ... OFFSET 0) AS _c<level>."""
    select = exp.select(*items).offset(0)
    lateral = exp.Lateral(
        this=exp.Subquery(this=select),
        alias=exp.TableAlias(this=exp.to_identifier(_layer(level))),
    )
    return exp.Join(this=lateral, kind="CROSS")


def _references(spec: ViewSpec) -> dict[str, set[str]]:
    """Names of this view's columns that each column's SQL (and the filter) uses.

    The filter is listed under the empty name, the GROUP BY expressions under
    "(group_by N)". SQL that does not parse uses
    nothing here; resolving it reports the error.
    """
    names = {column.name for column in spec.columns}
    texts: dict[str, str | None] = {
        c.name: c.sql for c in spec.columns if not c.over_rows
    }
    query = spec.query
    texts[""] = query.where if query else None
    for index, group in enumerate(query.group_by if query else ()):
        texts[f"(group_by {index})"] = group
    references: dict[str, set[str]] = {}
    for name, text in texts.items():
        column_spec = spec.column(name)
        references[name] = {
            target.name for target in _unparsed_targets(spec, column_spec)
        }
        if text is None:
            continue
        try:
            parsed = parse_statement(text)
        except (SqlglotError, ValueError):
            continue
        for column in parsed.find_all(exp.Column):
            inside_raw = any(
                isinstance(a, exp.Anonymous) and a.name.lower() == "raw"
                for a in _ancestors(column)
            )
            if not column.table and column.name in names and not inside_raw:
                references[name].add(column.name)
    return references


def _unparsed_targets(spec: ViewSpec, column: ColumnSpec | None) -> list[ColumnSpec]:
    """The typed detail and summary columns an `unparsed` column covers."""
    if column is None or column.unparsed is None:
        return []
    return [
        c
        for c in spec.columns
        if c.is_parsed_field
        and c.parse != "text"
        and (column.unparsed == ("all",) or c.name in column.unparsed)
    ]


def _is_aggregate(expression: exp.Expression) -> bool:
    """Whether the expression aggregates or windows rows (outside subqueries).

    >>> _is_aggregate(parse_statement("sum(x) FILTER (WHERE y) - 1"))
    True
    >>> _is_aggregate(parse_statement("(SELECT max(y) FROM t) + x"))
    False
    """

    def inside_query(node: exp.Expression) -> bool:
        return node is not expression and isinstance(node, exp.Query | exp.Subquery)

    return any(
        isinstance(node, exp.AggFunc | exp.Window)
        for node in expression.walk(prune=inside_query)
    )


def _ancestors(node: exp.Expression) -> list[exp.Expression]:
    found = []
    parent = node.parent
    while parent is not None:
        found.append(parent)
        parent = parent.parent
    return found


def _with_config_dependency(ordered: list[ViewSql]) -> list[ViewSql]:
    """The views (dependencies first) with reads_config set where it holds."""
    reading: set[str] = set()
    marked = []
    for view in ordered:
        reads = bool(view.config_reads) or bool(set(view.depends_on) & reading)
        if reads:
            reading.add(view.name)
        marked.append(dataclasses.replace(view, reads_config=reads))
    return marked


def _check_rebuild_rows(views: list[ViewSql], specs: dict[str, ViewSpec]) -> None:
    """A table rebuilt by another's written rows reads that fast table, keys and all."""
    tables = {view.name: view for view in views if view.is_table}
    for view in views:
        source = view.materialize.rebuild_rows_of if view.materialize else None
        if source is None:
            continue
        assert view.materialize is not None
        spec = specs[view.name]
        if source not in tables or source not in view.depends_on:
            raise spec.error(
                "materialize.rebuild_from", f"{source!r} is not a fast table it reads"
            )
        over = set(tables[source].over_rows)
        columns = {column.name for column in tables[source].columns}
        for name in view.materialize.rebuild_by:
            if name not in columns or name in over:
                raise spec.error(
                    "materialize.rebuild_by",
                    f"{name!r} is not a column of {source} set row by row",
                )


def _dependency_order(
    views: list[ViewSql], specs: dict[str, ViewSpec]
) -> list[ViewSql]:
    """Views sorted so each comes after those it reads; ties by name."""
    pending = {view.name: view for view in views}
    done: list[ViewSql] = []
    while pending:
        ready = sorted(
            name
            for name, view in pending.items()
            if not set(view.depends_on) & set(pending)
        )
        if not ready:
            cycle = ", ".join(sorted(pending))
            spec = specs[min(pending)]
            raise spec.error("source", f"views read each other in a cycle: {cycle}")
        for name in ready:
            done.append(pending.pop(name))
    return done
