"""The hook where faults enter the request path.

A fault wraps the handler of an authenticated API call that passed the rate
limit: it may answer instead (a 5xx burst, a 429 storm, a body that is not
JSON), delay the answer, or alter it (rows moving between pages). Faults are
applied in order, the first one outermost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .wire import Request, Response

# TODO: the faults themselves (5xx bursts, slow responses, non-JSON bodies, 429
# storms, expired tokens, rows moving between pages, merged loops) and a CLI
# option to choose them are still to come; they plug in through Fault below.
Handler = Callable[[], Response]


@dataclass(frozen=True)
class ApiCall:
    """An API request on its way to its handler."""

    request: Request
    endpoint: str  # the route template, such as "GET /profile/{pid}/loop"
    params: Mapping[str, int]  # path parameters: pid, lid
    user: str


Fault = Callable[[ApiCall, Handler], Response]


def apply_faults(faults: Sequence[Fault], call: ApiCall, handler: Handler) -> Response:
    """Run `handler` wrapped in every fault; with no faults, just the handler."""
    wrapped = handler
    for fault in reversed(faults):
        wrapped = functools.partial(fault, call, wrapped)
    return wrapped()
