"""The per-loop requests of a run: participants, details, a loop by id.

Each costs one request of the budget, so each failure is worth keeping: a
response that is not usable is returned as an InvalidPayload to quarantine,
and every fetch that did not land is returned as a FailedFetch for the
pending-fetch table (sync/pending.py), so a later run asks again. A loop that
answers 404 itself, not only its participant list, is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connector import DotloopClient, InvalidResponseError, NotFoundError
from connector.secrets import redact

from .payloads import (
    Document,
    InvalidPayload,
    UnusablePayload,
    parse_details,
    raw_bytes,
)
from .pending import DETAILS, PARTICIPANTS, FailedFetch
from .runs import RunCounts

logger = logging.getLogger(__name__)

Participants = dict[int, list[Any] | InvalidPayload]


@dataclass
class FetchedParticipants:
    """Participant lists by loop (or what to quarantine), gone loops, failures."""

    lists: Participants = field(default_factory=dict)
    gone: list[int] = field(default_factory=list)
    failures: list[FailedFetch] = field(default_factory=list)


@dataclass
class FetchedDetails:
    """Details by loop, responses to quarantine, and failures."""

    documents: dict[int, Document] = field(default_factory=dict)
    invalid: dict[int, InvalidPayload] = field(default_factory=dict)
    failures: list[FailedFetch] = field(default_factory=list)


class LoopFetcher:
    """Fetches per loop for one run, counting and remembering what failed.

    `failed` holds the loops whose participants failed this run, so another
    profile showing the same loop does not spend a request on it again;
    `between` runs before each request (the run keeps its lease alive there).
    """

    def __init__(
        self,
        client: DotloopClient,
        counts: RunCounts,
        *,
        between: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.counts = counts
        self.between = between
        self.failed: set[int] = set()

    def participants(
        self, profile_id: int, versions: Mapping[int, str]
    ) -> FetchedParticipants:
        """Participants of the loops; versions maps each to its `updated`."""
        fetched = FetchedParticipants()
        for loop_id, updated in versions.items():
            self.between()
            try:
                fetched.lists[loop_id] = self.client.loop_participants(
                    profile_id, loop_id
                )
            except NotFoundError as exc:
                self.failed.add(loop_id)
                if self.gone(profile_id, loop_id):
                    fetched.gone.append(loop_id)
                else:
                    fetched.failures.append(
                        _failure(loop_id, PARTICIPANTS, profile_id, updated, exc)
                    )
                continue
            except InvalidResponseError as exc:
                self.failed.add(loop_id)
                fetched.lists[loop_id] = InvalidPayload(redact(str(exc)), exc.body)
                fetched.failures.append(
                    _failure(loop_id, PARTICIPANTS, profile_id, updated, exc)
                )
                continue
            self.counts.participants_fetched += 1
        return fetched

    def details(self, profile_id: int, versions: Mapping[int, str]) -> FetchedDetails:
        """Details of the loops from the detail endpoint, one request each."""
        fetched = FetchedDetails()
        for loop_id, updated in versions.items():
            self.between()
            try:
                detail = self.client.loop_detail(profile_id, loop_id)
            except InvalidResponseError as exc:
                fetched.invalid[loop_id] = InvalidPayload(redact(str(exc)), exc.body)
                fetched.failures.append(
                    _failure(loop_id, DETAILS, profile_id, updated, exc)
                )
                continue
            except NotFoundError as exc:
                fetched.failures.append(
                    _failure(loop_id, DETAILS, profile_id, updated, exc)
                )
                continue
            try:
                fetched.documents[loop_id] = parse_details(detail)
            except UnusablePayload as exc:
                fetched.invalid[loop_id] = InvalidPayload(str(exc), raw_bytes(detail))
                fetched.failures.append(
                    _failure(loop_id, DETAILS, profile_id, updated, exc)
                )
        for failure in fetched.failures:
            logger.warning(
                "details of loop %d not fetched (%s); a later run asks again",
                failure.loop_id,
                failure.error,
            )
        return fetched

    def loop(self, profile_id: int, loop_id: int) -> dict[str, Any]:
        """One loop's summary, as the list serves it (without details)."""
        self.between()
        return self.client.loop(profile_id, loop_id)

    def gone(self, profile_id: int, loop_id: int) -> bool:
        """Whether the loop itself answers 404 too, not only its participants."""
        self.between()
        try:
            self.client.loop(profile_id, loop_id)
        except NotFoundError:
            logger.warning(
                "loop %d answers 404 through profile %d: marked gone",
                loop_id,
                profile_id,
            )
            return True
        except InvalidResponseError:
            pass
        logger.warning(
            "loop %d of profile %d has no participants (404); a later run asks again",
            loop_id,
            profile_id,
        )
        return False


def _failure(
    loop_id: int, kind: str, profile_id: int, updated: str, exc: Exception
) -> FailedFetch:
    return FailedFetch(loop_id, kind, profile_id, updated, redact(str(exc)))
