"""Errors of the connector package, one tree whose branches say what to do next.

DotloopError               status_code, url
├── TransportError         connection refused or reset, timeout (after retries)
├── AuthenticationError    credentials refused: reconnect Dotloop
├── RateLimitedError       429 still after the bounded retries
├── ServerError            5xx still after the bounded retries
├── NotFoundError          404: the loop was merged or access was removed
├── ClientError            any other 4xx
└── InvalidResponseError   body not JSON or not the envelope: body, excerpt
"""

from __future__ import annotations

from .secrets import redact

EXCERPT_CHARS = 200


class DotloopError(Exception):
    """Root of every error raised by the connector."""

    def __init__(
        self, message: str, *, status_code: int | None = None, url: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.url = None if url is None else redact(url)


class TransportError(DotloopError):
    """Dotloop could not be reached or did not answer in time."""


class AuthenticationError(DotloopError):
    """Dotloop refused the credentials; the message says what to reconnect.

    `oauth_error` is the token endpoint's error code, such as "invalid_grant"
    (the refresh token is dead) or "invalid_client", when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        url: str | None = None,
        oauth_error: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, url=url)
        self.oauth_error = oauth_error


class RateLimitedError(DotloopError):
    """Dotloop kept answering 429 after the bounded retries."""


class ServerError(DotloopError):
    """Dotloop kept answering 5xx after the bounded retries."""


class NotFoundError(DotloopError):
    """Dotloop answered 404: the resource was merged, removed or never existed."""


class ClientError(DotloopError):
    """Dotloop rejected the request with a 4xx other than 401, 404 and 429."""


class InvalidResponseError(DotloopError):
    """The body is not JSON or not the expected envelope; kept raw for quarantine."""

    def __init__(
        self,
        message: str,
        *,
        body: bytes,
        status_code: int | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, url=url)
        self.body = body
        self.excerpt = excerpt(body)


def excerpt(body: bytes) -> str:
    """The start of a body, secrets masked, at most 200 characters.

    >>> excerpt(b'{"access_token": "abc", "x": 1}')
    '{"access_token": "**********", "x": 1}'
    """
    # Redact before cutting, so a token cut in half cannot slip past the patterns.
    text = redact(body[: EXCERPT_CHARS * 8].decode("utf-8", errors="replace"))
    return text[:EXCERPT_CHARS]
