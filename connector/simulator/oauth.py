"""The OAuth endpoints: /oauth/authorize, /oauth/token and /oauth/token/revoke."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from urllib.parse import urlencode, urlsplit, urlunsplit

from .config import SCOPE, SimulatorConfig
from .stats import SimulatorStats
from .tokens import IssuedToken, TokenStore
from .wire import Request, Response, error_response, json_response

logger = logging.getLogger(__name__)

# The simulated API has one user; every grant belongs to it.
USER = "user-1"


class OAuthEndpoints:
    """Authorization-code and refresh-token grants with HTTP Basic client auth."""

    def __init__(
        self, config: SimulatorConfig, tokens: TokenStore, stats: SimulatorStats
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._stats = stats
        tokens.add_grant(config.refresh_token, USER)

    def authorize(self, request: Request) -> Response:
        """Consent is implied: redirect back at once with a code (and state)."""
        redirect_uri = request.param("redirect_uri")
        if request.param("client_id") != self._config.client_id:
            return error_response(400, "invalid_client", "unknown client_id")
        if request.param("response_type") != "code" or not redirect_uri:
            return error_response(
                400, "invalid_request", "response_type=code and redirect_uri required"
            )
        code = self._tokens.create_code(USER, redirect_uri)
        answer = {"code": code}
        state = request.param("state")
        if state is not None:
            answer["state"] = state
        return Response(
            302, b"", headers={"Location": _with_query(redirect_uri, answer)}
        )

    def token(self, request: Request) -> Response:
        """Exchange a refresh token or an authorization code for an access token."""
        if not self._client_authenticated(request):
            return _invalid_client()
        grant_type = request.param("grant_type")
        if grant_type == "refresh_token":
            issued = self._tokens.refresh(request.param("refresh_token") or "")
            if issued is not None:
                self._stats.count_refresh()
        elif grant_type == "authorization_code":
            code = request.param("code") or ""
            issued = self._tokens.exchange_code(code, request.param("redirect_uri"))
        else:
            return error_response(400, "unsupported_grant_type", "unsupported grant")
        if issued is None:
            return error_response(400, "invalid_grant", f"{grant_type} not accepted")
        logger.debug("issued an access token by %s", grant_type)
        return json_response(200, _token_body(issued))

    def revoke(self, request: Request) -> Response:
        """Revoke an access or refresh token; unknown tokens are no error."""
        if not self._client_authenticated(request):
            return _invalid_client()
        token = request.param("token")
        if not token:
            return error_response(400, "invalid_request", "token required")
        self._tokens.revoke(token)
        return json_response(200, {})

    def _client_authenticated(self, request: Request) -> bool:
        credentials = _basic_credentials(request.headers.get("authorization", ""))
        if credentials is None:
            return False
        client_id, client_secret = credentials
        return hmac.compare_digest(
            client_id.encode(), self._config.client_id.encode()
        ) and hmac.compare_digest(
            client_secret.encode(), self._config.client_secret.encode()
        )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    return (client_id, client_secret) if sep else None


def _invalid_client() -> Response:
    return error_response(
        401,
        "invalid_client",
        "client authentication failed",
        **{"WWW-Authenticate": 'Basic realm="dotloop"'},
    )


def _token_body(issued: IssuedToken) -> dict[str, object]:
    return {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "refresh_token": issued.refresh_token,
        "expires_in": round(issued.expires_in),
        "scope": SCOPE,
    }


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit(parts._replace(query=query))
