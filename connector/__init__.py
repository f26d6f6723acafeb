"""Client for the Dotloop public API v2, and a local simulator of it."""

from .auth import RefreshTokenSource
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
from .pacing import RequestBudget
from .paging import LoopPage, build_filter
from .secrets import Secret, redact

__all__ = [
    "AuthenticationError",
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
    "TransportError",
    "build_filter",
    "redact",
]
