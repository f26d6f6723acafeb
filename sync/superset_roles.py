"""Superset roles for brokers and analysts, created through the security API.

"Dotloop Broker" reads the dashboards over the reporting datasets and
nothing else; "Dotloop Analyst" also runs SQL Lab on the reporting database
(whose connection is the read-only reporting role). Admins are Superset's
own Admin role; it must exist and have a user. Running it again converges:
each role ends with exactly the permissions listed here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from .errors import SupersetError
from .superset_api import SupersetClient

logger = logging.getLogger(__name__)

BROKER_ROLE = "Dotloop Broker"
ANALYST_ROLE = "Dotloop Analyst"
ADMIN_ROLE = "Admin"
REPORTING_DATABASE = "Dotloop Reporting"
# Superset's built-in role holding the SQL Lab permissions of its version.
SQL_LAB_ROLE = "sql_lab"

# What viewing a dashboard needs, as (permission, view) pairs of Superset 6.1.
VIEWER_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("can_read", "Dashboard"),
    ("can_read", "Chart"),
    ("can_read", "Dataset"),
    ("can_dashboard", "Superset"),
    ("can_explore_json", "Superset"),
    ("can_time_range", "Api"),
    ("can_query_form_data", "Api"),
    ("can_read", "DashboardFilterStateRestApi"),
    ("can_write", "DashboardFilterStateRestApi"),
    ("can_read", "DashboardPermalinkRestApi"),
    ("can_write", "DashboardPermalinkRestApi"),
    ("can_read", "CurrentUserRestApi"),
    ("can_get", "Datasource"),
    ("can_read", "CssTemplate"),
    ("can_read", "Theme"),
    ("menu_access", "Dashboards"),
    # The CSRF token, for users who script the API rather than browse.
    ("can_read", "SecurityRestApi"),
)


def create_roles(client: SupersetClient) -> dict[str, int]:
    """Create or update the broker and analyst roles; their ids by name.

    Import the bundle first: the roles are given the reporting database's
    datasets, which exist only after it.
    """
    _check_admins(client)
    pairs = client.permission_views()
    by_pair = {(perm, view): pid for pid, perm, view in pairs}
    roles = {role["name"]: role for role in client.roles()}
    viewer = _ids(by_pair, VIEWER_PERMISSIONS)
    data = [pid for pid, perm, view in pairs if _is_reporting_dataset(perm, view)]
    if not data:
        raise SupersetError(
            f"Superset has no dataset of the {REPORTING_DATABASE!r} database: "
            "import the dashboard bundle before creating the roles"
        )
    database = [pid for pid, perm, view in pairs if _is_reporting_database(perm, view)]
    sql_lab = roles.get(SQL_LAB_ROLE, {}).get("permission_ids") or []
    if not sql_lab:
        logger.warning("Superset has no %r role: analysts get no SQL Lab", SQL_LAB_ROLE)
    wanted = {
        BROKER_ROLE: viewer + data,
        ANALYST_ROLE: viewer + data + database + [int(i) for i in sql_lab],
    }
    ids: dict[str, int] = {}
    for name, permission_ids in wanted.items():
        ids[name] = _ensure_role(client, roles, name, permission_ids)
    return ids


def _check_admins(client: SupersetClient) -> None:
    admin = [role for role in client.roles() if role["name"] == ADMIN_ROLE]
    if not admin:
        raise SupersetError(f"Superset has no {ADMIN_ROLE!r} role; run superset init")
    if not admin[0].get("user_ids"):
        raise SupersetError(
            f"no user has the {ADMIN_ROLE!r} role; create one with "
            "`superset fab create-admin`"
        )


def _ids(
    by_pair: dict[tuple[str, str], int], wanted: Iterable[tuple[str, str]]
) -> list[int]:
    found = []
    for pair in wanted:
        if pair in by_pair:
            found.append(by_pair[pair])
        else:
            # Names move between Superset versions; a missing one only
            # hides a feature, the rest of the role still works.
            logger.warning("Superset has no permission %s on %s", *pair)
    return found


def _is_reporting_dataset(permission: str, view: str) -> bool:
    # Superset names a dataset's permission "[<database>].[<table>](id:<n>)".
    return permission == "datasource_access" and view.startswith(
        f"[{REPORTING_DATABASE}].["
    )


def _is_reporting_database(permission: str, view: str) -> bool:
    return permission == "database_access" and view.startswith(
        f"[{REPORTING_DATABASE}].(id:"
    )


def _ensure_role(
    client: SupersetClient,
    roles: dict[str, dict[str, object]],
    name: str,
    permission_ids: Sequence[int],
) -> int:
    role = roles.get(name)
    role_id = int(str(role["id"])) if role else client.create_role(name)
    client.set_role_permissions(role_id, permission_ids)
    logger.info(
        "role %r %s with %d permissions",
        name,
        "updated" if role else "created",
        len(set(permission_ids)),
    )
    return role_id
