"""Handlers of the resources under /public/v2: account, profiles and loops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .data import LoopEntry, LoopListing, SimulatedData, envelope_item, envelope_list
from .errors import RequestRejected
from .listing import parse_loop_query, select_page
from .wire import Request, Response, body_response, json_response


class ApiResources:
    """Answers resource requests from a SimulatedData; raises RequestRejected."""

    def __init__(self, data: SimulatedData) -> None:
        self._data = data

    def account(self, request: Request, params: Mapping[str, int]) -> Response:
        return body_response(self._data.account)

    def profiles(self, request: Request, params: Mapping[str, int]) -> Response:
        return body_response(self._data.profiles)

    def loops(self, request: Request, params: Mapping[str, int]) -> Response:
        listing = self._listing(params["pid"])
        if listing.raw is not None:
            return body_response(listing.raw)
        query = parse_loop_query(request.query)
        page, total = select_page(listing, query)
        items = [_list_item(entry, query.include_details) for entry in page]
        shown_total = -1 if listing.hide_total else total
        return json_response(200, envelope_list(items, shown_total))

    def loop(self, request: Request, params: Mapping[str, int]) -> Response:
        return json_response(200, envelope_item(self._entry(params).summary()))

    def detail(self, request: Request, params: Mapping[str, int]) -> Response:
        body = self._entry(params).detail()
        if body is None:
            raise _not_found(f"loop {params['lid']} has no details")
        return body_response(body)

    def participants(self, request: Request, params: Mapping[str, int]) -> Response:
        body = self._entry(params).participants()
        if body is None:
            raise _not_found(f"loop {params['lid']} has no participants")
        return body_response(body)

    def _listing(self, profile_id: int) -> LoopListing:
        listing = self._data.listing(profile_id)
        if listing is None:
            raise _not_found(f"profile {profile_id} not found")
        return listing

    def _entry(self, params: Mapping[str, int]) -> LoopEntry:
        entry = self._listing(params["pid"]).find(params["lid"])
        if entry is None:
            raise _not_found(f"loop {params['lid']} not found")
        return entry


def _list_item(entry: LoopEntry, include_details: bool) -> Any:
    item = entry.summary()
    if not include_details or not isinstance(item, dict):
        return item
    details = entry.details_object()
    return item if details is None else {**item, "details": details}


def _not_found(message: str) -> RequestRejected:
    return RequestRejected(404, "not_found", message)
