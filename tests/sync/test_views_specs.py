"""Dataset specs: invalid ones fail naming the file and key; valid ones build."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sync.errors import ViewSpecError
from sync.settings import Settings
from sync.views import build_views, load_specs

GOOD = """
view: a
description: Loops, briefly.
source: raw.loop AS l
columns:
  - name: loop_id
    type: bigint
    sql: l.loop_id
    description: The loop.
"""


OVER_ROWS = (
    GOOD
    + """\
  - name: latest
    type: bigint
    over_rows: true
    sql: max(loop_id) OVER (PARTITION BY loop_id % 2)
    description: The newest loop of the same parity.
"""
)


# A fast table with each loop's parity; b adds its rows up per parity and is
# rebuilt by the parities of the rows a refresh writes in a.
WITH_PARITY = (
    GOOD
    + """\
  - name: parity
    type: bigint
    sql: l.loop_id % 2
    description: 0 or 1.
materialize: true
"""
)
BY_PARITY = """
view: b
description: Loops per parity.
source: reporting.a AS a
group_by: [a.parity]
materialize:
  rebuild_by: [parity]
  rebuild_from: a
columns:
  - name: parity
    type: bigint
    sql: a.parity
    description: 0 or 1.
  - name: loops
    type: bigint
    sql: count(*)
    description: How many.
"""


def write_specs(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text), "utf-8")
    return directory


def replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


BAD_SPECS = [
    pytest.param(
        {"a.yaml": GOOD + "colums: []\n"},
        "a.yaml: (top level): unknown key 'colums'",
        id="unknown-top-key",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "description: Loops, briefly.\n", "")},
        "a.yaml: description: must be a non-empty string",
        id="missing-description",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "view: a", "view: b")},
        "a.yaml: view: must be 'a'",
        id="view-not-file-name",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "    description: The loop.", "    descripton: x")},
        "a.yaml: columns[0]: unknown key 'descripton'",
        id="unknown-column-key",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "type: bigint", "type: money")},
        "a.yaml: columns.loop_id.type: 'money' is not one of",
        id="bad-type",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "- name: loop_id", "- name: Loop-Id")},
        "a.yaml: columns[0].name: 'Loop-Id' is not a lower-case SQL name",
        id="bad-name",
    ),
    pytest.param(
        {"a.yaml": GOOD + "    detail: [Financials, Purchase/Sale Price]\n"},
        "a.yaml: columns.loop_id: needs exactly one of sql, detail, summary",
        id="two-derivations",
    ),
    pytest.param(
        {"a.yaml": GOOD + "    parse: money\n"},
        "a.yaml: columns.loop_id.parse: only a detail or summary field is parsed",
        id="parse-without-field",
    ),
    pytest.param(
        {
            "a.yaml": replace(
                GOOD, "sql: l.loop_id", "detail: [Financials]\n    parse: money"
            )
        },
        "a.yaml: columns.loop_id.detail: must be [Section, Field label]",
        id="detail-not-a-pair",
    ),
    pytest.param(
        {
            "a.yaml": replace(
                GOOD, "sql: l.loop_id", "detail: [Financials, Price]\n    parse: cash"
            )
        },
        "a.yaml: columns.loop_id.parse: 'cash' is not one of",
        id="bad-parse-kind",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "sql: l.loop_id", "sql: 42")},
        "a.yaml: columns.loop_id.sql: must be a non-empty string",
        id="sql-not-text",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "sql: l.loop_id", "sql: l.loop_id +")},
        "a.yaml: columns.loop_id.sql: cannot parse SQL",
        id="sql-does-not-parse",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "sql: l.loop_id", "sql: 1; DROP TABLE x")},
        "a.yaml: columns.loop_id.sql: cannot parse SQL",
        id="two-statements",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "sql: l.loop_id", "sql: SELECT 1")},
        "a.yaml: columns.loop_id.sql: must be an expression",
        id="bare-subquery",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "sql: l.loop_id", "sql: loop_id + 1")},
        "a.yaml: columns.loop_id.sql: 'loop_id' is neither alias.column",
        id="unknown-unqualified-column",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "raw.loop AS l", "raw.loops AS l")},
        "a.yaml: source: raw.loops does not exist",
        id="unknown-raw-table",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "raw.loop AS l", "public.secrets AS l")},
        "a.yaml: source: table public.secrets must be raw.<table>, reporting",
        id="foreign-schema",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "raw.loop AS l", "raw.loop AS l WHERE true")},
        "a.yaml: source: must be one table",
        id="source-with-clause",
    ),
    pytest.param(
        {"a.yaml": GOOD + "joins: [WHERE true]\n"},
        "a.yaml: joins[0]: must be exactly one JOIN clause",
        id="join-not-a-join",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "sql: l.loop_id", "sql: raw(l.loop_id)")},
        "a.yaml: columns.loop_id.sql: raw() takes one earlier detail or summary",
        id="raw-of-non-field",
    ),
    pytest.param(
        {
            "a.yaml": replace(
                GOOD, "sql: l.loop_id", "sql: reporting_lib.parse_money(l.x)"
            )
        },
        "a.yaml: columns.loop_id.sql: call parse_money() without a schema",
        id="qualified-helper",
    ),
    pytest.param(
        {
            "a.yaml": GOOD + "  - name: loop_id\n    type: text\n    sql: l.x\n"
            "    description: Again.\n"
        },
        "a.yaml: columns.loop_id: column 'loop_id' is declared twice",
        id="duplicate-column",
    ),
    pytest.param(
        {
            "a.yaml": GOOD + "  - name: city\n    type: text\n    detail: [A, City]\n"
            "    description: City.\n"
            "  - name: bad\n    type: jsonb\n    unparsed: [city]\n"
            "    description: Bad.\n"
        },
        "a.yaml: columns.bad.unparsed: 'city' is text, never unparseable",
        id="unparsed-text-column",
    ),
    pytest.param(
        {
            "a.yaml": replace(GOOD, "source: raw.loop AS l\n", "").replace(
                "    sql: l.loop_id\n", ""
            )
            + "union:\n  - source: raw.loop AS l\n    values: {nope: l.loop_id}\n"
        },
        "a.yaml: union[0].values.nope: is not a column of this view",
        id="union-unknown-column",
    ),
    pytest.param(
        {"a.yaml": GOOD + "union:\n  - source: raw.loop AS l\n    values: {}\n"},
        "a.yaml: source: a union view gives it in each part",
        id="union-with-source",
    ),
    pytest.param(
        {
            "a.yaml": replace(GOOD, "raw.loop AS l", "reporting.b AS l"),
            "b.yaml": replace(
                replace(GOOD, "view: a", "view: b"), "raw.loop AS l", "reporting.a AS l"
            ),
        },
        "views read each other in a cycle: a, b",
        id="cycle",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "raw.loop AS l", "reporting.a AS l")},
        "a.yaml: source: a view cannot read itself",
        id="self-reference",
    ),
    pytest.param(
        {"a.yaml": "view: [unclosed\n"},
        "a.yaml: is not valid YAML",
        id="not-yaml",
    ),
    pytest.param(
        {"a.yaml": replace(GOOD, "raw.loop AS l", "config.agents AS l")},
        "a.yaml: source: config.agents does not exist",
        id="unknown-config-table",
    ),
    pytest.param(
        {"a.yaml": GOOD + "group_by: l.loop_id\n"},
        "a.yaml: group_by: must be a list of SQL expressions",
        id="group-by-not-a-list",
    ),
    pytest.param(
        {
            "a.yaml": GOOD + "  - name: loops\n    type: bigint\n    sql: count(*)\n"
            "    description: How many.\n" + "where: loops > 1\n"
        },
        "a.yaml: where: cannot use an aggregate or window column",
        id="where-on-aggregate",
    ),
    pytest.param(
        {"a.yaml": GOOD + "    over_rows: yes please\n"},
        "a.yaml: columns.loop_id.over_rows: must be true or false",
        id="over-rows-not-boolean",
    ),
    pytest.param(
        {"a.yaml": OVER_ROWS + "group_by: [l.loop_id]\n"},
        "a.yaml: columns.latest.over_rows: needs a single-source view, ungrouped",
        id="over-rows-grouped",
    ),
    pytest.param(
        {
            "a.yaml": OVER_ROWS
            + "materialize:\n  rebuild_by: latest\n  rebuild_from: a.latest\n"
        },
        "a.yaml: materialize.rebuild_by: must be loop_id with over_rows columns",
        id="over-rows-rebuilt-by-other-key",
    ),
    pytest.param(
        {
            "a.yaml": replace(OVER_ROWS, "PARTITION BY loop_id % 2", "")
            + "materialize: true\n"
        },
        "a.yaml: columns: over_rows columns need windows partitioned by a common",
        id="over-rows-without-partition",
    ),
    pytest.param(
        {
            "a.yaml": replace(WITH_PARITY, "materialize: true\n", ""),
            "b.yaml": BY_PARITY,
        },
        "b.yaml: materialize.rebuild_from: 'a' is not a fast table it reads",
        id="rebuilt-from-rows-of-a-view",
    ),
    pytest.param(
        {
            "a.yaml": WITH_PARITY,
            "b.yaml": replace(
                replace(BY_PARITY, "rebuild_from: a", "rebuild_from: a.loop_id"),
                "[parity]",
                "[parity, loops]",
            ),
        },
        "b.yaml: materialize.rebuild_from: several rebuild_by columns take their",
        id="rebuilt-by-columns-from-a-column",
    ),
    pytest.param(
        {
            "a.yaml": WITH_PARITY,
            "b.yaml": replace(BY_PARITY, "[parity]", "[parity, loops]"),
        },
        "b.yaml: materialize.rebuild_by: 'loops' cannot be an aggregate",
        id="rebuilt-by-an-aggregate",
    ),
    pytest.param(
        {
            "a.yaml": replace(WITH_PARITY, "name: parity", "name: odd"),
            "b.yaml": replace(BY_PARITY, "a.parity", "a.odd"),
        },
        "b.yaml: materialize.rebuild_by: 'parity' is not a column of a set row by",
        id="rebuilt-by-a-column-the-source-lacks",
    ),
]


@pytest.mark.parametrize(("files", "message"), BAD_SPECS)
def test_invalid_spec_names_file_and_key(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    directory = write_specs(tmp_path, files)

    with pytest.raises(ViewSpecError) as caught:
        build_views(Settings(), directory)

    assert message in str(caught.value)


def test_table_rebuilt_from_rows_filters_its_source_by_the_keys(
    tmp_path: Path,
) -> None:
    files = {"a.yaml": WITH_PARITY, "b.yaml": BY_PARITY}

    views = {v.name: v for v in build_views(Settings(), write_specs(tmp_path, files))}

    rebuild = " ".join(views["b"].rebuild_select.split())
    assert "WHERE (a.parity) IN ( SELECT parity FROM refresh_keys )" in rebuild
    assert rebuild.endswith("GROUP BY a.parity")
    assert views["a"].rebuild_select == ""


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ViewSpecError, match="no dataset specs"):
        load_specs(tmp_path)


def test_minimal_spec_builds(tmp_path: Path) -> None:
    views = build_views(Settings(), write_specs(tmp_path, {"a.yaml": GOOD}))

    assert [v.qualified_name for v in views] == ["reporting.a"]
    assert "CAST(l.loop_id AS BIGINT) AS loop_id" in views[0].create
    assert views[0].comments[-1].endswith("IS 'The loop.'")


def test_columns_used_by_others_are_computed_once(tmp_path: Path) -> None:
    text = GOOD + (
        "  - name: doubled\n    type: bigint\n    sql: loop_id * 2\n"
        "    description: Twice.\n"
        "  - name: quadrupled\n    type: bigint\n    sql: doubled * 2\n"
        "    description: Four times.\n"
    )

    create = build_views(Settings(), write_specs(tmp_path, {"a.yaml": text}))[0].create

    assert "_c0.loop_id AS loop_id," in create
    assert "CAST(l.loop_id AS BIGINT) AS loop_id\n  OFFSET 0\n) AS _c0" in create
    assert "CAST(_c0.loop_id * 2 AS BIGINT) AS doubled" in create
    assert "CAST(_c1.doubled * 2 AS BIGINT) AS quadrupled" in create
    assert create.count("OFFSET 0") == 2


def test_aggregate_columns_are_written_out_where_used(tmp_path: Path) -> None:
    grouped = replace(GOOD, "sql: l.loop_id", "sql: l.loop_id % 10").replace(
        "columns:\n", "group_by: [l.loop_id % 10]\ncolumns:\n"
    )
    text = grouped + (
        "  - name: loops\n    type: bigint\n    sql: count(*)\n"
        "    description: How many.\n"
        "  - name: share\n    type: numeric\n"
        "    sql: loops / sum(loops) OVER ()\n"
        "    description: Their share.\n"
    )

    view = build_views(Settings(), write_specs(tmp_path, {"a.yaml": text}))[0]

    assert "LATERAL" not in view.create
    assert "GROUP BY\n  l.loop_id % 10" in view.create
    assert (
        "CAST((\n    CAST(COUNT(*) AS BIGINT)\n  ) / SUM((\n    CAST(COUNT(*) AS "
        "BIGINT)\n  )) OVER () AS NUMERIC) AS share"
    ) in view.create


def test_over_rows_columns_are_computed_over_the_rows(tmp_path: Path) -> None:
    text = replace(OVER_ROWS, "loop_id % 2", "parity") + (
        "  - name: parity\n    type: bigint\n    sql: l.loop_id % 2\n"
        "    description: Odd or even.\n"
        "materialize: true\n"
    )

    table = build_views(Settings(), write_specs(tmp_path, {"a.yaml": text}))[0]

    assert table.over_rows == ("latest",)
    assert table.settle_key == "parity"
    assert "MAX(_rows.loop_id) OVER (PARTITION BY _rows.parity)" in table.fill
    assert ") AS _rows" in table.fill
    assert "CAST(NULL AS BIGINT) AS latest" in table.row_select
    assert "FROM reporting.a AS _rows" in table.settle_select
    assert "_rows.latest AS stored_latest" in table.settle_select


def test_config_tables_are_read_in_the_config_schema(tmp_path: Path) -> None:
    text = replace(GOOD, "raw.loop AS l", "config.agent AS r").replace(
        "sql: l.loop_id", "sql: length(r.email)"
    )
    settings = Settings(config_schema="brokerage")

    view = build_views(settings, write_specs(tmp_path, {"a.yaml": text}))[0]

    assert "FROM brokerage.agent AS r" in view.create
    assert view.config_reads == ("agent",)
    assert view.reads_config


def test_shipped_specs_document_every_column() -> None:
    for view in build_views(Settings()):
        assert view.description
        assert all(column.description for column in view.columns), view.name
        assert len(view.comments) == len(view.columns) + 1
