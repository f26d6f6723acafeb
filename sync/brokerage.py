"""The brokerage configuration: offices, teams, commission plans and roster.

One YAML file (see datasets/brokerage/demo.yaml) is checked, then loaded into
plain tables of the config schema (sync/brokerage.sql), which the reporting
views read; rows an admin inserts there count the same. Every problem in the
file raises ConfigurationError naming the file, the entry and the key.

    offices: [{name, profile_ids: [int, ...]}]
    teams:   [{name, office?}]
    plans:   [{name, agent_split_percent, per_deal_fee?, cap?}]
    agents:  [{email, name?, team?, office?, plan?, anniversary?}]
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from psycopg import sql

from .db import Connection, storage_errors
from .errors import ConfigurationError
from .settings import Settings

logger = logging.getLogger(__name__)

SCHEMA_FILE = Path(__file__).with_name("brokerage.sql")

_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS \{config\}\.(\w+)")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_SECTIONS = ("offices", "teams", "plans", "agents")
# Children first: the order rows are deleted in, and the reverse of inserts.
_DELETE_ORDER = ("agent", "team", "plan", "office_profile", "office")

T = TypeVar("T")


@dataclass(frozen=True)
class Office:
    """An office and the Dotloop profiles whose loops are its."""

    name: str
    profile_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Team:
    name: str
    office: str | None = None


@dataclass(frozen=True)
class Plan:
    """A commission plan; cap None means no cap."""

    name: str
    agent_split_percent: Decimal
    per_deal_fee: Decimal = Decimal(0)
    cap: Decimal | None = None


@dataclass(frozen=True)
class RosterAgent:
    """One of the brokerage's own agents, by lower-cased e-mail."""

    email: str
    name: str | None = None
    team: str | None = None
    office: str | None = None
    plan: str | None = None
    anniversary: date | None = None


@dataclass(frozen=True)
class Brokerage:
    """The whole configuration; empty means no offices, plans or roster."""

    offices: tuple[Office, ...] = ()
    teams: tuple[Team, ...] = ()
    plans: tuple[Plan, ...] = ()
    agents: tuple[RosterAgent, ...] = ()

    def summary(self) -> str:
        """One line of counts, for the command line."""
        profiles = sum(len(office.profile_ids) for office in self.offices)
        return (
            f"{len(self.offices)} offices ({profiles} profiles), "
            f"{len(self.teams)} teams, {len(self.plans)} plans, "
            f"{len(self.agents)} roster agents"
        )


def read_brokerage_file(path: Path) -> Brokerage:
    """Read and check a brokerage YAML file."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot be read: {exc}") from exc
    try:
        # _Loader is a SafeLoader: no Python objects are built from the file.
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: is not valid YAML: {exc}") from exc
    return parse_brokerage(document, str(path))


def parse_brokerage(document: Any, source: str) -> Brokerage:
    """Check a parsed document; errors name `source`, the entry and the key."""
    return _Reader(source).brokerage(document)


def config_tables() -> frozenset[str]:
    """Tables of the config schema, which spec SQL reads as config.<table>."""
    return frozenset(_TABLE.findall(_schema_text()))


def render_config_schema(settings: Settings) -> sql.Composed:
    """brokerage.sql with its {config} placeholder bound to the config schema."""
    return sql.SQL(_schema_text()).format(config=sql.Identifier(settings.config_schema))


def create_config_schema(conn: Connection, settings: Settings) -> None:
    """Create the config schema and its tables; running it again changes nothing."""
    with storage_errors("create the brokerage configuration tables"):
        conn.execute(render_config_schema(settings))


def store_brokerage(conn: Connection, settings: Settings, brokerage: Brokerage) -> None:
    """Replace the stored configuration with `brokerage`, in one transaction."""
    with storage_errors("store the brokerage configuration"), conn.transaction():
        create_config_schema(conn, settings)
        for table in _DELETE_ORDER:
            conn.execute(sql.SQL("DELETE FROM {}").format(_table(settings, table)))
        for table, rows in _rows(brokerage):
            _insert(conn, settings, table, rows)
    logger.info("stored the brokerage configuration: %s", brokerage.summary())


def load_brokerage(
    conn: Connection, settings: Settings, path: Path | None = None
) -> Brokerage:
    """Check the file (default DOTLOOP_REPORTER_BROKERAGE_FILE) and store it."""
    path = path or settings.brokerage_file
    if path is None:
        raise ConfigurationError(
            "no brokerage file: name one, or set DOTLOOP_REPORTER_BROKERAGE_FILE"
        )
    brokerage = read_brokerage_file(path)
    store_brokerage(conn, settings, brokerage)
    return brokerage


def config_fingerprint(conn: Connection, settings: Settings) -> str:
    """A digest of every stored configuration row: it changes when any row does."""
    lines = [
        sql.SQL("SELECT {} || ' ' || t::text AS line FROM {} AS t").format(
            sql.Literal(table), _table(settings, table)
        )
        for table in sorted(config_tables())
    ]
    statement = sql.SQL(
        "SELECT md5(coalesce(string_agg(line, E'\\n' ORDER BY line), '')) "
        "FROM ({}) AS config"
    ).format(sql.SQL(" UNION ALL ").join(lines))
    with storage_errors("read the brokerage configuration"):
        row = conn.execute(statement).fetchone()
    return str(row[0]) if row else ""


def stored_brokerage(conn: Connection, settings: Settings) -> Brokerage:
    """The configuration the views read now, as stored."""
    with storage_errors("read the brokerage configuration"), conn.transaction():
        found = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL",
            (f"{settings.config_schema}.agent",),
        ).fetchone()
        if not found or not found[0]:
            return Brokerage()
        select = functools.partial(_select, conn, settings)
        profiles: dict[str, list[int]] = {}
        for profile_id, office in select("profile_id, office", "office_profile"):
            profiles.setdefault(office, []).append(profile_id)
        return Brokerage(
            offices=tuple(
                Office(name, tuple(profiles.get(name, ())))
                for (name,) in select("name", "office")
            ),
            teams=tuple(Team(*row) for row in select("name, office", "team")),
            plans=tuple(
                Plan(*row)
                for row in select(
                    "name, agent_split_percent, per_deal_fee, cap", "plan"
                )
            ),
            agents=tuple(
                RosterAgent(*row)
                for row in select(
                    "email, name, team, office, plan, anniversary", "agent"
                )
            ),
        )


def render_brokerage(brokerage: Brokerage) -> str:
    """The configuration as a brokerage YAML file that loads back the same."""
    document: dict[str, list[dict[str, Any]]] = {
        "offices": [
            {"name": o.name, "profile_ids": list(o.profile_ids)}
            for o in brokerage.offices
        ],
        "teams": [
            _present({"name": t.name, "office": t.office}) for t in brokerage.teams
        ],
        "plans": [
            {
                "name": p.name,
                "agent_split_percent": _number(p.agent_split_percent),
                "per_deal_fee": _number(p.per_deal_fee),
                "cap": None if p.cap is None else _number(p.cap),
            }
            for p in brokerage.plans
        ],
        "agents": [
            _present(
                {
                    "email": a.email,
                    "name": a.name,
                    "team": a.team,
                    "office": a.office,
                    "plan": a.plan,
                    "anniversary": a.anniversary and a.anniversary.isoformat(),
                }
            )
            for a in brokerage.agents
        ],
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so a bad one is reported in place."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Reader:
    """Checks one parsed document; knows its source for messages."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> ConfigurationError:
        return ConfigurationError(f"{self.source}: {where}: {message}")

    def brokerage(self, document: Any) -> Brokerage:
        data = {} if document is None else self.mapping(document, "(top level)")
        self.known_keys(data, _SECTIONS, "(top level)")
        offices = self.section(data, "offices", self.office)
        self.unique(offices, "offices", lambda o: o.name, "office")
        self.check_profiles(offices)
        office_names = {o.name for o in offices}
        teams = self.section(data, "teams", self.team)
        self.unique(teams, "teams", lambda t: t.name, "team")
        for index, team in enumerate(teams):
            self.reference(team.office, office_names, f"teams[{index}]", "office")
        plans = self.section(data, "plans", self.plan)
        self.unique(plans, "plans", lambda p: p.name, "plan")
        agents = self.section(data, "agents", self.agent)
        self.unique(agents, "agents", lambda a: a.email, "e-mail")
        references = {
            "team": {t.name for t in teams},
            "office": office_names,
            "plan": {p.name for p in plans},
        }
        for index, agent in enumerate(agents):
            where = f"agents[{index}] ({agent.email})"
            for key, names in references.items():
                self.reference(getattr(agent, key), names, where, key)
        return Brokerage(tuple(offices), tuple(teams), tuple(plans), tuple(agents))

    def section(
        self, data: Mapping[str, Any], name: str, read: Callable[[Any, str], T]
    ) -> list[T]:
        value = data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(name, "must be a list of entries")
        return [read(entry, f"{name}[{index}]") for index, entry in enumerate(value)]

    def office(self, entry: Any, where: str) -> Office:
        data = self.entry(entry, where, ("name", "profile_ids"))
        name = self.text(data.get("name"), where, "name")
        ids = data.get("profile_ids", [])
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids
        ):
            raise self.fail(
                f"{where} ({name}): profile_ids", "must be a list of profile ids"
            )
        return Office(name, tuple(ids))

    def team(self, entry: Any, where: str) -> Team:
        data = self.entry(entry, where, ("name", "office"))
        name = self.text(data.get("name"), where, "name")
        return Team(name, self.optional_text(data, f"{where} ({name})", "office"))

    def plan(self, entry: Any, where: str) -> Plan:
        data = self.entry(
            entry, where, ("name", "agent_split_percent", "per_deal_fee", "cap")
        )
        name = self.text(data.get("name"), where, "name")
        where = f"{where} ({name})"
        split = self.number(
            data.get("agent_split_percent"), where, "agent_split_percent"
        )
        if not 0 <= split <= 100:
            raise self.fail(
                f"{where}: agent_split_percent", f"{split} is not between 0 and 100"
            )
        fee = data.get("per_deal_fee")
        cap = data.get("cap")
        return Plan(
            name=name,
            agent_split_percent=split,
            per_deal_fee=Decimal(0)
            if fee is None
            else self.amount(fee, where, "per_deal_fee"),
            cap=None if cap is None else self.amount(cap, where, "cap"),
        )

    def agent(self, entry: Any, where: str) -> RosterAgent:
        data = self.entry(
            entry, where, ("email", "name", "team", "office", "plan", "anniversary")
        )
        email = self.text(data.get("email"), where, "email").lower()
        if not _EMAIL.match(email):
            raise self.fail(f"{where}: email", f"{email!r} is not an e-mail address")
        where = f"{where} ({email})"
        return RosterAgent(
            email=email,
            name=self.optional_text(data, where, "name"),
            team=self.optional_text(data, where, "team"),
            office=self.optional_text(data, where, "office"),
            plan=self.optional_text(data, where, "plan"),
            anniversary=self.day(data.get("anniversary"), where),
        )

    def day(self, value: Any, where: str) -> date | None:
        if value is None:
            return None
        text = str(value).strip()
        try:
            if not _DATE.match(text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(
                f"{where}: anniversary", f"{value!r} is not a date (YYYY-MM-DD)"
            ) from None

    def number(self, value: Any, where: str, key: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail(f"{where}: {key}", f"{value!r} is not a number")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(f"{where}: {key}", f"{value!r} is not a number") from None
        if not number.is_finite():
            raise self.fail(f"{where}: {key}", f"{value!r} is not a number")
        return number

    def amount(self, value: Any, where: str, key: str) -> Decimal:
        number = self.number(value, where, key)
        if number < 0:
            raise self.fail(f"{where}: {key}", f"{number} is negative")
        return number

    def check_profiles(self, offices: list[Office]) -> None:
        owner: dict[int, str] = {}
        for index, office in enumerate(offices):
            for profile_id in office.profile_ids:
                if profile_id in owner and owner[profile_id] != office.name:
                    raise self.fail(
                        f"offices[{index}] ({office.name}): profile_ids",
                        f"profile {profile_id} is already in office "
                        f"{owner[profile_id]!r}",
                    )
                owner[profile_id] = office.name

    def unique(
        self, items: list[T], section: str, key: Callable[[T], str], what: str
    ) -> None:
        seen: set[str] = set()
        for index, item in enumerate(items):
            value = key(item)
            if value in seen:
                raise self.fail(
                    f"{section}[{index}] ({value})", f"duplicate {what} {value!r}"
                )
            seen.add(value)

    def reference(
        self, value: str | None, names: set[str], where: str, key: str
    ) -> None:
        if value is not None and value not in names:
            raise self.fail(
                f"{where}: {key}", f"unknown {key} {value!r} (not under {key}s)"
            )

    def entry(
        self, value: Any, where: str, allowed: tuple[str, ...]
    ) -> Mapping[str, Any]:
        data = self.mapping(value, where)
        self.known_keys(data, allowed, where)
        return data

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        return value

    def known_keys(
        self, data: Mapping[str, Any], allowed: tuple[str, ...], where: str
    ) -> None:
        unknown = sorted(str(k) for k in data if k not in allowed)
        if unknown:
            raise self.fail(
                f"{where}: {unknown[0]}",
                f"unknown key (expected {', '.join(allowed)})",
            )

    def text(self, value: Any, where: str, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}: {key}", "must be a non-empty string")
        return value.strip()

    def optional_text(
        self, data: Mapping[str, Any], where: str, key: str
    ) -> str | None:
        value = data.get(key)
        return None if value is None else self.text(value, where, key)


@functools.cache
def _schema_text() -> str:
    return SCHEMA_FILE.read_text("utf-8")


def _table(settings: Settings, table: str) -> sql.Identifier:
    return sql.Identifier(settings.config_schema, table)


def _rows(brokerage: Brokerage) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Rows of each table, parents first."""
    return [
        ("office", [(o.name,) for o in brokerage.offices]),
        (
            "office_profile",
            [(pid, o.name) for o in brokerage.offices for pid in o.profile_ids],
        ),
        ("team", [(t.name, t.office) for t in brokerage.teams]),
        (
            "plan",
            [
                (p.name, p.agent_split_percent, p.per_deal_fee, p.cap)
                for p in brokerage.plans
            ],
        ),
        (
            "agent",
            [
                (a.email, a.name, a.team, a.office, a.plan, a.anniversary)
                for a in brokerage.agents
            ],
        ),
    ]


_COLUMNS = {
    "office": ("name",),
    "office_profile": ("profile_id", "office"),
    "team": ("name", "office"),
    "plan": ("name", "agent_split_percent", "per_deal_fee", "cap"),
    "agent": ("email", "name", "team", "office", "plan", "anniversary"),
}


def _insert(
    conn: Connection, settings: Settings, table: str, rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    columns = _COLUMNS[table]
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        _table(settings, table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join([sql.Placeholder()] * len(columns)),
    )
    with conn.cursor() as cursor:
        cursor.executemany(statement, rows)


def _select(
    conn: Connection, settings: Settings, columns: str, table: str
) -> list[tuple[Any, ...]]:
    names = [c.strip() for c in columns.split(",")]
    statement = sql.SQL("SELECT {} FROM {} ORDER BY 1").format(
        sql.SQL(", ").join(map(sql.Identifier, names)), _table(settings, table)
    )
    return conn.execute(statement).fetchall()


def _present(entry: dict[str, Any]) -> dict[str, Any]:
    """The keys that have a value, as a file would leave the others out."""
    return {key: value for key, value in entry.items() if value is not None}


def _number(value: Decimal) -> int | float:
    # YAML has no decimal type; whole amounts stay integers.
    return int(value) if value == value.to_integral_value() else float(value)
