"""Embedded dashboards: turn embedding on, and issue guest tokens per viewer.

Superset gives each embedded dashboard a uuid of its own, different in every
environment; `enable_embedding` returns them so that the portal can be told.
A guest token names the embedded dashboard and carries row-level clauses
that Superset adds to every query the guest runs, on every dataset of the
bundle: a brokerage-wide viewer gets none, an office viewer gets its Dotloop
profile, an agent viewer gets its own credits only. The sync runs, which
belong to no profile, are the brokerage's alone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connector.secrets import Secret

from .errors import ConfigurationError
from .settings import PROJECT_ROOT
from .superset_api import SupersetClient

logger = logging.getLogger(__name__)

DASHBOARDS_DIR = PROJECT_ROOT / "dashboards_export"
# A clause no row satisfies: what a viewer may not see of a dataset.
NO_ROWS = "1 = 0"
# The column that limits an office viewer, and an agent viewer, in a dataset.
OFFICE_COLUMN = "profile_id"
AGENT_COLUMN = "agent_email"
# Deliberately narrow: the address goes into SQL text, so no quote, no
# backslash, no blank.
_EMAIL = re.compile(r"[^\s'\"\\;@]+@[^\s'\"\\;@]+")


@dataclass(frozen=True)
class Viewer:
    """Who looks at an embedded dashboard: the brokerage, an office or an agent.

    Build one with Viewer.brokerage(), Viewer.office(profile_id) or
    Viewer.agent(email).
    """

    username: str
    profile_id: int | None = None
    agent_email: str | None = None

    @classmethod
    def brokerage(cls) -> Viewer:
        return cls("brokerage")

    @classmethod
    def office(cls, profile_id: int) -> Viewer:
        if isinstance(profile_id, bool) or not isinstance(profile_id, int):
            raise ConfigurationError("an office viewer needs an integer profile id")
        return cls(f"office-{profile_id}", profile_id=profile_id)

    @classmethod
    def agent(cls, email: str) -> Viewer:
        folded = email.strip().casefold()
        if not _EMAIL.fullmatch(folded):
            raise ConfigurationError(f"not a usable agent e-mail: {email!r}")
        return cls(f"agent-{folded}", agent_email=folded)


def shipped_dashboards(source_dir: Path = DASHBOARDS_DIR) -> dict[str, str]:
    """The dashboards of the bundle sources: title by uuid."""
    found: dict[str, str] = {}
    for path in sorted((source_dir / "dashboards").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[str(doc["uuid"])] = str(doc["dashboard_title"])
    return found


def enable_embedding(
    client: SupersetClient,
    allowed_domains: Sequence[str],
    *,
    source_dir: Path = DASHBOARDS_DIR,
) -> dict[str, str]:
    """Embed every shipped dashboard; its embedded uuid by dashboard uuid.

    Idempotent: a dashboard already embedded keeps its embedded uuid and only
    its allowed domains are replaced. Import the bundle first.
    """
    embedded: dict[str, str] = {}
    for dashboard_uuid, title in shipped_dashboards(source_dir).items():
        dashboard_id = client.dashboard_id(uuid=dashboard_uuid)
        before = client.embedded_uuid(dashboard_id)
        embedded[dashboard_uuid] = client.embed_dashboard(dashboard_id, allowed_domains)
        state = "kept" if before == embedded[dashboard_uuid] else "new"
        logger.info(
            "dashboard %r embedded as %s (%s)", title, embedded[dashboard_uuid], state
        )
    return embedded


def shipped_datasets(source_dir: Path = DASHBOARDS_DIR) -> dict[str, frozenset[str]]:
    """The datasets of the bundle sources: their columns by dataset uuid."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted((source_dir / "datasets").rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        columns = doc.get("columns") or []
        found[str(doc["uuid"])] = frozenset(str(c["column_name"]) for c in columns)
    return found


def rls_rules(
    viewer: Viewer, datasets: Mapping[int, Collection[str]]
) -> list[dict[str, Any]]:
    """The guest token's row-level clauses for `viewer`, one per dataset.

    `datasets` maps each dataset's Superset id to its columns. An office
    viewer is limited by profile_id, an agent viewer by agent_email; a
    dataset without that column shows the viewer no row at all, so a
    dataset added to the bundle is closed to them until it has one.

    >>> datasets = {1: {"profile_id", "gci"}, 2: {"profile_id", "agent_email"}}
    >>> rls_rules(Viewer.office(101), datasets)
    [{'dataset': 1, 'clause': 'profile_id = 101'}, \
{'dataset': 2, 'clause': 'profile_id = 101'}]
    >>> rls_rules(Viewer.agent("Al@X.example"), datasets)
    [{'dataset': 1, 'clause': '1 = 0'}, \
{'dataset': 2, 'clause': "agent_email = 'al@x.example'"}]
    """
    if viewer.agent_email is not None:
        column, clause = AGENT_COLUMN, f"agent_email = '{viewer.agent_email}'"
    elif viewer.profile_id is not None:
        column, clause = OFFICE_COLUMN, f"profile_id = {int(viewer.profile_id)}"
    else:
        return []
    return [
        {"dataset": dataset_id, "clause": clause if column in columns else NO_ROWS}
        for dataset_id, columns in sorted(datasets.items())
    ]


def issue_guest_token(
    client: SupersetClient, embedded_uuid: str, viewer: Viewer
) -> Secret:
    """A guest token for one embedded dashboard, limited to what `viewer` sees."""
    ids = {str(row["uuid"]): int(row["id"]) for row in client.list_assets("dataset")}
    shipped = shipped_datasets()
    missing = sorted(set(shipped) - set(ids))
    if missing:
        raise ConfigurationError(
            f"Superset lacks the bundle's datasets {', '.join(missing)}: import "
            "the dashboard bundle first"
        )
    rules = rls_rules(viewer, {ids[uuid]: cols for uuid, cols in shipped.items()})
    token = client.guest_token(embedded_uuid, rls=rules, username=viewer.username)
    logger.info(
        "issued a guest token for %s on %s (%d row rules)",
        viewer.username,
        embedded_uuid,
        len(rules),
    )
    return token
