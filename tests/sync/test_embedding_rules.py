"""Row clauses of guest tokens: one per shipped dataset, closed by default."""

from __future__ import annotations

import doctest

import pytest

import sync.embedding
from sync.embedding import NO_ROWS, Viewer, rls_rules, shipped_datasets

SHIPPED = shipped_datasets()
IDS = {uuid: number for number, uuid in enumerate(sorted(SHIPPED), start=1)}
BY_ID = {IDS[uuid]: columns for uuid, columns in SHIPPED.items()}


# Brokerage-wide operational data: no office's to see, so closed to offices.
BROKERAGE_WIDE = {"a3aafabd-5c6e-4755-a489-979528314fd2"}  # sync_runs


def test_every_shipped_dataset_but_the_sync_runs_can_limit_an_office_viewer() -> None:
    assert SHIPPED
    assert BROKERAGE_WIDE.issubset(SHIPPED)
    assert {
        uuid for uuid, columns in SHIPPED.items() if "profile_id" not in columns
    } == BROKERAGE_WIDE


def test_office_and_agent_viewers_see_nothing_of_the_sync_runs() -> None:
    for viewer in (Viewer.office(101), Viewer.agent("bo@x.example")):
        rules = {rule["dataset"]: rule["clause"] for rule in rls_rules(viewer, BY_ID)}

        assert {rules[IDS[uuid]] for uuid in BROKERAGE_WIDE} == {NO_ROWS}


@pytest.mark.parametrize(
    ("viewer", "column", "clause"),
    [
        (Viewer.office(202), "profile_id", "profile_id = 202"),
        (Viewer.agent("Bo@X.example"), "agent_email", "agent_email = 'bo@x.example'"),
    ],
    ids=["office", "agent"],
)
def test_a_limited_viewer_gets_a_clause_on_every_dataset(
    viewer: Viewer, column: str, clause: str
) -> None:
    rules = rls_rules(viewer, BY_ID)

    assert sorted(rule["dataset"] for rule in rules) == sorted(BY_ID)
    for rule in rules:
        has_column = column in BY_ID[rule["dataset"]]
        assert rule["clause"] == (clause if has_column else NO_ROWS)


def test_an_agent_sees_nothing_of_datasets_without_agents() -> None:
    rules = rls_rules(Viewer.agent("bo@x.example"), BY_ID)

    closed = {rule["dataset"] for rule in rules if rule["clause"] == NO_ROWS}
    assert closed == {n for n, columns in BY_ID.items() if "agent_email" not in columns}
    assert closed, "company and freshness datasets are closed to agents"


def test_the_brokerage_sees_everything() -> None:
    assert rls_rules(Viewer.brokerage(), BY_ID) == []


def test_doctests() -> None:
    failures, attempted = doctest.testmod(sync.embedding)

    assert attempted > 0
    assert failures == 0
