"""Client for the Dotloop public API v2, and a local simulator of it."""

from .auth import RefreshTokenSource, TokenGrant, TokenSource
from .client import ClientStats, DotloopClient
from .errors import (
    AuthenticationError,
    ClientError,
    DotloopError,
    InvalidResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from .pacing import Budget, RequestBudget, SharedRequestBudget, build_budget
from .paging import LoopPage, build_filter
from .secrets import Secret, redact

__all__ = [
    "AuthenticationError",
    "Budget",
    "ClientError",
    "ClientStats",
    "DotloopClient",
    "DotloopError",
    "InvalidResponseError",
    "LoopPage",
    "NotFoundError",
    "RateLimitedError",
    "RefreshTokenSource",
    "RequestBudget",
    "Secret",
    "ServerError",
    "SharedRequestBudget",
    "TokenGrant",
    "TokenSource",
    "TransportError",
    "build_budget",
    "build_filter",
    "redact",
]
