"""Embedded dashboards in a real Superset: one uuid each, rows limited per viewer.

The hand-worked ledger is landed in a fresh reporting database and the
bundle imported; guests then read the shipped charts with the payload an
embedded dashboard sends. Figures are the ledger's, split by office (Dotloop
profile) as worked out below.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest

from connector.secrets import Secret
from sync.bundle import build_bundle, bundle_passwords
from sync.embedding import (
    Viewer,
    enable_embedding,
    issue_guest_token,
    shipped_dashboards,
)
from sync.errors import SupersetError
from sync.settings import Settings
from sync.superset_api import SupersetClient
from sync.superset_server import SupersetServer
from sync.views import apply_views
from tests.e2e.conftest import GUEST_AUDIENCE, GUEST_SECRET
from tests.fixtures.ledger import (
    ALICE,
    BOB,
    CARLA,
    DAN,
    ERIN,
    EXPECTED_COMPANY_GCI_THIS_YEAR,
    EXPECTED_GCI_BY_AGENT_THIS_YEAR,
    land_ledger,
    render_ledger,
)

MAIN_DASHBOARD = "bfe7c089-96a7-44a6-a911-cce690e63ce4"
CENT = Decimal("0.01")

# Agent credits closed this year by office. Profile 202 holds 5006 (Erin
# 2,500), 5007 (Dan 2,400) and 5015 (Erin 13,000); 5005, seen by both, is
# 101's (the lowest profile id). Profile 101 holds every other credit.
OFFICE_GCI_BY_AGENT = {
    101: {
        ALICE: Decimal("51000.00"),
        BOB: Decimal("25425.00"),
        CARLA: Decimal("38750.00"),
        DAN: Decimal("14598.75"),
        ERIN: Decimal("4998.75"),
    },
    202: {DAN: Decimal("2400.00"), ERIN: Decimal("15500.00")},
}
# Company GCI closed this year by office: 202 adds 5014's 16,500 side, which
# no agent of ours worked, to its credits: 2,500 + 2,400 + 16,500 + 13,000.
OFFICE_GCI = {
    101: EXPECTED_COMPANY_GCI_THIS_YEAR - Decimal("34400.00"),
    202: Decimal("34400.00"),
}


@pytest.fixture(scope="module")
def client(superset: SupersetServer) -> Iterator[SupersetClient]:
    with superset.client() as api:
        yield api


@pytest.fixture(scope="module")
def imported(
    reporting_settings: Settings,
    client: SupersetClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    """The ledger landed and the bundle imported for it."""
    root = render_ledger(tmp_path_factory.mktemp("ledger"), date.today().year)
    assert reporting_settings.database_url is not None
    with psycopg.connect(reporting_settings.database_url.reveal()) as conn:
        land_ledger(conn, reporting_settings.raw_schema, root)
        # Fills the reporting schema's fast tables from what was just landed.
        apply_views(conn, reporting_settings)
    bundle = build_bundle(reporting_settings, tmp_path_factory.mktemp("bundle"))
    client.import_bundle(bundle, bundle_passwords(reporting_settings))
    return reporting_settings


@pytest.fixture(scope="module")
def embedded(
    imported: Settings, client: SupersetClient, portal_origin: str
) -> dict[str, str]:
    return enable_embedding(client, [portal_origin])


def guest_rows(
    client: SupersetClient, token: Secret, chart: str
) -> list[dict[str, Any]]:
    """A chart's rows as an embedded guest reads them (its stored payload)."""
    chart_id = client.chart_id(name=chart)
    context = json.loads(client.chart(chart_id)["query_context"])
    dashboard_id = client.dashboard_id(uuid=MAIN_DASHBOARD)
    context["form_data"].update(slice_id=chart_id, dashboardId=dashboard_id)
    result = client.guest_chart_data(token, context)["result"]
    assert [r["status"] for r in result] == ["success"]
    rows: list[dict[str, Any]] = result[0]["data"]
    return rows


def gci_by_agent(rows: list[dict[str, Any]]) -> dict[str, Decimal]:
    return {r["agent_name"]: Decimal(str(r["gci_credit"])).quantize(CENT) for r in rows}


def kpi(rows: list[dict[str, Any]]) -> Decimal:
    (row,) = rows
    (value,) = row.values()
    return Decimal(str(value or 0)).quantize(CENT)


def token_for(
    client: SupersetClient, embedded: dict[str, str], viewer: Viewer
) -> Secret:
    return issue_guest_token(client, embedded[MAIN_DASHBOARD], viewer)


def test_every_shipped_dashboard_is_embedded(embedded: dict[str, str]) -> None:
    assert set(embedded) == set(shipped_dashboards())
    assert len(set(embedded.values())) == len(embedded)


def test_enabling_again_keeps_the_embedded_ids(
    embedded: dict[str, str],
    imported: Settings,
    client: SupersetClient,
    portal_origin: str,
    tmp_path: Path,
) -> None:
    bundle = build_bundle(imported, tmp_path)
    client.import_bundle(bundle, bundle_passwords(imported))

    assert enable_embedding(client, [portal_origin, "https://b.example"]) == embedded
    assert enable_embedding(client, [portal_origin]) == embedded


def test_brokerage_guest_sees_every_agent(
    client: SupersetClient, embedded: dict[str, str]
) -> None:
    token = token_for(client, embedded, Viewer.brokerage())

    rows = guest_rows(client, token, "GCI this year by agent")

    assert gci_by_agent(rows) == EXPECTED_GCI_BY_AGENT_THIS_YEAR
    assert kpi(guest_rows(client, token, "GCI this year")) == (
        EXPECTED_COMPANY_GCI_THIS_YEAR
    )


@pytest.mark.parametrize(
    ("email", "agent"),
    [
        ("alice.nguyen@summitrealty.example", ALICE),
        ("Carla.Reyes@SummitRealty.example", CARLA),
        ("dan.kim@summitrealty.example", DAN),
    ],
)
def test_agent_guest_sees_only_own_credits(
    client: SupersetClient, embedded: dict[str, str], email: str, agent: str
) -> None:
    token = token_for(client, embedded, Viewer.agent(email))

    rows = guest_rows(client, token, "GCI this year by agent")

    assert gci_by_agent(rows) == {agent: EXPECTED_GCI_BY_AGENT_THIS_YEAR[agent]}
    # Company figures are not an agent's to see.
    assert kpi(guest_rows(client, token, "GCI this year")) == 0


@pytest.mark.parametrize("profile_id", [101, 202])
def test_office_guest_sees_only_its_office(
    client: SupersetClient, embedded: dict[str, str], profile_id: int
) -> None:
    token = token_for(client, embedded, Viewer.office(profile_id))

    rows = guest_rows(client, token, "GCI this year by agent")

    assert gci_by_agent(rows) == OFFICE_GCI_BY_AGENT[profile_id]
    assert kpi(guest_rows(client, token, "GCI this year")) == OFFICE_GCI[profile_id]


def test_agent_guest_cannot_widen_the_query(
    client: SupersetClient, embedded: dict[str, str]
) -> None:
    token = token_for(client, embedded, Viewer.agent("bob.ortiz@summitrealty.example"))
    chart_id = client.chart_id(name="GCI this year by agent")
    context = json.loads(client.chart(chart_id)["query_context"])
    context["form_data"].update(slice_id=chart_id)
    for query in context["queries"]:
        query["extras"]["where"] = "(agent_email = 'alice.nguyen@summitrealty.example')"

    try:
        answer = client.guest_chart_data(token, context)
    except SupersetError as exc:
        assert exc.status_code in (401, 403)
    else:
        assert ALICE not in gci_by_agent(answer["result"][0]["data"])


def forged(claims: dict[str, Any], secret: str = GUEST_SECRET) -> Secret:
    return Secret(jwt.encode(claims, secret, algorithm="HS256"))


def guest_claims(embedded_uuid: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "user": {"username": "guest"},
        "resources": [{"type": "dashboard", "id": embedded_uuid}],
        "rls_rules": [],
        "iat": now,
        "exp": now + 300,
        "aud": GUEST_AUDIENCE,
        "type": "guest",
    }
    claims.update(changes)
    return claims


def test_a_forged_token_with_the_right_claims_is_accepted(
    client: SupersetClient, embedded: dict[str, str]
) -> None:
    # The control for the refusals below: only the changed claim differs.
    token = forged(guest_claims(embedded[MAIN_DASHBOARD]))

    assert guest_rows(client, token, "GCI this year by agent")


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda u: forged(guest_claims(u, aud="other")), id="audience"),
        pytest.param(
            lambda u: forged(guest_claims(u, exp=int(time.time()) - 60)), id="expired"
        ),
        pytest.param(
            lambda u: forged(guest_claims(u), "another-secret-0123456789-abcdef"),
            id="wrong-key",
        ),
        pytest.param(
            lambda u: forged(guest_claims(u, type="user")), id="not-a-guest-token"
        ),
    ],
)
def test_a_spoiled_token_is_refused(
    client: SupersetClient, embedded: dict[str, str], spoil: Any
) -> None:
    token = spoil(embedded[MAIN_DASHBOARD])

    with pytest.raises(SupersetError) as refused:
        guest_rows(client, token, "GCI this year by agent")

    assert refused.value.status_code in (401, 403)


def test_a_tampered_token_is_refused(
    client: SupersetClient, embedded: dict[str, str]
) -> None:
    # Re-sign nothing: swap an office's clause into a brokerage token's body.
    header, _, signature = (
        token_for(client, embedded, Viewer.brokerage()).reveal().split(".")
    )
    office = token_for(client, embedded, Viewer.office(101)).reveal().split(".")[1]
    token = Secret(f"{header}.{office}.{signature}")

    with pytest.raises(SupersetError) as refused:
        guest_rows(client, token, "GCI this year by agent")

    assert refused.value.status_code in (401, 403)
