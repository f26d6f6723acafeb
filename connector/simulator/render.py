"""Render a planned loop as the API shows it: list item, details, participants."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from . import formats, names
from .data import JsonObject, format_timestamp
from .traits import LoopFlag, Stream

if TYPE_CHECKING:
    from .brokerage import Agent, GeneratedLoop

LISTING_TYPES = ("LISTING_FOR_SALE", "LISTING_FOR_LEASE")
SALE_TYPES = ("PURCHASE_OFFER", "LISTING_FOR_SALE")
LEASE_TYPES = ("LISTING_FOR_LEASE", "LEASE_OFFER")
LOOP_URL = "https://www.dotloop.com/m/loop?viewId={}"


@dataclass(frozen=True)
class Identity:
    """Who the client is and where the property stands."""

    client: tuple[str, str]
    co_client: tuple[str, str] | None
    street_number: int
    street: str
    unit: str
    town: tuple[str, str, str, str]
    zip_code: str

    @property
    def street_line(self) -> str:
        unit = f" #{self.unit}" if self.unit else ""
        return f"{self.street_number} {self.street}{unit}"


def identity(loop: GeneratedLoop) -> Identity:
    """The client and property of a loop, the same every time it is asked for."""
    rng = loop.rng(Stream.IDENTITY)
    town = rng.choice(names.TOWNS)
    return Identity(
        client=_person_name(rng),
        co_client=_person_name(rng) if rng.random() < 0.3 else None,
        street_number=rng.randrange(100, 9999),
        street=rng.choice(names.STREET_NAMES),
        unit=str(rng.randrange(1, 40)) if rng.random() < 0.12 else "",
        town=town,
        zip_code=f"{town[3]}{rng.randrange(100):02d}",
    )


def summary(loop: GeneratedLoop) -> JsonObject:
    """The loop list item (and the single-loop `data`)."""
    rng = loop.rng(Stream.SUMMARY)
    total_tasks = rng.randrange(0, 40)
    done = loop.status in ("SOLD", "LEASED", "ARCHIVED", "DONE")
    item: JsonObject = {"id": loop.id}
    if not loop.has(LoopFlag.NO_PROFILE_ID):
        item["profileId"] = loop.brokerage.offices[loop.office].profile_id
    item.update(
        name=_loop_name(loop, identity(loop)),
        transactionType=loop.transaction_type,
        status=loop.status,
        totalTaskCount=total_tasks,
        completedTaskCount=total_tasks if done else rng.randrange(total_tasks + 1),
        created=format_timestamp(loop.created or 0),
        updated=format_timestamp(loop.updated or 0),
        loopUrl=LOOP_URL.format(loop.id),
    )
    return item


def details(loop: GeneratedLoop) -> JsonObject:
    """The detail sections `{"<Section>": {"<Label>": "<string>"}}`."""
    rng = loop.rng(Stream.DETAILS)
    sections: JsonObject = {}
    if rng.random() > 0.02:
        sections["Property Address"] = _address(rng, identity(loop))
    financials = _financials(loop, rng)
    if financials and rng.random() > 0.03:
        sections["Financials"] = financials
    if loop.has(LoopFlag.CONTRACT_SHOWN):
        sections["Contract Dates"] = _contract_dates(loop, rng)
    if loop.listing_day and rng.random() > 0.1:
        sections["Listing Information"] = _listing_information(loop, rng)
    if loop.has(LoopFlag.REFERRAL_ONLY) or rng.random() < 0.08:
        sections["Referral"] = _referral(rng)
    if rng.random() < 0.5:
        sections["Property"] = _property(rng)
    if rng.random() < 0.1:
        sections["Office Use"] = {"File Number": f"F-{loop.id % 100000:05d}"}
    return sections


def participants(loop: GeneratedLoop) -> list[JsonObject]:
    """The people on a loop, each with one role."""
    rng = loop.rng(Stream.PARTICIPANTS)
    cast = _Cast(loop, rng)
    cast.add_agents()
    cast.add_clients(identity(loop))
    cast.add_others()
    return cast.people


class _Cast:
    """Builds a loop's participant list, one person per role entry."""

    def __init__(self, loop: GeneratedLoop, rng: random.Random) -> None:
        self.loop = loop
        self.rng = rng
        self.casing = formats.key_casing(rng)
        self.people: list[JsonObject] = []

    def add_agents(self) -> None:
        agents = self.loop.brokerage.agents
        buy_role = "BUYING_AGENT"
        if self.loop.transaction_type == "LEASE_OFFER" and self.rng.random() < 0.5:
            buy_role = "TENANT_AGENT"
        for index in self.loop.listing_agents:
            self._add_agent(agents[index], "LISTING_AGENT")
        for index in self.loop.buying_agents:
            self._add_agent(agents[index], buy_role)

    def add_clients(self, who: Identity) -> None:
        own_role, other_role = _client_roles(self.loop.transaction_type)
        self._add_person(who.client, own_role)
        if who.co_client:
            self._add_person(who.co_client, own_role)
        if self._under_contract() and self.rng.random() < 0.6:
            self._add_person(_person_name(self.rng), other_role)

    def add_others(self) -> None:
        rng = self.rng
        cooperating = self._under_contract() and not self.loop.has(LoopFlag.DUAL)
        if cooperating and rng.random() < 0.45:
            self._add_cooperating_agent()
        if self._under_contract() and self.loop.transaction_type in SALE_TYPES:
            if rng.random() < 0.5:
                self._add_vendor("ESCROW_TITLE_REP", names.TITLE_COMPANIES)
            if rng.random() < 0.35:
                self._add_vendor("LOAN_OFFICER", names.LENDERS)
        if rng.random() < 0.3:
            broker = self.loop.brokerage.offices[self.loop.office].broker
            self._add_agent(broker, "MANAGING_BROKER")
        if rng.random() < 0.08:
            self._add_person(_person_name(rng), rng.choice(("ADMIN", "OTHER")))

    def _under_contract(self) -> bool:
        return self.loop.has(LoopFlag.CONTRACT_SHOWN)

    def _add_agent(self, agent: Agent, role: str) -> None:
        email = agent.email
        if self.rng.random() < 0.15:
            email = formats.recase_email(self.rng, email)
        person = self._entry(agent.full_name, email, role)
        if self.rng.random() < 0.7:
            person[self.casing("Phone")] = agent.phone
        if self.rng.random() < 0.4:
            person[self.casing("Company Name")] = self.loop.brokerage.name
        self.people.append(person)

    def _add_cooperating_agent(self) -> None:
        listing = self.loop.transaction_type in LISTING_TYPES
        role = "BUYING_AGENT" if listing else "LISTING_AGENT"
        company, domain = self.rng.choice(names.OTHER_BROKERAGES)
        first, last = _person_name(self.rng)
        person = self._entry(f"{first} {last}", _email(first, last, domain), role)
        person[self.casing("Company Name")] = company
        self.people.append(person)

    def _add_vendor(self, role: str, companies: tuple[str, ...]) -> None:
        first, last = _person_name(self.rng)
        person = self._entry(
            f"{first} {last}", _email(first, last, "example.org"), role
        )
        person[self.casing("Company Name")] = self.rng.choice(companies)
        self.people.append(person)

    def _add_person(self, name: tuple[str, str], role: str) -> None:
        first, last = name
        roll = self.rng.random()
        email = "" if roll < 0.1 else _email(first, last, "example.com")
        person = self._entry(f"{first} {last}", email, role)
        if roll < 0.05:
            del person["email"]
        if self.rng.random() < 0.5:
            person[self.casing("Phone")] = _phone(self.rng)
        self.people.append(person)

    def _entry(self, full_name: str, email: str, role: str) -> JsonObject:
        person_id = self.loop.id * 32 + len(self.people)
        return {"id": person_id, "fullName": full_name, "email": email, "role": role}


def _client_roles(transaction_type: str | None) -> tuple[str, str]:
    return {
        "LISTING_FOR_SALE": ("SELLER", "BUYER"),
        "PURCHASE_OFFER": ("BUYER", "SELLER"),
        "LISTING_FOR_LEASE": ("LANDLORD", "TENANT"),
        "LEASE_OFFER": ("TENANT", "LANDLORD"),
    }.get(transaction_type or "", ("OTHER", "OTHER"))


def _loop_name(loop: GeneratedLoop, who: Identity) -> str:
    city, state = who.town[0], who.town[1]
    if loop.transaction_type in LISTING_TYPES:
        return f"{who.street_line}, {city}, {state} {who.zip_code}"
    if loop.transaction_type in ("PURCHASE_OFFER", "LEASE_OFFER"):
        return f"{who.client[1]}, {who.street_line}, {city}, {state}"
    return f"{' '.join(who.client)} - {loop.transaction_type or 'Loop'}"


def _address(rng: random.Random, who: Identity) -> dict[str, str]:
    city, state, county, _ = who.town
    fields = {
        "Street Number": str(who.street_number),
        "Street Name": who.street,
        "Unit Number": who.unit,
        "City": city,
        "State/Prov": state,
        "Zip/Postal Code": who.zip_code,
        "County": county,
        "Country": "US",
    }
    return _drop_some(rng, fields, 0.04)


def _financials(loop: GeneratedLoop, rng: random.Random) -> dict[str, str]:
    if loop.has(LoopFlag.REFERRAL_ONLY):
        return _referral_financials(loop, rng)
    if loop.transaction_type in SALE_TYPES:
        return _sale_financials(loop, rng)
    if loop.transaction_type in LEASE_TYPES:
        return _lease_financials(loop, rng)
    return {}


def _sale_financials(loop: GeneratedLoop, rng: random.Random) -> dict[str, str]:
    fields = {"Purchase/Sale Price": _amount(rng, loop.price)}
    if loop.has(LoopFlag.DUAL):
        fields.update(_dual_commission(loop, rng))
    else:
        fields.update(_single_commission(loop, rng))
    if loop.contract_day and rng.random() < 0.65:
        deposit = round(loop.price * rng.uniform(0.01, 0.03), -2)
        fields["Earnest Money Amount"] = formats.money(rng, deposit)
    if rng.random() < 0.03:
        fields.pop("Sale Commission Rate", None)
    return fields


def _dual_commission(loop: GeneratedLoop, rng: random.Random) -> dict[str, str]:
    rate = rng.choice((5.0, 5.5, 6.0))
    sell = rng.choice((50, 50, 50, 55, 60))
    fields = {
        "Sale Commission Rate": formats.percent(rng, rate),
        "Sale Commission Split % - Buy Side": formats.percent(rng, 100 - sell),
        "Sale Commission Split % - Sell Side": formats.percent(rng, sell),
    }
    if rng.random() < 0.2:
        total = loop.price * rate / 100
        fields["Sale Commission Split $ - Buy Side"] = formats.money(
            rng, total * (100 - sell) / 100
        )
        fields["Sale Commission Split $ - Sell Side"] = formats.money(
            rng, total * sell / 100
        )
    return fields


def _single_commission(loop: GeneratedLoop, rng: random.Random) -> dict[str, str]:
    ours, theirs = ("Sell Side", "Buy Side")
    if loop.transaction_type == "PURCHASE_OFFER":
        ours, theirs = theirs, ours
    style = rng.random()
    if style < 0.3:
        # The rate is this side's own; no split, so the whole commission is ours.
        return {"Sale Commission Rate": formats.percent(rng, rng.choice((2.5, 3.0)))}
    if style < 0.45:
        total = loop.price * rng.choice((2.5, 3.0)) / 100
        return {"Sale Commission Total": formats.money(rng, total)}
    rate = rng.choice((5.0, 5.5, 6.0))
    share = rng.choice((50, 50, 50, 45, 60))
    fields = {
        "Sale Commission Rate": formats.percent(rng, rate),
        f"Sale Commission Split % - {ours}": formats.percent(rng, share),
    }
    if rng.random() < 0.4:
        fields[f"Sale Commission Split % - {theirs}"] = formats.percent(
            rng, 100 - share
        )
    if rng.random() < 0.15:
        amount = loop.price * rate / 100 * share / 100
        fields[f"Sale Commission Split $ - {ours}"] = formats.money(rng, amount)
    return fields


def _referral_financials(loop: GeneratedLoop, rng: random.Random) -> dict[str, str]:
    fee = round(loop.price * 0.03 * rng.choice((0.2, 0.25, 0.3)), -1)
    fields = {"Sale Commission Total": formats.money(rng, fee)}
    if rng.random() < 0.7:
        fields["Purchase/Sale Price"] = rng.choice(("", "0", "$0.00"))
    return fields


def _lease_financials(loop: GeneratedLoop, rng: random.Random) -> dict[str, str]:
    fields = {"Rent": _amount(rng, loop.price)}
    if rng.random() < 0.85:
        months = rng.choice((1.0, 1.0, 0.5, 0.75))
        fields["Rent Commission Amount"] = formats.money(rng, loop.price * months)
    if rng.random() < 0.5:
        fields["Security Deposit"] = formats.money(rng, loop.price)
    return fields


def _contract_dates(loop: GeneratedLoop, rng: random.Random) -> dict[str, str]:
    fields = {}
    if rng.random() > 0.03:
        fields["Contract Agreement Date"] = _day(rng, loop.contract_day)
    if not loop.has(LoopFlag.NO_CLOSING_DATE):
        fields["Closing Date"] = _day(rng, loop.closing_day)
    elif rng.random() < 0.4:
        fields["Closing Date"] = formats.blank(rng)
    return fields


def _listing_information(loop: GeneratedLoop, rng: random.Random) -> dict[str, str]:
    original = round(loop.price * rng.uniform(1.0, 1.08), -3)
    current = original if rng.random() < 0.6 else round(original * 0.97, -3)
    fields = {
        "Listing Date": _day(rng, loop.listing_day),
        "Original Price": formats.money(rng, original),
        "Current Price": formats.money(rng, current),
    }
    if rng.random() < 0.4:
        fields["Expiration Date"] = _day(rng, loop.listing_day + 180)
    return _drop_some(rng, fields, 0.05)


def _referral(rng: random.Random) -> dict[str, str]:
    return {
        "Referral %": formats.percent(rng, rng.choice((20, 25, 25, 30, 35))),
        "Referral Source": rng.choice(names.REFERRAL_SOURCES),
    }


def _property(rng: random.Random) -> dict[str, str]:
    return {
        "Property Type": rng.choice(names.PROPERTY_TYPES),
        "Bedrooms": str(rng.randrange(1, 6)),
        "Bathrooms": rng.choice(("1", "1.5", "2", "2.5", "3", "")),
        "Year Built": str(rng.randrange(1920, 2025)),
        "MLS Number": str(rng.randrange(10_000_000, 99_999_999)),
    }


def _amount(rng: random.Random, amount: float) -> str:
    roll = rng.random()
    if roll < 0.02:
        return formats.blank(rng)
    return formats.money(rng, amount)


def _day(rng: random.Random, ordinal: int) -> str:
    return formats.day(rng, date.fromordinal(ordinal))


def _drop_some(
    rng: random.Random, fields: dict[str, str], share: float
) -> dict[str, str]:
    return {key: value for key, value in fields.items() if rng.random() >= share}


def _person_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)


def _email(first: str, last: str, domain: str) -> str:
    local = f"{first}.{last}".lower().replace("'", "")
    return f"{local}@{domain}"


def _phone(rng: random.Random) -> str:
    return f"({rng.randrange(200, 999)}) 555-{rng.randrange(10000):04d}"
