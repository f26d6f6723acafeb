"""Loop list paging and the filter parameter."""

from __future__ import annotations

import doctest
import logging
from collections.abc import Iterator, Mapping, Sequence

import pytest
from fake_dotloop import FakeClock, FakeDotloop, json_reply, loopback_http

from connector import (
    DotloopClient,
    LoopPage,
    RefreshTokenSource,
    RequestBudget,
    Secret,
    auth,
    build_filter,
    errors,
    paging,
)


@pytest.fixture
def fake() -> Iterator[FakeDotloop]:
    with FakeDotloop() as server:
        yield server


@pytest.fixture
def client(fake: FakeDotloop) -> Iterator[DotloopClient]:
    clock = FakeClock()
    tokens = RefreshTokenSource(
        fake.auth_url,
        fake.client_id,
        Secret(fake.client_secret),
        Secret(fake.refresh_token),
        loopback_http(),
    )
    budget = RequestBudget(600, clock=clock, sleep=clock.sleep)
    client = DotloopClient(fake.base_url, tokens, budget, http=loopback_http())
    with tokens, client as made:
        yield made


def page(ids: range, total: int = -1) -> dict[str, object]:
    return {"meta": {"total": total}, "data": [{"id": i} for i in ids]}


def test_pages_are_requested_until_the_first_short_page(
    fake: FakeDotloop, client: DotloopClient
) -> None:
    fake.script(
        "/profile/4/loop",
        json_reply(page(range(0, 3))),
        json_reply(page(range(3, 6))),
        json_reply(page(range(6, 7))),
    )

    pages = list(client.iter_loop_pages(4, batch_size=3))

    assert [p.batch_number for p in pages] == [1, 2, 3]
    assert [item["id"] for p in pages for item in p.items] == list(range(7))
    assert all(p.total == -1 and p.profile_id == 4 for p in pages)
    assert len(fake.api_requests()) == 3


def test_an_exact_multiple_ends_with_an_empty_page(
    fake: FakeDotloop, client: DotloopClient
) -> None:
    fake.script(
        "/profile/4/loop",
        json_reply(page(range(0, 2), total=4)),
        json_reply(page(range(2, 4), total=4)),
        json_reply(page(range(0), total=4)),
    )

    pages = list(client.iter_loop_pages(4, batch_size=2))

    assert [len(p.items) for p in pages] == [2, 2, 0]


def test_a_total_that_claims_more_does_not_keep_paging(
    fake: FakeDotloop, client: DotloopClient
) -> None:
    fake.script("/profile/4/loop", json_reply(page(range(5), total=500)))

    pages = list(client.iter_loop_pages(4, batch_size=10))

    assert len(pages) == 1
    assert pages[0].total == 500


def test_each_page_carries_its_items_raw_and_its_size(
    fake: FakeDotloop, client: DotloopClient
) -> None:
    body = {"data": [{"id": 1, "odd": [None, 1.5]}, "not-an-object", 7]}
    reply = json_reply(body)
    fake.script("/profile/4/loop", reply)

    (first,) = client.iter_loop_pages(4, batch_size=5)

    assert first == LoopPage(4, 1, body["data"], None, len(reply.body))


def test_the_query_carries_paging_sort_filter_and_details(
    fake: FakeDotloop, client: DotloopClient
) -> None:
    fake.script("/profile/4/loop", json_reply(page(range(0))))
    filters = {
        "updated_min": "2024-01-01T00:00:00Z",
        "transaction_type": ["PURCHASE_OFFER", "LISTING_FOR_SALE"],
    }

    list(client.iter_loop_pages(4, batch_size=50, sort="created:asc", filters=filters))

    (seen,) = fake.api_requests()
    assert seen.path == "/public/v2/profile/4/loop"
    assert seen.query == {
        "batch_number": ["1"],
        "batch_size": ["50"],
        "sort": ["created:asc"],
        "filter": [
            "updated_min=2024-01-01T00:00:00Z,"
            "transaction_type=PURCHASE_OFFER|LISTING_FOR_SALE"
        ],
        "include_details": ["true"],
    }


def test_details_and_an_empty_filter_can_be_left_out(
    fake: FakeDotloop, client: DotloopClient
) -> None:
    fake.script("/profile/4/loop", json_reply(page(range(0))))

    list(client.iter_loop_pages(4, filters={}, include_details=False))

    (seen,) = fake.api_requests()
    assert set(seen.query) == {"batch_number", "batch_size", "sort"}
    assert seen.query["sort"] == ["updated:desc"]
    assert seen.query["batch_size"] == ["100"]


def test_one_info_line_per_page(
    fake: FakeDotloop, client: DotloopClient, caplog: pytest.LogCaptureFixture
) -> None:
    full, short = json_reply(page(range(2))), json_reply(page(range(1)))
    fake.script("/profile/4/loop", full, short)

    with caplog.at_level(logging.INFO, logger="connector"):
        list(client.iter_loop_pages(4, batch_size=2))

    lines = [r.getMessage() for r in caplog.records if r.name == "connector.client"]
    assert lines == [
        f"profile 4 batch 1: 2 loops (total -1, {len(full.body)} bytes)",
        f"profile 4 batch 2: 1 loops (total -1, {len(short.body)} bytes)",
    ]


@pytest.mark.parametrize("batch_size", [0, -1, 101, 1000])
def test_a_batch_size_dotloop_would_not_honour_is_refused_at_once(
    client: DotloopClient, batch_size: int
) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        client.iter_loop_pages(4, batch_size=batch_size)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ""),
        ({"transaction_status": "SOLD"}, "transaction_status=SOLD"),
        ({"transaction_status": ["SOLD"]}, "transaction_status=SOLD"),
        (
            {"transaction_status": ("SOLD", "LEASED", "ARCHIVED")},
            "transaction_status=SOLD|LEASED|ARCHIVED",
        ),
        (
            {"updated_min": "2024-03-01T10:00:00Z", "created_min": "2023-01-01"},
            "updated_min=2024-03-01T10:00:00Z,created_min=2023-01-01",
        ),
        (
            {"transaction_type": ["PURCHASE_OFFER", "LEASE_OFFER"], "x": "y z"},
            "transaction_type=PURCHASE_OFFER|LEASE_OFFER,x=y z",
        ),
    ],
)
def test_build_filter(
    filters: Mapping[str, str | Sequence[str]], expected: str
) -> None:
    assert build_filter(filters) == expected


@pytest.mark.parametrize(
    "filters",
    [
        {"transaction_status": []},
        {"transaction_status": ""},
        {"transaction_status": ["SOLD", ""]},
        {"": "SOLD"},
        {"transaction_status": "SOLD,LEASED"},
        {"transaction_status": "SOLD|LEASED"},
        {"transaction_type": ["A=B"]},
        {"a,b": "c"},
    ],
)
def test_build_filter_refuses_what_the_syntax_cannot_carry(
    filters: Mapping[str, str | Sequence[str]],
) -> None:
    with pytest.raises(ValueError):
        build_filter(filters)


@pytest.mark.parametrize("module", [paging, errors, auth])
def test_the_examples_in_docstrings_hold(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]

    assert result.attempted > 0
    assert result.failed == 0
