"""Embedded dashboards: turn embedding on, and issue guest tokens per viewer.

Superset gives each embedded dashboard a uuid of its own, different in every
environment; `enable_embedding` returns them so that the portal can be told.
A guest token names the embedded dashboard and carries row-level clauses
that Superset adds to every query the guest runs: a brokerage-wide viewer
gets none, an office viewer gets its Dotloop profile, an agent viewer gets
its own credits only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
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
LOOP_SIDES_UUID = "768653c0-e494-43d0-9961-46d25cace2af"
AGENT_CREDITS_UUID = "77bae09b-4cde-477a-b44b-76ba6a56086e"
# A clause no row satisfies: what a viewer may not see of a dataset.
NO_ROWS = "1 = 0"
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


def rls_rules(viewer: Viewer, dataset_ids: Mapping[str, int]) -> list[dict[str, Any]]:
    """The guest token's row-level clauses for `viewer`.

    `dataset_ids` maps LOOP_SIDES_UUID and AGENT_CREDITS_UUID to Superset ids.

    >>> ids = {LOOP_SIDES_UUID: 1, AGENT_CREDITS_UUID: 2}
    >>> rls_rules(Viewer.office(101), ids)
    [{'dataset': 1, 'clause': 'profile_id = 101'}, \
{'dataset': 2, 'clause': 'profile_id = 101'}]
    >>> rls_rules(Viewer.agent("Al@X.example"), ids)
    [{'dataset': 1, 'clause': '1 = 0'}, \
{'dataset': 2, 'clause': "agent_email = 'al@x.example'"}]
    """
    if viewer.agent_email is not None:
        sides, credits = NO_ROWS, f"agent_email = '{viewer.agent_email}'"
    elif viewer.profile_id is not None:
        sides = credits = f"profile_id = {int(viewer.profile_id)}"
    else:
        return []
    return [
        {"dataset": dataset_ids[LOOP_SIDES_UUID], "clause": sides},
        {"dataset": dataset_ids[AGENT_CREDITS_UUID], "clause": credits},
    ]


def issue_guest_token(
    client: SupersetClient, embedded_uuid: str, viewer: Viewer
) -> Secret:
    """A guest token for one embedded dashboard, limited to what `viewer` sees."""
    dataset_ids = {
        uuid: client.find_id("dataset", uuid=uuid)
        for uuid in (LOOP_SIDES_UUID, AGENT_CREDITS_UUID)
    }
    rules = rls_rules(viewer, dataset_ids)
    token = client.guest_token(embedded_uuid, rls=rules, username=viewer.username)
    logger.info(
        "issued a guest token for %s on %s (%d row rules)",
        viewer.username,
        embedded_uuid,
        len(rules),
    )
    return token
