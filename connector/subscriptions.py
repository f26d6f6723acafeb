"""Dotloop webhook subscriptions as the client sends and reads them.

A subscription asks Dotloop to POST events of some types about a target (a
PROFILE's loops, or a USER's contacts) to a url, signed with a signing key.
On the wire the fields are `url`, `targetType`, `targetId`, `eventTypes`,
`signingKey`, `externalId` and `enabled`; ids are opaque strings (UUIDs).
The signing key is sent, never read back or kept in a repr.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .secrets import Secret

PROFILE_TARGET = "PROFILE"
# The loop events a PROFILE subscription can ask for.
LOOP_EVENT_TYPES = (
    "LOOP_CREATED",
    "LOOP_UPDATED",
    "LOOP_MERGED",
    "LOOP_PARTICIPANT_CREATED",
    "LOOP_PARTICIPANT_UPDATED",
    "LOOP_PARTICIPANT_DELETED",
)


@dataclass(frozen=True)
class SubscriptionRequest:
    """What to subscribe: a target, a url, event types and the signing key."""

    url: str
    target_id: int
    event_types: tuple[str, ...] = LOOP_EVENT_TYPES
    signing_key: Secret | None = None
    external_id: str | None = None
    enabled: bool = True
    target_type: str = PROFILE_TARGET

    def creation(self) -> dict[str, Any]:
        """The body of `POST /subscription`."""
        return {
            "targetType": self.target_type,
            "targetId": self.target_id,
            **self.changes(),
        }

    def changes(self) -> dict[str, Any]:
        """The body of `PATCH /subscription/{id}`: everything but the target."""
        body: dict[str, Any] = {
            "url": self.url,
            "eventTypes": list(self.event_types),
            "enabled": self.enabled,
        }
        if self.signing_key is not None:
            body["signingKey"] = self.signing_key.reveal()
        if self.external_id is not None:
            body["externalId"] = self.external_id
        return body


@dataclass(frozen=True)
class Subscription:
    """A subscription as Dotloop reports it (without its signing key)."""

    subscription_id: str
    target_type: str
    target_id: int
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    external_id: str | None = None

    def watches(self, request: SubscriptionRequest) -> bool:
        """Whether this subscription sends to the request's url about its target."""
        return (
            self.target_type == request.target_type
            and self.target_id == request.target_id
            and self.url == request.url
        )


def parse_subscription(item: Any) -> Subscription:
    """A subscription from the API's JSON; ValueError says what is missing.

    >>> parse_subscription({"id": "s1", "targetType": "PROFILE", "targetId": "7",
    ...     "url": "https://x/h", "eventTypes": ["LOOP_UPDATED"]}).target_id
    7
    """
    if not isinstance(item, dict):
        raise ValueError("a subscription is not an object")
    subscription_id = item.get("id")
    target_id = item.get("targetId")
    if isinstance(target_id, str) and target_id.isdigit():
        target_id = int(target_id)
    events = item.get("eventTypes")
    if not isinstance(subscription_id, str | int) or isinstance(subscription_id, bool):
        raise ValueError("a subscription has no id")
    if not isinstance(target_id, int) or isinstance(target_id, bool):
        raise ValueError(f"subscription {subscription_id} has no numeric targetId")
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ValueError(f"subscription {subscription_id} has no eventTypes list")
    external_id = item.get("externalId")
    return Subscription(
        subscription_id=str(subscription_id),
        target_type=str(item.get("targetType")),
        target_id=target_id,
        url=str(item.get("url")),
        event_types=tuple(events),
        # Absent means enabled, the default at creation.
        enabled=item.get("enabled") is not False,
        external_id=external_id if isinstance(external_id, str) else None,
    )
