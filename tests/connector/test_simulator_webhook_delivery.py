"""Edits in the simulator, and the signed webhooks it delivers for them."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from webhook_receiver import PATIENCE, Receiver, api_client, subscription_body

from connector.simulator import (
    SimulatedData,
    Simulator,
    SimulatorConfig,
    generate_brokerage,
)
from connector.simulator.changes import LoopChanges
from connector.simulator.cli import add_arguments, config_from, fault_config_from
from connector.simulator.config import DOTLOOP_RETRY_DELAYS
from connector.simulator.faults import FaultConfig, build_faults

KEY = "sim-signing-key"
CONFIG = SimulatorConfig(
    rate_limit_per_minute=100_000, webhook_retry_delays=(0.01, 0.01)
)


@pytest.fixture
def data() -> SimulatedData:
    return generate_brokerage(40, seed=8)


@pytest.fixture
def sim(data: SimulatedData) -> Iterator[Simulator]:
    with Simulator(data, CONFIG) as simulator:
        yield simulator


@pytest.fixture
def api(sim: Simulator) -> Iterator[httpx.Client]:
    with api_client(sim) as client:
        yield client


def company(data: SimulatedData) -> int:
    return max(data.listings, key=lambda pid: len(data.listings[pid]))


def office_without(data: SimulatedData, loop_id: int) -> int:
    return next(pid for pid, ls in data.listings.items() if ls.find(loop_id) is None)


def a_loop(data: SimulatedData) -> int:
    entry = data.listings[company(data)].entries[0]
    assert entry.loop_id is not None
    return entry.loop_id


def subscribe(api: httpx.Client, url: str, profile_id: int, **fields: Any) -> str:
    body = subscription_body(url, profile_id, **fields)
    answer = api.post("/subscription", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["id"])


def edit(sim: Simulator, path: str) -> httpx.Response:
    return httpx.post(sim.admin_url + path, timeout=10)


def settled(sim: Simulator) -> dict[str, int]:
    """The delivery counts once nothing is left to send."""
    assert sim.app.webhooks.wait_idle(PATIENCE)
    counts: dict[str, int] = sim.stats()["webhook_deliveries"]
    return counts


def test_an_update_is_delivered_signed_to_the_subscribed_profile(
    sim: Simulator, api: httpx.Client, data: SimulatedData
) -> None:
    profile_id, loop_id = company(data), a_loop(data)
    with Receiver() as receiver:
        subscribe(api, receiver.url, profile_id)

        answer = edit(sim, f"/loop/{loop_id}/update")
        (delivery,) = receiver.wait_for(1)

    served = api.get(f"/profile/{profile_id}/loop/{loop_id}").json()["data"]
    assert answer.status_code == 200
    assert answer.json()["data"]["updated"] == served["updated"]
    assert delivery.signed_with(KEY)
    assert delivery.event["eventType"] == "LOOP_UPDATED"
    assert delivery.event["subscriptionExternalId"] == "tests"
    assert delivery.event["event"] == {
        "id": loop_id,
        "profileId": profile_id,
        "loopId": loop_id,
    }
    assert settled(sim) == {"delivered": 1}


def test_only_enabled_subscriptions_that_want_the_event_hear_of_it(
    sim: Simulator, api: httpx.Client, data: SimulatedData
) -> None:
    loop_id = a_loop(data)
    with Receiver() as wanted, Receiver() as others:
        subscribe(api, wanted.url, company(data))
        subscribe(api, others.url, office_without(data, loop_id))
        subscribe(api, others.url, company(data), eventTypes=["LOOP_CREATED"])
        subscribe(api, others.url, company(data), enabled=False)

        edit(sim, f"/loop/{loop_id}/update")
        wanted.wait_for(1)
        counts = settled(sim)

    assert counts == {"delivered": 1}
    assert others.received == []


def test_a_failed_delivery_is_retried_with_the_same_event_id(
    sim: Simulator, api: httpx.Client, data: SimulatedData
) -> None:
    with Receiver(statuses=[500, 503]) as receiver:
        subscribe(api, receiver.url, company(data))

        edit(sim, f"/loop/{a_loop(data)}/update")
        attempts = receiver.wait_for(3)
        counts = settled(sim)

    assert len({attempt.event["eventId"] for attempt in attempts}) == 1
    assert all(attempt.signed_with(KEY) for attempt in attempts)
    assert counts == {"delivered": 1, "retrying": 2}


def test_a_delivery_is_given_up_after_the_last_retry(
    sim: Simulator, api: httpx.Client, data: SimulatedData
) -> None:
    with Receiver(statuses=[500, 500, 500, 500]) as receiver:
        subscribe(api, receiver.url, company(data))

        edit(sim, f"/loop/{a_loop(data)}/update")
        receiver.wait_for(3)
        counts = settled(sim)

    assert len(receiver.received) == 3
    assert counts == {"retrying": 2, "failed": 1}


def test_a_slow_receiver_does_not_slow_the_api(
    data: SimulatedData,
) -> None:
    config = replace(CONFIG, webhook_timeout_seconds=60.0)
    release = threading.Event()
    with (
        Simulator(data, config) as sim,
        api_client(sim) as api,
        Receiver(hold=release) as receiver,
    ):
        subscribe(api, receiver.url, company(data))
        try:
            # A simulator that delivered in line would hang here for a minute,
            # past this client's 10 s timeout.
            answer = edit(sim, f"/loop/{a_loop(data)}/update")
            listed = api.get(f"/profile/{company(data)}/loop")
            receiver.wait_for(1)
        finally:
            release.set()

    assert answer.status_code == 200
    assert listed.status_code == 200


def test_a_new_participant_is_served_and_told_twice(
    sim: Simulator, api: httpx.Client, data: SimulatedData
) -> None:
    profile_id, loop_id = company(data), a_loop(data)
    path = f"/profile/{profile_id}/loop/{loop_id}/participant"
    before = api.get(path).json()["data"]
    with Receiver() as receiver:
        subscribe(
            api,
            receiver.url,
            profile_id,
            eventTypes=["LOOP_UPDATED", "LOOP_PARTICIPANT_CREATED"],
        )

        answer = edit(sim, f"/loop/{loop_id}/participant")
        deliveries = receiver.wait_for(2)

    person = answer.json()["data"]
    assert answer.status_code == 201
    assert api.get(path).json()["data"] == [*before, person]
    events = {d.event["eventType"]: d.event["event"] for d in deliveries}
    assert events == {
        "LOOP_PARTICIPANT_CREATED": {
            "id": person["id"],
            "profileId": profile_id,
            "loopId": loop_id,
        },
        "LOOP_UPDATED": {"id": loop_id, "profileId": profile_id, "loopId": loop_id},
    }


def test_a_created_loop_is_listed_served_and_told(
    sim: Simulator, api: httpx.Client, data: SimulatedData
) -> None:
    profile_id = company(data)
    with Receiver() as receiver:
        subscribe(api, receiver.url, profile_id, eventTypes=["LOOP_CREATED"])

        answer = edit(sim, f"/profile/{profile_id}/loop")
        (delivery,) = receiver.wait_for(1)

    created = answer.json()["data"]
    listed = api.get(f"/profile/{profile_id}/loop", params={"batch_size": "1"})
    assert answer.status_code == 201
    assert listed.json()["data"] == [created]
    assert api.get(f"/profile/{profile_id}/loop/{created['id']}").status_code == 200
    assert delivery.event["eventType"] == "LOOP_CREATED"
    assert delivery.event["event"]["loopId"] == created["id"]


def test_a_merged_loop_answers_404_and_its_survivor_moves(
    sim: Simulator, api: httpx.Client, data: SimulatedData
) -> None:
    profile_id = company(data)
    old_id, new_id = (e.loop_id for e in data.listings[profile_id].entries[:2])
    with Receiver() as receiver:
        subscribe(api, receiver.url, profile_id)

        answer = edit(sim, f"/loop/{old_id}/merge/{new_id}")
        (delivery,) = receiver.wait_for(1)

    newest = api.get(f"/profile/{profile_id}/loop", params={"batch_size": "100"})
    ids = [item["id"] for item in newest.json()["data"]]
    assert answer.json()["data"] == {"id": new_id, "mergedLoopId": old_id}
    assert api.get(f"/profile/{profile_id}/loop/{old_id}").status_code == 404
    assert old_id not in ids
    assert ids[0] == new_id
    assert delivery.event["eventType"] == "LOOP_MERGED"
    assert delivery.event["event"] == {
        "id": new_id,
        "profileId": profile_id,
        "loopId": new_id,
        "mergedLoopId": old_id,
    }


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/loop/1/update", 404),
        ("/loop/1/participant", 404),
        ("/loop/1/merge/2", 404),
        ("/loop/5/merge/5", 400),
        ("/profile/1/loop", 404),
        ("/loop/1/delete", 404),
    ],
)
def test_edits_of_what_is_not_there_are_refused(
    sim: Simulator, path: str, status: int
) -> None:
    answer = edit(sim, path)

    assert answer.status_code == status
    assert sim.stats()["total_requests"] == 0


def test_the_merge_fault_merges_while_a_listing_is_paged(
    data: SimulatedData,
) -> None:
    changes = LoopChanges(data)
    faults = build_faults(FaultConfig(seed=3, merge_rate=1.0), data, changes=changes)
    profile_id = company(data)
    before = {e.loop_id for e in data.listings[profile_id].entries}
    with (
        Simulator(data, CONFIG, faults=faults, changes=changes) as sim,
        api_client(sim) as api,
        Receiver() as receiver,
    ):
        subscribe(api, receiver.url, profile_id)

        listed = api.get(f"/profile/{profile_id}/loop", params={"batch_size": "100"})
        (delivery,) = receiver.wait_for(1)
        merged = delivery.event["event"]["mergedLoopId"]
        gone = api.get(f"/profile/{profile_id}/loop/{merged}").status_code
        injected = sim.stats()["faults_injected"]

    ids = {item["id"] for item in listed.json()["data"]}
    assert injected == {"merged_loop": 1}
    assert before - ids == {merged}
    assert delivery.event["event"]["loopId"] in ids
    assert gone == 404


def test_the_timestamp_scheme_signs_the_timestamp_and_the_body(
    data: SimulatedData,
) -> None:
    config = replace(CONFIG, webhook_signature_scheme="timestamp.body")
    with (
        Simulator(data, config) as sim,
        api_client(sim) as api,
        Receiver() as receiver,
    ):
        subscribe(api, receiver.url, company(data))
        edit(sim, f"/loop/{a_loop(data)}/update")
        (delivery,) = receiver.wait_for(1)

    signed = delivery.headers["x-dotloop-timestamp"].encode() + b"." + delivery.body
    expected = hmac.new(KEY.encode(), signed, hashlib.sha1).hexdigest()
    assert delivery.headers["x-dotloop-signature"] == expected


def test_webhook_and_merge_options_reach_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--merge-rate=0.25",
            "--webhook-signature-scheme=timestamp.body",
            "--webhook-retry-scale=0.5",
        ]
    )

    config = config_from(args)
    assert fault_config_from(args).merge_rate == 0.25
    assert config.webhook_signature_scheme == "timestamp.body"
    assert config.webhook_retry_delays == tuple(d / 2 for d in DOTLOOP_RETRY_DELAYS)
