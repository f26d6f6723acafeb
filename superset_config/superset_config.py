"""Superset configuration for Dotloop Reporter, read from the environment.

Superset loads this file through SUPERSET_CONFIG_PATH and copies every
upper-case name. Environment variables:

    SUPERSET_SECRET_KEY        required; at least 32 characters, not a default
    SUPERSET_METADATA_URL      metadata database (default: SQLite in the data dir)
    DOTLOOP_REPORTER_DATA_DIR  data directory (default: <repo>/.data)
    REDIS_URL                  caches, filter state and rate limits on Redis
    SUPERSET_EMBEDDED          "false" turns embedded dashboards off
    GUEST_TOKEN_JWT_SECRET     required while embedding is on
    GUEST_TOKEN_JWT_AUDIENCE   required while embedding is on
    SUPERSET_GUEST_ROLE        role of embedded viewers (default EmbeddedViewer)
    SUPERSET_ALLOWED_ORIGINS   comma-separated origins that may frame Superset
    SUPERSET_COOKIE_SECURE     "false" keeps cookies off Secure (plain-http demo)
    SUPERSET_PROXY_FIX         "true" behind a reverse proxy (X-Forwarded-*)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent

# Values published in Superset's docs, charts and examples: anyone knows them.
_KNOWN_SECRET_KEYS = frozenset(
    {
        "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET",
        "thisISaSECRET_1234",
        "\2\1thisismyscretkey\1\2\\e\\y\\y\\h",
        "TEST_NON_DEV_SECRET",
        "YOUR_OWN_RANDOM_GENERATED_SECRET_KEY",
        "test-guest-secret-change-me",
        "test-secret-change-me",
    }
)
_MIN_SECRET_LENGTH = 32


class SupersetConfigError(RuntimeError):
    """The environment does not configure Superset safely; the message says how."""


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SupersetConfigError(f"{name} must be true or false, not {raw!r}")


def _secret(name: str, purpose: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SupersetConfigError(
            f"{name} is not set: Superset needs it to {purpose}. Generate one "
            "with `openssl rand -base64 42` and set it in the environment"
        )
    if value in _KNOWN_SECRET_KEYS:
        raise SupersetConfigError(
            f"{name} is a published default value; generate a random one "
            "with `openssl rand -base64 42`"
        )
    if len(value) < _MIN_SECRET_LENGTH:
        raise SupersetConfigError(
            f"{name} is shorter than {_MIN_SECRET_LENGTH} characters; generate "
            "one with `openssl rand -base64 42`"
        )
    return value


def _metadata_url() -> str:
    url = os.environ.get("SUPERSET_METADATA_URL", "")
    if url:
        return url
    data_dir = Path(os.environ.get("DOTLOOP_REPORTER_DATA_DIR") or _REPO / ".data")
    home = data_dir / "superset"
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'superset.db'}?check_same_thread=false"


def _allowed_origins() -> list[str]:
    raw = os.environ.get("SUPERSET_ALLOWED_ORIGINS", "")
    origins = [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or " " in origin:
            raise SupersetConfigError(
                f"SUPERSET_ALLOWED_ORIGINS holds {origin!r}; give full origins "
                "such as https://portal.example.com, separated by commas"
            )
    return origins


def _redis_cache(url: str, prefix: str, timeout: int) -> dict[str, Any]:
    return {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": url,
        "CACHE_KEY_PREFIX": prefix,
        "CACHE_DEFAULT_TIMEOUT": timeout,
    }


def _content_security_policy(frame_ancestors: list[str]) -> dict[str, Any]:
    return {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
        "frame-ancestors": frame_ancestors,
    }


def _talisman(csp: dict[str, Any], cross_site: bool, secure: bool) -> dict[str, Any]:
    # Talisman writes SESSION_COOKIE_SAMESITE/SECURE itself, so both are set here
    # and below alike. With framing origins the CSP frame-ancestors decides,
    # and X-Frame-Options (SAMEORIGIN by default) would block the portal.
    return {
        "content_security_policy": csp,
        "content_security_policy_nonce_in": ["script-src"],
        "force_https": False,
        "frame_options": None if cross_site else "SAMEORIGIN",
        "session_cookie_secure": secure,
        "session_cookie_samesite": "None" if cross_site else "Lax",
    }


SECRET_KEY = _secret("SUPERSET_SECRET_KEY", "sign sessions and encrypt passwords")
SQLALCHEMY_DATABASE_URI = _metadata_url()

_redis_url = os.environ.get("REDIS_URL", "")
if _redis_url:
    CACHE_CONFIG = _redis_cache(_redis_url, "superset_cache_", 24 * 3600)
    DATA_CACHE_CONFIG = _redis_cache(_redis_url, "superset_data_", 3600)
    FILTER_STATE_CACHE_CONFIG = _redis_cache(
        _redis_url, "superset_filter_state_", 90 * 24 * 3600
    )
    EXPLORE_FORM_DATA_CACHE_CONFIG = _redis_cache(
        _redis_url, "superset_explore_form_", 7 * 24 * 3600
    )
    RATELIMIT_STORAGE_URI = _redis_url
else:
    # Without Redis nothing is cached: a per-process cache would serve stale
    # dashboards from one web worker after an import through another. Filter
    # state and explore form data stay in Superset's metastore cache.
    CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
    DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

_embedded = _flag("SUPERSET_EMBEDDED", True)
FEATURE_FLAGS = {
    "EMBEDDED_SUPERSET": _embedded,
    "ALERT_REPORTS": False,
}
if _embedded:
    GUEST_TOKEN_JWT_SECRET = _secret(
        "GUEST_TOKEN_JWT_SECRET", "sign guest tokens of embedded dashboards"
    )
    GUEST_TOKEN_JWT_AUDIENCE = os.environ.get("GUEST_TOKEN_JWT_AUDIENCE", "")
    if not GUEST_TOKEN_JWT_AUDIENCE:
        raise SupersetConfigError(
            "GUEST_TOKEN_JWT_AUDIENCE is not set: name the audience guest tokens "
            "carry (for example the portal's URL), or set SUPERSET_EMBEDDED=false"
        )
GUEST_TOKEN_JWT_EXP_SECONDS = 300
GUEST_ROLE_NAME = os.environ.get("SUPERSET_GUEST_ROLE", "EmbeddedViewer")

# A role defined here is checked against this list (view, permission; both
# match by prefix) rather than the database: just enough to render a shared
# dashboard. Which dashboards and rows a guest sees comes from the guest token.
# TODO: Superset 6.1 skips its "guest cannot modify chart payload" check for
# a role without dataset access (its chart lookup hides the chart), so a guest
# may ask other aggregates of the embedded dashboard's datasets, still under
# the token's RLS clauses; revisit when Superset checks guests independently.
FAB_ROLES = {
    GUEST_ROLE_NAME: [
        ["Dashboard", "can_read"],
        ["Chart", "can_read"],
        ["Superset", "can_dashboard"],
        ["Superset", "can_explore_json"],
        ["Api", "can_time_range"],
        ["Api", "can_query_form_data"],
        ["DashboardFilterStateRestApi", "can_read"],
        ["DashboardFilterStateRestApi", "can_write"],
        ["DashboardPermalinkRestApi", "can_read"],
        ["EmbeddedDashboard", "can_read"],
        ["CurrentUserRestApi", "can_read"],
        ["Datasource", "can_get"],
        ["CssTemplate", "can_read"],
        ["Theme", "can_read"],
    ]
}

_origins = _allowed_origins()
_cross_site = bool(_origins)
_cookie_secure = _flag("SUPERSET_COOKIE_SECURE", _cross_site)
_csp = _content_security_policy(["'self'", *_origins])
TALISMAN_ENABLED = True
TALISMAN_CONFIG = _talisman(_csp, _cross_site, _cookie_secure)
TALISMAN_DEV_CONFIG = _talisman(
    {**_csp, "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"]},
    _cross_site,
    _cookie_secure,
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _cookie_secure
# A portal on another site frames Superset: its cookies must travel cross-site.
SESSION_COOKIE_SAMESITE = "None" if _cross_site else "Lax"

# API clients (the bundle import from CI) fetch a CSRF token once per session.
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None

ENABLE_PROXY_FIX = _flag("SUPERSET_PROXY_FIX", False)

# Analysts use SQL Lab on the reporting schema; the connection is read-only.
SQLLAB_TIMEOUT = 60
SQL_MAX_ROW = 100000
DISPLAY_MAX_ROW = 10000
SQLLAB_CTAS_NO_LIMIT = False

PREVENT_UNSAFE_DB_CONNECTIONS = True
CONTENT_SECURITY_POLICY_WARNING = False

# Superset's action log stores each request's form and JSON body, and the
# assets import sends database passwords in its form: drop credentials before a
# record is written.
from superset.utils.log import DBEventLogger  # noqa: E402

_CREDENTIAL_KEYS = frozenset(
    {
        "password",
        "passwords",
        "ssh_tunnel_passwords",
        "ssh_tunnel_private_keys",
        "ssh_tunnel_private_key_passwords",
        "sqlalchemy_uri",
        "masked_encrypted_extra",
        "encrypted_extra",
    }
)


def _without_credentials(record: Any) -> Any:
    if not isinstance(record, dict):
        return record
    return {
        key: "[removed]" if key in _CREDENTIAL_KEYS else value
        for key, value in record.items()
    }


class CredentialFreeEventLogger(DBEventLogger):  # type: ignore[misc]
    """The database event logger, minus any credential a request carried."""

    def log(self, user_id: Any, action: str, *args: Any, **kwargs: Any) -> None:
        if "records" in kwargs:
            kwargs["records"] = [_without_credentials(r) for r in kwargs["records"]]
        if kwargs.get("curated_payload"):
            kwargs["curated_payload"] = _without_credentials(kwargs["curated_payload"])
        super().log(user_id, action, *args, **kwargs)


EVENT_LOGGER = CredentialFreeEventLogger()
