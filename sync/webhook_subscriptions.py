"""This add-on's Dotloop webhook subscriptions: subscribe, list, unsubscribe.

`subscribe` makes sure each synced profile has one subscription sending its
loop events to the receiver's url, signed with DOTLOOP_WEBHOOK_SECRET. It
lists the existing subscriptions first, so running it again creates nothing:
a subscription for the same profile and url is kept, and its event types,
signing key and enabled state are set again (Dotloop never shows a signing
key, so a rotated secret could not be told apart otherwise). Further
subscriptions for the same profile and url, made elsewhere, are reported,
not deleted. No signing key is printed or logged.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from connector import DotloopClient, NotFoundError, Secret
from connector.subscriptions import Subscription, SubscriptionRequest

from .errors import ConfigurationError
from .settings import Settings
from .sweep import sweep_profiles

logger = logging.getLogger(__name__)

# Marks the subscriptions this add-on made; Dotloop echoes it in every event.
EXTERNAL_ID = "dotloop-reporter"


@dataclass(frozen=True)
class SubscribeResult:
    """The subscription one profile has now, and what subscribing did."""

    profile_id: int
    subscription: Subscription
    created: bool
    duplicates: tuple[str, ...] = ()


def subscribe(
    settings: Settings,
    client: DotloopClient,
    url: str,
    profile_ids: Sequence[int] = (),
) -> list[SubscribeResult]:
    """Subscribe url to the loop events of each profile, once per profile.

    profile_ids default to the profiles a sync covers.
    """
    signing_key = _signing_key(settings)
    _check_url(url)
    existing = client.subscriptions()
    targets = list(profile_ids) or sweep_profiles(settings, client)
    results = [
        _ensure(client, existing, _request(url, profile_id, signing_key))
        for profile_id in targets
    ]
    created = sum(result.created for result in results)
    logger.info(
        "webhook subscriptions for %d profiles: %d created, %d kept",
        len(results),
        created,
        len(results) - created,
    )
    return results


def list_subscriptions(client: DotloopClient) -> list[Subscription]:
    """Every webhook subscription of the Dotloop client, this add-on's or not."""
    return client.subscriptions()


def unsubscribe(client: DotloopClient, subscription_id: str) -> None:
    """Delete one subscription; ConfigurationError when Dotloop has none by that id."""
    try:
        client.delete_subscription(subscription_id)
    except NotFoundError:
        raise ConfigurationError(
            f"Dotloop has no webhook subscription {subscription_id[:64]!r}: "
            "`webhooks list` shows the ids"
        ) from None


def describe_subscription(subscription: Subscription) -> str:
    """One line for a terminal: id, target, state, url, event types."""
    state = "enabled" if subscription.enabled else "DISABLED"
    ours = "  (this add-on)" if subscription.external_id == EXTERNAL_ID else ""
    events = ", ".join(subscription.event_types)
    return (
        f"{subscription.subscription_id}  {subscription.target_type} "
        f"{subscription.target_id}  {state}  {subscription.url}  [{events}]{ours}"
    )


def describe_result(result: SubscribeResult) -> str:
    """One line for a terminal on what subscribing a profile did."""
    subscription = result.subscription
    done = "created" if result.created else "kept"
    line = (
        f"profile {result.profile_id}: {done} subscription "
        f"{subscription.subscription_id} -> {subscription.url} "
        f"({len(subscription.event_types)} event types)"
    )
    if result.duplicates:
        line += (
            f"; {len(result.duplicates)} more for the same url "
            f"({', '.join(result.duplicates)}): `webhooks unsubscribe ID` removes one"
        )
    return line


def _ensure(
    client: DotloopClient,
    existing: Sequence[Subscription],
    request: SubscriptionRequest,
) -> SubscribeResult:
    same = [subscription for subscription in existing if subscription.watches(request)]
    if not same:
        created = client.create_subscription(request)
        return SubscribeResult(request.target_id, created, created=True)
    kept, *others = same
    updated = client.update_subscription(kept.subscription_id, request)
    duplicates = tuple(other.subscription_id for other in others)
    return SubscribeResult(request.target_id, updated, False, duplicates)


def _request(url: str, profile_id: int, signing_key: Secret) -> SubscriptionRequest:
    return SubscriptionRequest(
        url=url,
        target_id=profile_id,
        signing_key=signing_key,
        external_id=EXTERNAL_ID,
    )


def _signing_key(settings: Settings) -> Secret:
    if settings.webhook_secret is None:
        raise ConfigurationError(
            "set DOTLOOP_WEBHOOK_SECRET: Dotloop signs each delivery with it and "
            "`webhooks serve` checks the signature with the same value"
        )
    return settings.webhook_secret


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{url!r} is not an http(s) URL: give the address where Dotloop "
            "reaches `webhooks serve`, such as https://<your host>/webhooks/dotloop"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        logger.warning(
            "Dotloop is asked to deliver to plain http at %s; deliveries carry "
            "loop ids in the clear and Dotloop may refuse it: put TLS in front",
            parts.hostname,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
