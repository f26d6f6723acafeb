"""Small hand-made loops for the reporting model's tests, landed as a sync would."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from sync.settings import Settings

ALICE = "alice@brokerage.example"
BOB = "bob@brokerage.example"
OUTSIDER = "olga@elsewhere.example"


@dataclass(frozen=True)
class Agent:
    """A participant working a side: LISTING_AGENT, BUYING_AGENT, ..."""

    role: str
    email: str | None
    name: str = "An Agent"


@dataclass(frozen=True)
class Deal:
    """One loop, with what the tests vary; the rest as a typical sale."""

    loop_id: int
    closing: str = ""
    transaction_type: str = "LISTING_FOR_SALE"
    status: str = "SOLD"
    price: str = "500,000"
    commission_total: str = ""
    agents: tuple[Agent, ...] = ()
    financials: dict[str, str] = field(default_factory=dict)
    referral_percent: str = ""
    profile_id: int = 101
    updated: str = "2025-01-02T03:04:05Z"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.loop_id,
            "profileId": self.profile_id,
            "name": f"{self.loop_id} Main St",
            "transactionType": self.transaction_type,
            "status": self.status,
            "created": "2024-01-01T00:00:00Z",
            "updated": self.updated,
            "loopUrl": f"https://www.dotloop.com/loop/{self.loop_id}/view",
        }

    def details(self) -> dict[str, Any]:
        financials = {
            "Purchase/Sale Price": self.price,
            "Sale Commission Total": self.commission_total,
            **self.financials,
        }
        return {
            "Financials": financials,
            "Contract Dates": {"Closing Date": self.closing},
            "Referral": {"Referral %": self.referral_percent},
        }

    def participants(self) -> list[dict[str, Any]]:
        people = [{"id": 1, "fullName": "A Client", "role": "SELLER"}]
        for number, agent in enumerate(self.agents, start=2):
            person: dict[str, Any] = {
                "id": number,
                "fullName": agent.name,
                "role": agent.role,
            }
            if agent.email is not None:
                person["email"] = agent.email
            people.append(person)
        return people


def sale(
    loop_id: int, closing: str, commission: str, *agents: Agent, **more: Any
) -> Deal:
    """A sold listing whose whole commission (no split) is the side's GCI."""
    return Deal(
        loop_id,
        closing=closing,
        commission_total=commission,
        agents=agents or (Agent("LISTING_AGENT", ALICE, "Alice Able"),),
        **more,
    )


def land(conn: Any, settings: Settings, deals: Iterable[Deal]) -> None:
    """Insert the deals into the raw tables, each loop with its profile link."""
    loop = sql.Identifier(settings.raw_schema, "loop")
    link = sql.Identifier(settings.raw_schema, "loop_profile")
    with conn.transaction():
        for deal in deals:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (loop_id, summary, details, participants, "
                    "loop_updated, first_seen_at, fetched_at) "
                    "VALUES (%s, %s, %s, %s, %s, now(), now()) "
                    "ON CONFLICT (loop_id) DO UPDATE SET summary = excluded.summary, "
                    "details = excluded.details, "
                    "participants = excluded.participants, fetched_at = now()"
                ).format(loop),
                (
                    deal.loop_id,
                    Jsonb(deal.summary()),
                    Jsonb(deal.details()),
                    Jsonb(deal.participants()),
                    deal.updated,
                ),
            )
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (loop_id, profile_id, first_seen_at, last_seen_at) "
                    "VALUES (%s, %s, now(), now()) ON CONFLICT DO NOTHING"
                ).format(link),
                (deal.loop_id, deal.profile_id),
            )
