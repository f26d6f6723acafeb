"""Broker and analyst roles in a real Superset, created by command, used by users."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from connector.secrets import Secret
from sync.bundle import build_bundle, bundle_passwords
from sync.errors import SupersetError
from sync.settings import Settings
from sync.superset_api import SupersetClient
from sync.superset_roles import ANALYST_ROLE, BROKER_ROLE, create_roles
from sync.superset_server import SupersetServer

USER_PASSWORD = Secret("e2e-role-user-password-0123")
Grants = dict[str, set[tuple[str, str]]]


@pytest.fixture(scope="module")
def client(superset: SupersetServer) -> Iterator[SupersetClient]:
    with superset.client() as api:
        yield api


@pytest.fixture(scope="module")
def roles(
    reporting_settings: Settings,
    client: SupersetClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, int]:
    bundle = build_bundle(reporting_settings, tmp_path_factory.mktemp("bundle"))
    client.import_bundle(bundle, bundle_passwords(reporting_settings))
    return create_roles(client)


def grants(client: SupersetClient) -> Grants:
    names = {pid: (perm, view) for pid, perm, view in client.permission_views()}
    return {
        role["name"]: {names[pid] for pid in role["permission_ids"]}
        for role in client.roles()
    }


@pytest.fixture(scope="module")
def granted(roles: dict[str, int], client: SupersetClient) -> Grants:
    return grants(client)


def user_client(
    superset: SupersetServer, client: SupersetClient, role_id: int
) -> SupersetClient:
    """A new Superset user holding only `role_id`, logged in."""
    name = f"user-{uuid.uuid4().hex[:8]}"
    body = {
        "first_name": "Role",
        "last_name": "User",
        "username": name,
        "email": f"{name}@brokerage.example",
        "password": USER_PASSWORD.reveal(),
        "active": True,
        "roles": [role_id],
    }
    client.post_json("/api/v1/security/users/", body)
    return SupersetClient(superset.url, name, USER_PASSWORD)


def test_second_run_keeps_ids_and_permissions(
    roles: dict[str, int], granted: Grants, client: SupersetClient
) -> None:
    assert create_roles(client) == roles
    assert grants(client) == granted


def test_broker_reads_reporting_datasets_without_sql_lab(granted: Grants) -> None:
    broker = granted[BROKER_ROLE]

    datasets = {v for p, v in broker if p == "datasource_access"}
    assert any("[agent_credits]" in view for view in datasets)
    assert any("[loop_sides]" in view for view in datasets)
    assert all(view.startswith("[Dotloop Reporting].[") for view in datasets)
    assert not {pair for pair in broker if pair[1] == "SQLLab"}
    assert not {pair for pair in broker if pair[0] == "database_access"}


def test_analyst_has_sql_lab_on_the_reporting_database(granted: Grants) -> None:
    analyst = granted[ANALYST_ROLE]

    assert ("can_execute_sql_query", "SQLLab") in analyst
    assert {v for p, v in analyst if p == "database_access"} and all(
        v.startswith("[Dotloop Reporting].(id:")
        for p, v in analyst
        if p == "database_access"
    )
    assert granted[BROKER_ROLE] <= analyst


def test_broker_user_reads_a_chart(
    superset: SupersetServer, client: SupersetClient, roles: dict[str, int]
) -> None:
    chart_id = client.chart_id(name="Agent leaderboard")

    with user_client(superset, client, roles[BROKER_ROLE]) as broker:
        result = broker.chart_data(chart_id)["result"]

    assert [r["status"] for r in result] == ["success"]


def test_broker_user_cannot_run_sql(
    superset: SupersetServer, client: SupersetClient, roles: dict[str, int]
) -> None:
    database_id = client.find_id("database", name="Dotloop Reporting")

    broker = user_client(superset, client, roles[BROKER_ROLE])
    with broker, pytest.raises(SupersetError) as refused:
        broker.post_json("/api/v1/sqllab/execute/", sql_body(database_id))

    assert refused.value.status_code in (401, 403)


def test_analyst_user_runs_sql_on_reporting(
    superset: SupersetServer,
    client: SupersetClient,
    roles: dict[str, int],
) -> None:
    database_id = client.find_id("database", name="Dotloop Reporting")

    with user_client(superset, client, roles[ANALYST_ROLE]) as analyst:
        answer = analyst.post_json("/api/v1/sqllab/execute/", sql_body(database_id))

    assert answer["status"] == "success"
    (row,) = answer["data"]
    assert list(row) == ["sides"]
    assert isinstance(row["sides"], int)


def sql_body(database_id: int) -> dict[str, object]:
    return {
        "database_id": database_id,
        "sql": "SELECT count(*) AS sides FROM reporting.loop_sides",
        "runAsync": False,
        "schema": "reporting",
    }
