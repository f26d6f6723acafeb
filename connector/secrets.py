"""A string wrapper that keeps secrets out of reprs, logs and tracebacks."""

from __future__ import annotations

import re

_MASK = "**********"


class Secret:
    """Holds a secret value; str() and repr() never show it.

    >>> token = Secret("abc123")
    >>> token
    Secret('**********')
    >>> token.reveal()
    'abc123'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.I)
_BEARER = re.compile(r"(?P<scheme>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.I)
_TOKEN_FIELD = re.compile(
    r"(?P<scheme>[\"']?(?:access_token|refresh_token|client_secret|password|code)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+",
    re.I,
)


def redact(text: str) -> str:
    """Mask passwords in URLs, bearer/basic credentials and token fields.

    >>> redact("postgresql://app:hunter2@db/x")
    'postgresql://app:**********@db/x'
    >>> redact('{"access_token": "abc", "expires_in": 43200}')
    '{"access_token": "**********", "expires_in": 43200}'
    >>> redact("Authorization: Bearer abc.def")
    'Authorization: Bearer **********'
    """
    for pattern in (_URL_PASSWORD, _BEARER, _TOKEN_FIELD):
        text = pattern.sub(lambda m: m.group("scheme") + _MASK + _tail(m), text)
    return text


def _tail(match: re.Match[str]) -> str:
    # The URL pattern consumes the "@" that separates credentials from host.
    return "@" if match.re is _URL_PASSWORD else ""
