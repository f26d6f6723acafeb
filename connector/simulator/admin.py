"""Edits by hand: POST endpoints under /_simulator that change loops.

They stand for someone working in Dotloop while the add-on syncs: each edit
changes what the API serves and, for subscribed profiles, is delivered as a
webhook. Like the stats endpoint they take no token, spend no rate limit and
are not counted; the simulator listens on 127.0.0.1 only.

    POST /_simulator/loop/{lid}/update          LOOP_UPDATED
    POST /_simulator/loop/{lid}/participant     LOOP_PARTICIPANT_CREATED, LOOP_UPDATED
    POST /_simulator/loop/{lid}/merge/{into}    LOOP_MERGED: lid merged into `into`
    POST /_simulator/profile/{pid}/loop         LOOP_CREATED, a copy of a listed loop
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .changes import LoopChanges
from .data import envelope_item
from .errors import RequestRejected
from .wire import Request, Response, json_response

ADMIN_PREFIX = "/_simulator"


class AdminEndpoints:
    """Handlers of the edit endpoints; raise RequestRejected for a bad one."""

    def __init__(self, changes: LoopChanges) -> None:
        self._changes = changes

    def update(self, request: Request, params: Mapping[str, int]) -> Response:
        loop_id = params["lid"]
        if not self._changes.update(loop_id):
            raise _no_loop(loop_id)
        return json_response(200, envelope_item(self._summary(loop_id)))

    def participant(self, request: Request, params: Mapping[str, int]) -> Response:
        person = self._changes.add_participant(params["lid"])
        if person is None:
            raise _no_loop(params["lid"])
        return json_response(201, envelope_item(person))

    def merge(self, request: Request, params: Mapping[str, int]) -> Response:
        old_id, new_id = params["lid"], params["into"]
        if old_id == new_id:
            raise RequestRejected(
                400, "invalid_request", "a loop cannot be merged into itself"
            )
        if not self._changes.merge(old_id, new_id):
            raise RequestRejected(
                404, "not_found", f"loops {old_id} and {new_id} are not both listed"
            )
        merged = {"id": new_id, "mergedLoopId": old_id}
        return json_response(200, envelope_item(merged))

    def create(self, request: Request, params: Mapping[str, int]) -> Response:
        loop_id = self._changes.create(params["pid"])
        if loop_id is None:
            raise RequestRejected(
                404, "not_found", f"profile {params['pid']} lists no loop to copy"
            )
        return json_response(201, envelope_item(self._summary(loop_id)))

    def _summary(self, loop_id: int) -> Any:
        for listing in self._changes.data.listings.values():
            entry = listing.find(loop_id)
            if entry is not None:
                return entry.summary()
        raise _no_loop(loop_id)


def _no_loop(loop_id: int) -> RequestRejected:
    return RequestRejected(404, "not_found", f"loop {loop_id} is not listed")
