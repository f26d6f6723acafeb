"""The free-typed ways people fill detail fields: money, percents, dates, e-mail."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

_MONEY_STYLES = ("{:,.0f}", "${:,.0f}", "${:,.2f}", "{:.0f}", "{:.2f}", " {:,.0f} ")
_MONEY_WEIGHTS = (36, 20, 25, 12, 4, 3)
_PERCENT_STYLES = ("{:g}%", "{:g}", "{:.1f} %", "{:.2f}%")
_PERCENT_WEIGHTS = (50, 25, 10, 7)
_FRACTION_WEIGHT = 8
_NUMERIC_DATE_SHARE = 0.9


def money(rng: random.Random, amount: float) -> str:
    """An amount as someone typed it: `650,000`, `$735,000.00`, `650000`...

    >>> money(random.Random(5), 735000), money(random.Random(1), 735000)
    ('$735,000.00', '735,000')
    """
    style = rng.choices(_MONEY_STYLES, _MONEY_WEIGHTS)[0]
    return style.format(amount)


def percent(rng: random.Random, value: float) -> str:
    """A percentage as typed: `6%`, `6`, `6.0 %`, or the fraction `0.06`.

    >>> sorted({percent(random.Random(seed), 6) for seed in range(40)})
    ['0.06', '6', '6%', '6.0 %', '6.00%']
    """
    if rng.random() * 100 < _FRACTION_WEIGHT:
        return f"{value / 100:g}"
    return rng.choices(_PERCENT_STYLES, _PERCENT_WEIGHTS)[0].format(value)


def day(rng: random.Random, when: date) -> str:
    """A date as typed: mostly `03/05/2026`, sometimes `March 05, 2026`.

    >>> day(random.Random(3), date(2026, 3, 5))
    '03/05/2026'
    """
    if rng.random() < _NUMERIC_DATE_SHARE:
        return when.strftime("%m/%d/%Y")
    return when.strftime("%B %d, %Y")


def blank(rng: random.Random) -> str:
    """A field someone left empty or filled with a placeholder."""
    return rng.choice(("", "", "", "n/a", "N/A", "TBD", "-"))


def recase_email(rng: random.Random, email: str) -> str:
    """The same address with the casing someone typed it in this time."""
    style = rng.randrange(3)
    if style == 0:
        return email.upper()
    if style == 1:
        local, _, domain = email.partition("@")
        return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain
    return email.capitalize()


def key_casing(rng: random.Random) -> Callable[[str], str]:
    """How one loop happens to case participant field names: `Phone`, `phone`..."""
    return rng.choice(_CASINGS)


def _as_typed(key: str) -> str:
    return key


_CASINGS: tuple[Callable[[str], str], ...] = (
    _as_typed,
    _as_typed,
    str.lower,
    str.upper,
)
