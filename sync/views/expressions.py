"""Spec SQL to sqlglot expressions bound to the configured schemas.

Spec SQL is Postgres SQL with three conventions: tables are written
`raw.<table>`, `reporting.<view>` and `config.<table>` (the brokerage
configuration) whatever the schemas are called; the helper functions
(parse_money, ...) are called unqualified; and an unqualified name is a
column declared earlier in the same view, replaced by that column's
expression. `raw(<column>)` is the text a detail or summary
column was parsed from.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import SqlglotError

from .spec import ViewSpec

# Postgres says NUMERIC; sqlglot would write the synonym DECIMAL.
_TYPE_NAMES = {**Postgres.Generator.TYPE_MAPPING, exp.DataType.Type.DECIMAL: "NUMERIC"}


class ReportingPostgres(Postgres):
    """Postgres as sqlglot writes it, but NUMERIC where it would say DECIMAL."""

    class Generator(Postgres.Generator):
        TYPE_MAPPING = _TYPE_NAMES


DIALECT = ReportingPostgres()

# Statements are never spec SQL: a spec holds expressions and clauses only.
_STATEMENTS = (exp.DDL, exp.DML, exp.Command, exp.Transaction, exp.Set, exp.Use)


@dataclass(frozen=True)
class Schemas:
    """The real names behind `raw`, `reporting`, `config` and the helper schema."""

    raw: str
    reporting: str
    lib: str
    config: str


def parse_statement(text: str) -> exp.Expression:
    """One SQL statement or expression; raises SqlglotError or ValueError."""
    statements = sqlglot.parse(text, dialect=DIALECT)
    if len(statements) != 1 or statements[0] is None:
        raise ValueError("must be exactly one SQL expression")
    return statements[0]


def render(expression: exp.Expression) -> str:
    """Pretty Postgres SQL for an expression."""
    return expression.sql(dialect=DIALECT, pretty=True)


class Resolver:
    """Reads one spec's SQL into expressions; errors name the spec's file and key."""

    def __init__(
        self,
        spec: ViewSpec,
        schemas: Schemas,
        *,
        views: Collection[str],
        raw_tables: Collection[str],
        config_tables: Collection[str],
        lib_functions: Collection[str],
        dependencies: set[str],
        config_reads: set[str],
    ) -> None:
        self.spec = spec
        self.schemas = schemas
        self.views = views
        self.raw_tables = raw_tables
        self.config_tables = config_tables
        self.lib_functions = lib_functions
        # Filled with the reporting views and the config tables the SQL reads.
        self.dependencies = dependencies
        self.config_reads = config_reads
        # Earlier columns of this view by name: their typed expressions, and for
        # detail and summary columns the text they were parsed from.
        self.columns: dict[str, exp.Expression] = {}
        self.raw_values: dict[str, exp.Expression] = {}

    def expression(self, text: str, key: str) -> exp.Expression:
        """A scalar or boolean expression from the spec."""
        parsed = self._parse(text, key)
        bare_query = isinstance(parsed, exp.Query) and not isinstance(
            parsed, exp.Subquery
        )
        if bare_query or isinstance(parsed, _STATEMENTS):
            raise self.spec.error(
                key, "must be an expression (put a subquery in parentheses)"
            )
        return self.resolve(parsed, key)

    def source(self, text: str, key: str) -> exp.Table:
        """A `raw.<table> AS x`, `reporting.<view> AS x` or `config.<table>` source."""
        select = self._parse(f"SELECT 1 FROM {text}", key)
        from_ = select.args.get("from_") if isinstance(select, exp.Select) else None
        extra = [
            k for k, v in select.args.items() if v and k not in ("expressions", "from_")
        ]
        if from_ is None or extra or not isinstance(from_.this, exp.Table):
            raise self.spec.error(key, "must be one table: raw.<table> AS alias")
        return self.resolve(from_.this, key).assert_is(exp.Table)

    def join(self, text: str, key: str) -> exp.Join:
        """One JOIN clause."""
        select = self._parse(f"SELECT 1 FROM _ {text}", key)
        joins = select.args.get("joins") or []
        extra = [
            k
            for k, v in select.args.items()
            if v and k not in ("expressions", "from_", "joins")
        ]
        if len(joins) != 1 or extra:
            raise self.spec.error(key, "must be exactly one JOIN clause")
        return self.resolve(joins[0], key).assert_is(exp.Join)

    def resolve(self, expression: exp.Expression, key: str) -> exp.Expression:
        """Bind schema names, qualify helper functions, expand column names."""
        return expression.transform(self._rewriter(key), copy=True)

    def _parse(self, text: str, key: str) -> exp.Expression:
        try:
            return parse_statement(text)
        except (SqlglotError, ValueError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise self.spec.error(key, f"cannot parse SQL: {message}") from exc

    def _rewriter(self, key: str) -> Callable[[exp.Expression], exp.Expression]:
        def rewrite(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table):
                return self._table(node, key)
            if isinstance(node, exp.Anonymous):
                return self._function(node, key)
            if isinstance(node, exp.Column) and not node.table:
                return self._column(node, key)
            return node

        return rewrite

    def _table(self, node: exp.Table, key: str) -> exp.Expression:
        if not isinstance(node.this, exp.Identifier):
            return node  # a set-returning function such as jsonb_each(...)
        schema, name = node.db, node.name
        if schema == "raw" and name in self.raw_tables:
            real = self.schemas.raw
        elif schema == "reporting" and name in self.views:
            real = self.schemas.reporting
            self.dependencies.add(name)
        elif schema == "config" and name in self.config_tables:
            real = self.schemas.config
            self.config_reads.add(name)
        elif schema in ("raw", "reporting", "config"):
            raise self.spec.error(key, f"{schema}.{name} does not exist")
        else:
            written = ".".join(part for part in (schema, name) if part)
            raise self.spec.error(
                key,
                f"table {written} must be raw.<table>, reporting.<view> "
                "or config.<table>",
            )
        node.set("db", exp.to_identifier(real))
        return node

    def _function(self, node: exp.Anonymous, key: str) -> exp.Expression:
        name = node.name.lower()
        if name == "raw":
            return self._raw_value(node, key)
        if name not in self.lib_functions:
            return node
        if isinstance(node.parent, exp.Dot):
            raise self.spec.error(key, f"call {name}() without a schema")
        # The qualified call replaces the node, so the walk does not enter it:
        # resolve the arguments here.
        call = exp.Anonymous(
            this=node.this,
            expressions=[self.resolve(arg, key) for arg in node.expressions],
        )
        return exp.Dot(this=exp.to_identifier(self.schemas.lib), expression=call)

    def _raw_value(self, node: exp.Anonymous, key: str) -> exp.Expression:
        args = node.expressions
        name = (
            args[0].name if len(args) == 1 and isinstance(args[0], exp.Column) else ""
        )
        if name not in self.raw_values:
            raise self.spec.error(
                key, "raw() takes one earlier detail or summary column of this view"
            )
        return self.raw_values[name].copy()

    def _column(self, node: exp.Column, key: str) -> exp.Expression:
        if isinstance(node.this, exp.Star):
            return node
        if node.name not in self.columns:
            raise self.spec.error(
                key,
                f"{node.name!r} is neither alias.column nor an earlier column "
                "of this view",
            )
        return self.columns[node.name].copy()
