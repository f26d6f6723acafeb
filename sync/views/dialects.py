"""The reporting objects written for another warehouse through sqlglot.

What translates is written: the fast tables (columns, types and comments)
and every view over them whose SQL uses nothing Postgres-only (views of the
raw replica stay behind with it). Year to date runs to the current date
there: period_anchor() reads a Postgres setting. The parse functions
(reporting_lib.*) and jsonb functions have no counterpart that sqlglot
writes, so the views
calling them are left out and the script's header says which and why,
rather than holding SQL that would fail or mean something else there. The
usual move: copy the fast tables' rows out of Postgres.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from ..errors import ConfigurationError
from ..settings import Settings
from .build import ViewSql, build_views
from .expressions import DIALECT
from .library import lib_schema

logger = logging.getLogger(__name__)

DIALECTS = ("postgres", "duckdb", "bigquery", "snowflake", "trino")

# Postgres NUMERIC keeps every digit; elsewhere a bare DECIMAL may mean
# DECIMAL(38, 0) (Trino, Snowflake), so money and fractions get a scale.
_NUMERIC = exp.DataType.build("DECIMAL(38, 9)")

# Dialects that have no COMMENT ON statement.
_NO_COMMENTS = frozenset({"bigquery"})


@dataclass(frozen=True)
class _Rendered:
    """One object in the target dialect, or why it was left out."""

    name: str
    statements: tuple[str, ...] = ()
    left_out: str | None = None


def render_dialect_sql(settings: Settings, dialect: str) -> str:
    """The reporting schema for a warehouse other than Postgres, as one script."""
    if dialect not in DIALECTS or dialect == "postgres":
        raise ConfigurationError(
            f"unknown SQL dialect {dialect!r}; use one of {', '.join(DIALECTS)}"
        )
    rendered: list[_Rendered] = []
    for view in build_views(settings):
        left_out = sorted(
            set(view.depends_on) & {item.name for item in rendered if item.left_out}
        )
        if left_out:
            reason = f"reads {', '.join(left_out)}, left out too"
            rendered.append(_Rendered(view.name, left_out=reason))
        else:
            rendered.append(_render(view, dialect, settings.raw_schema))
    parts = [_header(settings, dialect, rendered)]
    for item in rendered:
        parts.extend(f"{statement};" for statement in item.statements)
    return "\n\n".join(parts) + "\n"


def _header(settings: Settings, dialect: str, rendered: list[_Rendered]) -> str:
    lines = [
        f"-- The reporting schema of dotloop-reporter for {dialect}, generated "
        "from datasets/*.yaml by sqlglot.",
        "-- Fast tables are written with their columns and comments; fill them "
        f"from the Postgres tables of the same names in {settings.reporting_schema}.",
        f"-- Left out: the parsing views ({lib_schema(settings)}.*), which call "
        "Postgres parse functions and jsonb operators on the stored payloads.",
        "-- Year to date runs to the current date: period_anchor() and its "
        "setting are Postgres's.",
    ]
    if dialect in _NO_COMMENTS:
        lines.append(f"-- Left out: comments ({dialect} has no COMMENT ON).")
    lines += [
        f"-- Left out: {item.name}: {item.left_out}."
        for item in rendered
        if item.left_out
    ]
    return "\n".join(lines)


def _render(view: ViewSql, dialect: str, raw_schema: str) -> _Rendered:
    if view.config_reads and not view.is_table:
        return _Rendered(
            view.name,
            left_out="reads the brokerage configuration, which stays in Postgres",
        )
    create = _anchored_today(sqlglot.parse_one(view.create, dialect=DIALECT))
    if not view.is_table and any(
        table.db == raw_schema for table in create.find_all(exp.Table)
    ):
        return _Rendered(
            view.name,
            left_out=f"reads the {raw_schema} schema, which stays in Postgres",
        )
    untranslated = sorted(_untranslated_calls(create))
    if untranslated:
        return _Rendered(
            view.name, left_out=f"calls {', '.join(untranslated)} (Postgres only)"
        )
    statements = [create]
    if dialect not in _NO_COMMENTS:
        statements += _comments(view)
    try:
        written = tuple(
            _with_scaled_numeric(s).sql(
                dialect, pretty=True, unsupported_level=ErrorLevel.RAISE
            )
            for s in statements
        )
    except SqlglotError as exc:
        reason = str(exc).splitlines()[0]
        logger.debug("%s not written for %s: %s", view.name, dialect, reason)
        return _Rendered(view.name, left_out=f"no {dialect} translation ({reason})")
    return _Rendered(view.name, statements=written)


def _comments(view: ViewSql) -> list[exp.Expression]:
    """COMMENT ON the object and each column, built rather than parsed.

    sqlglot reads COMMENT ON TABLE and COLUMN but not COMMENT ON VIEW.
    """
    table = exp.Table(
        this=exp.to_identifier(view.name), db=exp.to_identifier(view.schema)
    )
    comments: list[exp.Expression] = [
        exp.Comment(
            this=table,
            kind="TABLE" if view.is_table else "VIEW",
            expression=exp.Literal.string(view.description),
        )
    ]
    comments += [
        exp.Comment(
            this=exp.column(column.name, table=view.name, db=view.schema),
            kind="COLUMN",
            expression=exp.Literal.string(column.description),
        )
        for column in view.columns
    ]
    return comments


def _untranslated_calls(expression: exp.Expression) -> set[str]:
    """Calls sqlglot does not know (jsonb_*), or of the Postgres helper schema."""
    found = {
        node.name.lower()
        for node in expression.find_all(exp.Anonymous)
        if not isinstance(node.parent, exp.Dot)
    }
    for node in expression.find_all(exp.Dot):
        if isinstance(node.expression, exp.Anonymous):
            found.add(f"{node.this.name}.{node.expression.name}")
    return found


def _anchored_today(expression: exp.Expression) -> exp.Expression:
    """period_anchor() as the current date: the setting it reads is Postgres's.

    In Postgres the anchor is `dotloop_reporter.anchor_date` when a session
    sets it, else today; a warehouse has no such setting, so today it is.
    """

    def today(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Dot)
            and isinstance(node.expression, exp.Anonymous)
            and node.expression.name.lower() == "period_anchor"
            and not node.expression.expressions
        ):
            return exp.CurrentDate()
        return node

    return expression.transform(today)


def _with_scaled_numeric(statement: exp.Expression) -> exp.Expression:
    def scale(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.DataType)
            and node.this == exp.DataType.Type.DECIMAL
            and not node.expressions
        ):
            return _NUMERIC.copy()
        return node

    return statement.transform(scale)
