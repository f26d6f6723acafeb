"""Requests and responses as the simulator's handlers see them, free of sockets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from .data import Body, RawBody

JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Request:
    """One HTTP request; header names are lower-cased."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def form(self) -> dict[str, list[str]]:
        """Query and urlencoded body parameters together (body values last)."""
        merged = {name: list(values) for name, values in self.query.items()}
        if self.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            text = self.body.decode("utf-8", errors="replace")
            for name, values in parse_qs(text, keep_blank_values=True).items():
                merged.setdefault(name, []).extend(values)
        return merged

    def param(self, name: str) -> str | None:
        """The last value of a query or form parameter."""
        values = self.form().get(name)
        return values[-1] if values else None


@dataclass
class Response:
    """What to send back: status, body bytes and extra headers.

    `fault` names the injected fault that shaped the answer, for the stats;
    `drop` closes the connection without sending anything.
    """

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    drop: bool = False


def json_response(status: int, value: Any, **headers: str) -> Response:
    """A JSON body written compactly, as the API does."""
    content = json.dumps(value, separators=(",", ":")).encode()
    return Response(status, content, headers=dict(headers))


def body_response(body: Body) -> Response:
    """200 with a stored body: raw bytes as they are, objects as JSON."""
    if isinstance(body, RawBody):
        return Response(200, body.content)
    return json_response(200, body)


def error_response(status: int, error: str, message: str, **headers: str) -> Response:
    """An error body `{"error": ..., "error_description": ...}`."""
    return json_response(
        status, {"error": error, "error_description": message}, **headers
    )
