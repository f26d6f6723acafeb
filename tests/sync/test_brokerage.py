"""The brokerage file: checked with messages that say where, stored atomically."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import astuple
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql

from connector.secrets import Secret
from connector.simulator import generate_brokerage
from sync.brokerage import (
    Brokerage,
    Office,
    Plan,
    RosterAgent,
    Team,
    load_brokerage,
    parse_brokerage,
    read_brokerage_file,
    render_brokerage,
    stored_brokerage,
)
from sync.cli import main
from sync.demo import DEMO_SEED
from sync.errors import ConfigurationError
from sync.settings import PROJECT_ROOT, Settings

GOOD = """
offices:
  - name: Downtown
    profile_ids: [101, 102]
  - name: Uptown
    profile_ids: [202]
teams:
  - name: Nguyen Group
    office: Downtown
  - name: Solo
plans:
  - name: Standard 70/30
    agent_split_percent: 70
    per_deal_fee: 395.00
    cap: 18000.00
  - name: No Cap
    agent_split_percent: 60.5
agents:
  - email: Alice.Nguyen@SummitRealty.example
    name: Alice Nguyen
    team: Nguyen Group
    office: Downtown
    plan: Standard 70/30
    anniversary: 2019-04-01
  - email: bob@summitrealty.example
"""

EXPECTED = Brokerage(
    offices=(Office("Downtown", (101, 102)), Office("Uptown", (202,))),
    teams=(Team("Nguyen Group", "Downtown"), Team("Solo")),
    plans=(
        Plan("Standard 70/30", Decimal(70), Decimal("395.00"), Decimal(18000)),
        Plan("No Cap", Decimal("60.5"), Decimal(0), None),
    ),
    agents=(
        RosterAgent(
            "alice.nguyen@summitrealty.example",
            "Alice Nguyen",
            "Nguyen Group",
            "Downtown",
            "Standard 70/30",
            date(2019, 4, 1),
        ),
        RosterAgent("bob@summitrealty.example"),
    ),
)


def in_name_order(brokerage: Brokerage) -> Brokerage:
    """The configuration as the stored tables give it back: each list by name."""

    def by_name(section: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(sorted(section, key=lambda entry: str(astuple(entry)[0])))

    return Brokerage(
        by_name(brokerage.offices),
        by_name(brokerage.teams),
        by_name(brokerage.plans),
        by_name(brokerage.agents),
    )


def edited(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


BAD_FILES = [
    pytest.param(
        GOOD + "rosters: []\n",
        "(top level): rosters: unknown key",
        id="unknown-section",
    ),
    pytest.param(
        edited("    team: Nguyen Group\n", "    team: Nguyen Grp\n"),
        "agents[0] (alice.nguyen@summitrealty.example): team: unknown team "
        "'Nguyen Grp'",
        id="unknown-team",
    ),
    pytest.param(
        edited("    office: Downtown\n    plan", "    office: Midtown\n    plan"),
        "agents[0] (alice.nguyen@summitrealty.example): office: unknown office "
        "'Midtown'",
        id="unknown-office",
    ),
    pytest.param(
        edited("    plan: Standard 70/30\n", "    plan: Gold\n"),
        "agents[0] (alice.nguyen@summitrealty.example): plan: unknown plan 'Gold'",
        id="unknown-plan",
    ),
    pytest.param(
        edited("  - name: Solo\n", "  - name: Solo\n    office: Nowhere\n"),
        "teams[1]: office: unknown office 'Nowhere'",
        id="team-in-unknown-office",
    ),
    pytest.param(
        GOOD + "  - email: ALICE.NGUYEN@summitrealty.example\n",
        "agents[2] (alice.nguyen@summitrealty.example): duplicate e-mail",
        id="duplicate-email-folded",
    ),
    pytest.param(
        edited("agent_split_percent: 70", "agent_split_percent: 101"),
        "plans[0] (Standard 70/30): agent_split_percent: 101 is not between 0 and 100",
        id="split-over-100",
    ),
    pytest.param(
        edited("agent_split_percent: 60.5", "agent_split_percent: -1"),
        "plans[1] (No Cap): agent_split_percent: -1 is not between 0 and 100",
        id="split-negative",
    ),
    pytest.param(
        edited("agent_split_percent: 70", "agent_split_percent: seventy"),
        "plans[0] (Standard 70/30): agent_split_percent: 'seventy' is not a number",
        id="split-not-a-number",
    ),
    pytest.param(
        edited("    agent_split_percent: 60.5\n", ""),
        "plans[1] (No Cap): agent_split_percent: None is not a number",
        id="split-missing",
    ),
    pytest.param(
        edited("cap: 18000.00", "cap: -5"),
        "plans[0] (Standard 70/30): cap: -5 is negative",
        id="negative-cap",
    ),
    pytest.param(
        edited("2019-04-01", "2019-02-30"),
        "agents[0] (alice.nguyen@summitrealty.example): anniversary: '2019-02-30' "
        "is not a date",
        id="impossible-date",
    ),
    pytest.param(
        edited("2019-04-01", "04/01/2019"),
        "agents[0] (alice.nguyen@summitrealty.example): anniversary: '04/01/2019' "
        "is not a date",
        id="not-iso-date",
    ),
    pytest.param(
        edited("  - email: bob@summitrealty.example\n", "  - email: bob\n"),
        "agents[1]: email: 'bob' is not an e-mail address",
        id="bad-email",
    ),
    pytest.param(
        edited("  - email: bob@summitrealty.example\n", "  - name: Bob\n"),
        "agents[1]: email: must be a non-empty string",
        id="missing-email",
    ),
    pytest.param(
        edited("    name: Alice Nguyen\n", "    nmae: Alice Nguyen\n"),
        "agents[0]: nmae: unknown key",
        id="unknown-agent-key",
    ),
    pytest.param(
        edited("profile_ids: [202]", "profile_ids: [102]"),
        "offices[1] (Uptown): profile_ids: profile 102 is already in office 'Downtown'",
        id="profile-in-two-offices",
    ),
    pytest.param(
        edited("profile_ids: [202]", "profile_ids: 202"),
        "offices[1] (Uptown): profile_ids: must be a list of profile ids",
        id="profile-ids-not-a-list",
    ),
    pytest.param(
        edited("  - name: Uptown\n", "  - name: Downtown\n"),
        "offices[1] (Downtown): duplicate office 'Downtown'",
        id="duplicate-office",
    ),
    pytest.param("agents: {}\n", "agents: must be a list of entries", id="not-a-list"),
    pytest.param("- 1\n", "(top level): must be a mapping", id="not-a-mapping"),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "brokerage.yaml"
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


def test_a_good_file_reads_into_the_configuration(tmp_path: Path) -> None:
    assert read_brokerage_file(write(tmp_path, GOOD)) == EXPECTED


def test_an_empty_file_means_no_configuration(tmp_path: Path) -> None:
    assert read_brokerage_file(write(tmp_path, "")) == Brokerage()


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_errors_name_the_file_the_entry_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConfigurationError) as caught:
        read_brokerage_file(path)

    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_invalid_yaml_and_missing_file_are_configuration_errors(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigurationError, match="is not valid YAML"):
        read_brokerage_file(write(tmp_path, "offices: [\n"))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        read_brokerage_file(tmp_path / "missing.yaml")


def test_rendered_configuration_reads_back_the_same() -> None:
    text = render_brokerage(EXPECTED)

    assert parse_brokerage(yaml.safe_load(text), "rendered") == EXPECTED


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=Secret(database_url))


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def test_loading_replaces_the_stored_configuration(
    conn: psycopg.Connection[Any], settings: Settings, tmp_path: Path
) -> None:
    assert stored_brokerage(conn, settings) == Brokerage()

    load_brokerage(conn, settings, write(tmp_path, GOOD))
    load_brokerage(conn, settings, write(tmp_path, GOOD))

    assert stored_brokerage(conn, settings) == in_name_order(EXPECTED)

    smaller = "offices:\n  - name: Uptown\n    profile_ids: [202]\n"
    load_brokerage(conn, settings, write(tmp_path, smaller))

    assert stored_brokerage(conn, settings) == Brokerage(
        offices=(Office("Uptown", (202,)),)
    )


def test_a_bad_file_leaves_the_stored_configuration_alone(
    conn: psycopg.Connection[Any], settings: Settings, tmp_path: Path
) -> None:
    load_brokerage(conn, settings, write(tmp_path, GOOD))

    with pytest.raises(ConfigurationError):
        load_brokerage(conn, settings, write(tmp_path, GOOD + "  - email: x\n"))

    assert stored_brokerage(conn, settings) == in_name_order(EXPECTED)


def test_no_file_named_says_what_to_set(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    with pytest.raises(ConfigurationError, match="DOTLOOP_REPORTER_BROKERAGE_FILE"):
        load_brokerage(conn, settings)


def test_the_database_refuses_what_the_file_check_refuses(
    conn: psycopg.Connection[Any], settings: Settings, tmp_path: Path
) -> None:
    load_brokerage(conn, settings, write(tmp_path, GOOD))

    for statement in (
        "INSERT INTO reporting_config.agent (email) VALUES ('Upper@Case.example')",
        "INSERT INTO reporting_config.agent (email, plan) VALUES ('c@x.example', 'X')",
        "UPDATE reporting_config.plan SET agent_split_percent = 120",
    ):
        with pytest.raises(psycopg.errors.IntegrityError):
            conn.execute(statement)


@pytest.fixture
def reader_role(database_url: str) -> Iterator[str]:
    """A reader role of this test's own, dropped with what it was granted."""
    role = f"reader_{uuid.uuid4().hex[:10]}"
    yield role
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)
        ).fetchone():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_cli_loads_from_the_environment_and_shows_it(
    database_url: str,
    reader_role: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DOTLOOP_REPORTER_BROKERAGE_FILE", str(write(tmp_path, GOOD)))
    monkeypatch.setenv("REPORTING_READER_ROLE", reader_role)

    assert main(["brokerage", "load"]) == 0
    loaded = capsys.readouterr().out
    assert main(["brokerage", "show"]) == 0
    shown = capsys.readouterr().out

    assert "2 offices (3 profiles), 2 teams, 2 plans, 2 roster agents" in loaded
    assert parse_brokerage(yaml.safe_load(shown), "shown") == in_name_order(EXPECTED)


def test_cli_names_the_bad_entry(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    path = write(tmp_path, edited("    plan: Standard 70/30\n", "    plan: Gold\n"))

    assert main(["brokerage", "load", str(path)]) == 1

    assert "plan: unknown plan 'Gold'" in capsys.readouterr().err


def test_demo_roster_is_the_simulated_brokerage() -> None:
    data = generate_brokerage(2000, seed=DEMO_SEED)
    people = next(
        listing.entries[0].brokerage
        for listing in data.listings.values()
        if listing.entries
    )
    demo = read_brokerage_file(PROJECT_ROOT / "datasets" / "brokerage" / "demo.yaml")

    offices = {o.name: o.profile_ids for o in demo.offices}
    roster = {a.email: a.office for a in demo.agents}
    assert offices == {o.name: (o.profile_id,) for o in people.offices}
    expected = {a.email: people.offices[a.office].name for a in people.agents}
    expected |= {o.broker.email: o.name for o in people.offices}
    assert roster == expected
    assert {a.plan for a in demo.agents} == {p.name for p in demo.plans} | {None}
