"""Webhook subscriptions under /public/v2/subscription, kept in memory.

A subscription asks for events of some types about a target (a PROFILE's
loops, or a USER's contacts and profiles) to be POSTed to a url, signed with
its signing key. The fields are Dotloop's: `url`, `targetType`, `targetId`,
`eventTypes`, `signingKey`, `externalId`, `enabled`. The signing key is never
sent back. Ids are UUIDs. The list pages by cursor: `next_cursor` in the
query, `meta.nextCursor` in the answer while more pages follow (Dotloop does
not document its page size; the simulator's is 20). Dotloop allows several
subscriptions for one target and url; so does the simulator.

The simulator delivers to this machine only, so a url elsewhere is refused
with 400 like any other bad field.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .changes import LoopEvent
from .data import JsonObject, SimulatedData, envelope_item, parse_loop_id
from .errors import RequestRejected
from .webhooks import is_loopback
from .wire import Request, Response, json_response

PAGE_SIZE = 20
TARGET_EVENTS = {
    "PROFILE": (
        "LOOP_CREATED",
        "LOOP_UPDATED",
        "LOOP_MERGED",
        "LOOP_PARTICIPANT_CREATED",
        "LOOP_PARTICIPANT_UPDATED",
        "LOOP_PARTICIPANT_DELETED",
    ),
    "USER": (
        "CONTACT_CREATED",
        "CONTACT_UPDATED",
        "CONTACT_DELETED",
        "PROFILE_UPDATED",
        "USER_PROFILE_ACTIVATED",
        "USER_PROFILE_DEACTIVATED",
        "USER_ADDED_TO_PROFILE",
        "USER_REMOVED_FROM_PROFILE",
    ),
}


@dataclass(frozen=True)
class Subscription:
    """One stored subscription; `signing_key` stays out of answers and reprs."""

    subscription_id: str
    target_type: str
    target_id: int
    url: str
    event_types: tuple[str, ...]
    enabled: bool = True
    signing_key: str | None = field(default=None, repr=False)
    external_id: str | None = None

    def public(self) -> JsonObject:
        """The subscription as the API shows it."""
        shown: JsonObject = {
            "id": self.subscription_id,
            "targetType": self.target_type,
            "targetId": self.target_id,
            "url": self.url,
            "eventTypes": list(self.event_types),
            "enabled": self.enabled,
        }
        if self.external_id is not None:
            shown["externalId"] = self.external_id
        return shown

    def wants(self, event: LoopEvent) -> bool:
        """Whether this subscription is told of a loop event."""
        return (
            self.enabled
            and self.target_type == "PROFILE"
            and self.target_id in event.profile_ids
            and event.event_type in self.event_types
        )


class SubscriptionStore:
    """The client's subscriptions and their endpoints; shared by server threads."""

    def __init__(self, data: SimulatedData, page_size: int = PAGE_SIZE) -> None:
        self._data = data
        self._page_size = page_size
        self._lock = threading.Lock()
        self._subscriptions: dict[str, Subscription] = {}

    def matching(self, event: LoopEvent) -> list[Subscription]:
        """The subscriptions to tell of event, in the order they were created."""
        with self._lock:
            return [s for s in self._subscriptions.values() if s.wants(event)]

    def list(self, request: Request, params: Mapping[str, int]) -> Response:
        enabled = _enabled_filter(request.param("enabled"))
        start = _offset(request.param("next_cursor"))
        with self._lock:
            chosen = [
                s
                for s in self._subscriptions.values()
                if enabled is None or s.enabled == enabled
            ]
        page = chosen[start : start + self._page_size]
        meta: JsonObject = {"total": len(chosen)}
        if start + self._page_size < len(chosen):
            meta["nextCursor"] = _cursor(start + self._page_size)
        data = [s.public() for s in page]
        return json_response(200, {"meta": meta, "data": data})

    def create(self, request: Request, params: Mapping[str, int]) -> Response:
        fields = _body(request)
        target_type, target_id = self._target(fields)
        subscription = Subscription(
            subscription_id=str(uuid.uuid4()),
            target_type=target_type,
            target_id=target_id,
            url=_url(fields.get("url")),
            event_types=_event_types(fields.get("eventTypes"), target_type),
            enabled=_flag(fields.get("enabled", True)),
            signing_key=_text(fields, "signingKey"),
            external_id=_text(fields, "externalId"),
        )
        with self._lock:
            self._subscriptions[subscription.subscription_id] = subscription
        return json_response(201, envelope_item(subscription.public()))

    def get(self, request: Request, params: Mapping[str, int]) -> Response:
        return json_response(200, envelope_item(self._find(request).public()))

    def update(self, request: Request, params: Mapping[str, int]) -> Response:
        """PATCH: the fields given change; the target cannot."""
        fields = _body(request)
        with self._lock:
            current = self._find(request)
            changed = replace(current, **self._changes(current, fields))
            self._subscriptions[changed.subscription_id] = changed
        return json_response(200, envelope_item(changed.public()))

    def delete(self, request: Request, params: Mapping[str, int]) -> Response:
        with self._lock:
            found = self._find(request)
            del self._subscriptions[found.subscription_id]
        return Response(204, b"")

    def _find(self, request: Request) -> Subscription:
        subscription_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        found = self._subscriptions.get(subscription_id)
        if found is None:
            raise RequestRejected(
                404, "not_found", f"no subscription {subscription_id[:64]}"
            )
        return found

    def _target(self, fields: JsonObject) -> tuple[str, int]:
        target_type = fields.get("targetType")
        if target_type not in TARGET_EVENTS:
            raise _invalid(f"targetType must be one of {sorted(TARGET_EVENTS)}")
        target_id = parse_loop_id(fields.get("targetId"))
        if target_id is None:
            raise _invalid("targetId must be an integer")
        if target_id not in self._target_ids(target_type):
            raise _invalid(f"{target_type} {target_id} is not the user's to watch")
        return target_type, target_id

    def _target_ids(self, target_type: str) -> set[int]:
        if target_type == "PROFILE":
            return set(self._data.profile_ids())
        account = self._data.account
        owner = account.get("data") if isinstance(account, dict) else None
        user_id = parse_loop_id(owner.get("id")) if isinstance(owner, dict) else None
        return set() if user_id is None else {user_id}

    def _changes(self, current: Subscription, fields: JsonObject) -> dict[str, Any]:
        if fields.get("targetType", current.target_type) != current.target_type:
            raise _invalid("targetType of a subscription cannot change")
        given = fields.get("targetId", current.target_id)
        if parse_loop_id(given) != current.target_id:
            raise _invalid("targetId of a subscription cannot change")
        changes: dict[str, Any] = {}
        if "url" in fields:
            changes["url"] = _url(fields["url"])
        if "eventTypes" in fields:
            events = _event_types(fields["eventTypes"], current.target_type)
            changes["event_types"] = events
        if "enabled" in fields:
            changes["enabled"] = _flag(fields["enabled"])
        if "signingKey" in fields:
            changes["signing_key"] = _text(fields, "signingKey")
        if "externalId" in fields:
            changes["external_id"] = _text(fields, "externalId")
        return changes


def _body(request: Request) -> JsonObject:
    try:
        fields = json.loads(request.body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _invalid("the body is not JSON") from None
    if not isinstance(fields, dict):
        raise _invalid("the body must be a JSON object")
    return fields


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _invalid("url is required")
    if not is_loopback(value):
        raise _invalid("url must be http(s) on 127.0.0.1: the simulator sends there")
    return value


def _event_types(value: Any, target_type: str) -> tuple[str, ...]:
    allowed = TARGET_EVENTS[target_type]
    if not isinstance(value, list) or not value:
        raise _invalid("eventTypes must be a non-empty list")
    unknown = [item for item in value if item not in allowed]
    if unknown:
        raise _invalid(f"eventTypes {unknown[:5]} are not events of a {target_type}")
    return tuple(dict.fromkeys(value))


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _invalid("enabled must be true or false")
    return value


def _text(fields: JsonObject, key: str) -> str | None:
    value = fields.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _invalid(f"{key} must be a non-empty string")
    return value


def _enabled_filter(text: str | None) -> bool | None:
    if text is None:
        return None
    if text not in ("true", "false"):
        raise _invalid("enabled must be true or false")
    return text == "true"


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    prefix, _, number = text.partition(":")
    if prefix != "offset" or not number.isdigit():
        raise _invalid("next_cursor is not a cursor this API gave out")
    return int(number)


def _invalid(message: str) -> RequestRejected:
    return RequestRejected(400, "invalid_request", message)
