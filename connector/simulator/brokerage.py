"""The generated brokerage: its offices, agents and a compact plan of each loop."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import render
from .data import Body, JsonObject, envelope_item, envelope_list
from .traits import LoopFlag, Stream


@dataclass(frozen=True)
class Agent:
    """A licensed agent (or a managing broker) of the brokerage."""

    first_name: str
    last_name: str
    email: str
    phone: str
    office: int

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Office:
    """An office, its profile and its managing broker."""

    name: str
    profile_id: int
    broker: Agent


@dataclass(frozen=True)
class Brokerage:
    """The people a generated brokerage is made of."""

    seed: int
    name: str
    domain: str
    agents: tuple[Agent, ...]
    offices: tuple[Office, ...]

    def rng(self, loop_id: int, stream: Stream) -> random.Random:
        """The random stream of one loop; the same for a seed on every run."""
        return random.Random((self.seed * 1_000_003 + loop_id) * len(Stream) + stream)


class GeneratedLoop:
    """One loop of a generated brokerage; bodies are rendered when asked for.

    Days are date ordinals, 0 when the loop has no such date.
    """

    __slots__ = (
        "brokerage",
        "buying_agents",
        "closing",
        "closing_day",
        "contract_day",
        "created",
        "flags",
        "listing_agents",
        "listing_day",
        "loop_id",
        "office",
        "price",
        "status",
        "transaction_type",
        "updated",
    )

    def __init__(
        self,
        brokerage: Brokerage,
        loop_id: int,
        transaction_type: str,
        status: str,
        created: float,
        updated: float,
        *,
        office: int,
        listing_agents: tuple[int, ...],
        buying_agents: tuple[int, ...],
        price: int,
        days: tuple[int, int, int],
        flags: LoopFlag,
    ) -> None:
        self.brokerage = brokerage
        self.loop_id: int | None = loop_id
        self.transaction_type: str | None = transaction_type
        self.status: str | None = status
        self.created: float | None = created
        self.updated: float | None = updated
        self.office = office
        self.listing_agents = listing_agents
        self.buying_agents = buying_agents
        self.price = price
        self.listing_day, self.contract_day, self.closing_day = days
        self.flags = flags
        self.closing: float | None = self._closing_key()

    @property
    def id(self) -> int:
        """The loop id (never None for a generated loop)."""
        assert self.loop_id is not None
        return self.loop_id

    def has(self, flag: LoopFlag) -> bool:
        """Whether the loop was planned with this trait."""
        return bool(self.flags & flag)

    def rng(self, stream: Stream) -> random.Random:
        """This loop's random stream for one kind of rendering."""
        return self.brokerage.rng(self.id, stream)

    def summary(self) -> Any:
        return render.summary(self)

    def details_object(self) -> JsonObject | None:
        return render.details(self)

    def detail(self) -> Body | None:
        return envelope_item(render.details(self))

    def participants(self) -> Body | None:
        return envelope_list(render.participants(self))

    def _closing_key(self) -> float | None:
        if not self.closing_day or not self.has(LoopFlag.CONTRACT_SHOWN):
            return None
        if self.has(LoopFlag.NO_CLOSING_DATE):
            return None
        return (self.closing_day - _EPOCH_ORDINAL) * 86400.0


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
