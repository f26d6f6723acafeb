"""Configuration read once from the environment into one typed object."""

from __future__ import annotations

import base64
import binascii
import os
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from connector.secrets import Secret

from .errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_API_URL = "https://api-gateway.dotloop.com/public/v2"
DEFAULT_AUTH_URL = "https://auth.dotloop.com/oauth"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# What a webhook signature is computed over (Dotloop's documentation disputes it).
WEBHOOK_SIGNATURE_SCHEMES = ("body", "timestamp.body")


@dataclass(frozen=True)
class DotloopSettings:
    """Where Dotloop is and how to authenticate; None credentials mean simulator."""

    api_url: str = DEFAULT_API_URL
    auth_url: str = DEFAULT_AUTH_URL
    client_id: str | None = None
    client_secret: Secret | None = None
    refresh_token: Secret | None = None
    requests_per_minute: int = 50
    profile_ids: tuple[int, ...] = ()
    # Fernet key(s) that encrypt stored tokens; the first encrypts.
    token_key: Secret | None = None

    @property
    def configured(self) -> bool:
        return self.client_id is not None

    @property
    def is_local(self) -> bool:
        """Whether the OAuth server is on this machine (the simulator)."""
        return urlsplit(self.auth_url).hostname in LOOPBACK_HOSTS


@dataclass(frozen=True)
class SupersetSettings:
    """The Superset the bundle is imported into."""

    url: str | None = None
    username: str = "admin"
    password: Secret | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the product reads from its environment."""

    data_dir: Path = PROJECT_ROOT / ".data"
    database_url: Secret | None = None
    redis_url: Secret | None = None
    raw_schema: str = "dotloop_raw"
    private_schema: str = "dotloop_private"
    reporting_schema: str = "reporting"
    # The brokerage configuration (offices, teams, plans, roster) the views read.
    config_schema: str = "reporting_config"
    # The YAML file `brokerage load` reads when given none.
    brokerage_file: Path | None = None
    reporting_reader_role: str = "reporting_reader"
    reporting_reader_password: Secret | None = None
    timezone: str = "UTC"
    nightly_hour: int = 3
    # Days stored payload history and quarantine are kept; None keeps them.
    retention_days: int | None = None
    # Shared with Dotloop's webhook subscription; the receiver needs it.
    webhook_secret: Secret | None = None
    # What the webhook signature covers: "body" or "timestamp.body".
    webhook_signature_scheme: str = "body"
    dotloop: DotloopSettings = field(default_factory=DotloopSettings)
    superset: SupersetSettings = field(default_factory=SupersetSettings)
    project_root: Path = PROJECT_ROOT

    @property
    def datasets_dir(self) -> Path:
        return self.project_root / "datasets"

    @property
    def dashboards_dir(self) -> Path:
        return self.project_root / "dashboards_export"

    @property
    def superset_config_path(self) -> Path:
        return self.project_root / "superset_config" / "superset_config.py"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings once; an incomplete configuration names what to set."""
    env = os.environ if environ is None else environ
    settings = Settings(
        data_dir=Path(env.get("DOTLOOP_REPORTER_DATA_DIR", PROJECT_ROOT / ".data")),
        database_url=_secret(env, "DATABASE_URL"),
        redis_url=_secret(env, "REDIS_URL"),
        raw_schema=env.get("DOTLOOP_RAW_SCHEMA", "dotloop_raw"),
        private_schema=env.get("DOTLOOP_PRIVATE_SCHEMA", "dotloop_private"),
        reporting_schema=env.get("REPORTING_SCHEMA", "reporting"),
        config_schema=env.get("REPORTING_CONFIG_SCHEMA", "reporting_config"),
        brokerage_file=_optional_path(env, "DOTLOOP_REPORTER_BROKERAGE_FILE"),
        reporting_reader_role=env.get("REPORTING_READER_ROLE", "reporting_reader"),
        reporting_reader_password=_secret(env, "REPORTING_READER_PASSWORD"),
        timezone=env.get("DOTLOOP_REPORTER_TIMEZONE") or "UTC",
        nightly_hour=_int(env, "DOTLOOP_SYNC_HOUR", 3),
        retention_days=_optional_int(env, "DOTLOOP_RETENTION_DAYS"),
        webhook_secret=_secret(env, "DOTLOOP_WEBHOOK_SECRET"),
        webhook_signature_scheme=env.get("DOTLOOP_WEBHOOK_SIGNATURE_SCHEME") or "body",
        dotloop=_dotloop_settings(env),
        superset=SupersetSettings(
            url=env.get("SUPERSET_URL") or None,
            username=env.get("SUPERSET_USERNAME", "admin"),
            password=_secret(env, "SUPERSET_PASSWORD"),
        ),
    )
    _validate(settings)
    return settings


def _dotloop_settings(env: Mapping[str, str]) -> DotloopSettings:
    client_id = env.get("DOTLOOP_CLIENT_ID") or None
    client_secret = env.get("DOTLOOP_CLIENT_SECRET") or None
    refresh_token = env.get("DOTLOOP_REFRESH_TOKEN") or None
    # The refresh token is optional: `dotloop-reporter auth login` stores one.
    if bool(client_id) != bool(client_secret) or (refresh_token and not client_id):
        missing = [
            name
            for name, value in (
                ("DOTLOOP_CLIENT_ID", client_id),
                ("DOTLOOP_CLIENT_SECRET", client_secret),
            )
            if not value
        ]
        raise ConfigurationError(
            f"Dotloop credentials are incomplete: set {', '.join(missing)} as well "
            "(or unset all DOTLOOP_CLIENT_* variables to use the simulator)"
        )
    profile_ids = env.get("DOTLOOP_PROFILE_IDS", "")
    try:
        profiles = tuple(int(p) for p in profile_ids.replace(" ", "").split(",") if p)
    except ValueError:
        raise ConfigurationError(
            "DOTLOOP_PROFILE_IDS must be a comma-separated list of profile ids"
        ) from None
    return DotloopSettings(
        api_url=env.get("DOTLOOP_API_URL", DEFAULT_API_URL).rstrip("/"),
        auth_url=env.get("DOTLOOP_AUTH_URL", DEFAULT_AUTH_URL).rstrip("/"),
        client_id=client_id,
        client_secret=_secret(env, "DOTLOOP_CLIENT_SECRET"),
        refresh_token=_secret(env, "DOTLOOP_REFRESH_TOKEN"),
        requests_per_minute=_int(env, "DOTLOOP_REQUESTS_PER_MINUTE", 50),
        profile_ids=profiles,
        token_key=_secret(env, "DOTLOOP_TOKEN_KEY"),
    )


def _validate(settings: Settings) -> None:
    try:
        zoneinfo.ZoneInfo(settings.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"DOTLOOP_REPORTER_TIMEZONE={settings.timezone!r} is not a known "
            "time zone; use an IANA name such as America/Denver"
        ) from None
    if not 0 <= settings.nightly_hour <= 23:
        raise ConfigurationError("DOTLOOP_SYNC_HOUR must be an hour from 0 to 23")
    if settings.dotloop.requests_per_minute < 1:
        raise ConfigurationError("DOTLOOP_REQUESTS_PER_MINUTE must be at least 1")
    if settings.retention_days is not None and settings.retention_days < 1:
        raise ConfigurationError(
            "DOTLOOP_RETENTION_DAYS must be at least 1 (or unset to keep history)"
        )
    if settings.webhook_signature_scheme not in WEBHOOK_SIGNATURE_SCHEMES:
        raise ConfigurationError(
            "DOTLOOP_WEBHOOK_SIGNATURE_SCHEME must be one of "
            + ", ".join(WEBHOOK_SIGNATURE_SCHEMES)
        )
    schemas = (
        settings.raw_schema,
        settings.private_schema,
        settings.reporting_schema,
        settings.config_schema,
    )
    for name in schemas:
        if not name.isidentifier() or name.lower() != name:
            raise ConfigurationError(
                f"schema name {name!r} must be a lower-case SQL identifier"
            )
    if len(set(schemas)) != len(schemas):
        raise ConfigurationError(
            "DOTLOOP_PRIVATE_SCHEMA, DOTLOOP_RAW_SCHEMA, REPORTING_SCHEMA and "
            "REPORTING_CONFIG_SCHEMA must name four different schemas"
        )
    if settings.config_schema == f"{settings.reporting_schema}_lib":
        raise ConfigurationError(
            f"REPORTING_CONFIG_SCHEMA must not be {settings.config_schema!r}: the "
            "reporting schema's helper functions live there"
        )
    _validate_token_key(settings.dotloop)


def _validate_token_key(dotloop: DotloopSettings) -> None:
    if dotloop.token_key is None:
        if dotloop.configured and not dotloop.is_local:
            raise ConfigurationError(
                "DOTLOOP_TOKEN_KEY is not set: stored Dotloop tokens are encrypted "
                'with it. Generate one with `python -c "from cryptography.fernet '
                'import Fernet; print(Fernet.generate_key().decode())"` and keep '
                "it in your secret store"
            )
        return
    for key in dotloop.token_key.reveal().split(","):
        try:
            valid = len(base64.urlsafe_b64decode(key.strip().encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise ConfigurationError(
                "DOTLOOP_TOKEN_KEY must be a Fernet key (44 characters of url-safe "
                "base64), or several separated by commas"
            )


def _secret(env: Mapping[str, str], name: str) -> Secret | None:
    value = env.get(name)
    return Secret(value) if value else None


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    return None if not env.get(name) else _int(env, name, 0)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(
            f"{name} must be a whole number, not {raw!r}"
        ) from None


def to_environ(settings: Settings) -> dict[str, str]:
    """The variables that make load_settings() in a child process read `settings`.

    Secrets are revealed here because a child process needs them; the result
    goes to a subprocess environment only, never to a log.
    """
    dotloop = settings.dotloop
    values: dict[str, str | Secret | int | Path | None] = {
        "DOTLOOP_REPORTER_DATA_DIR": settings.data_dir,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "DOTLOOP_RAW_SCHEMA": settings.raw_schema,
        "DOTLOOP_PRIVATE_SCHEMA": settings.private_schema,
        "REPORTING_SCHEMA": settings.reporting_schema,
        "REPORTING_CONFIG_SCHEMA": settings.config_schema,
        "DOTLOOP_REPORTER_BROKERAGE_FILE": settings.brokerage_file,
        "REPORTING_READER_ROLE": settings.reporting_reader_role,
        "REPORTING_READER_PASSWORD": settings.reporting_reader_password,
        "DOTLOOP_REPORTER_TIMEZONE": settings.timezone,
        "DOTLOOP_SYNC_HOUR": settings.nightly_hour,
        "DOTLOOP_RETENTION_DAYS": settings.retention_days,
        "DOTLOOP_WEBHOOK_SECRET": settings.webhook_secret,
        "DOTLOOP_WEBHOOK_SIGNATURE_SCHEME": settings.webhook_signature_scheme,
        "DOTLOOP_API_URL": dotloop.api_url,
        "DOTLOOP_AUTH_URL": dotloop.auth_url,
        "DOTLOOP_CLIENT_ID": dotloop.client_id,
        "DOTLOOP_CLIENT_SECRET": dotloop.client_secret,
        "DOTLOOP_REFRESH_TOKEN": dotloop.refresh_token,
        "DOTLOOP_REQUESTS_PER_MINUTE": dotloop.requests_per_minute,
        "DOTLOOP_PROFILE_IDS": ",".join(map(str, dotloop.profile_ids)),
        "DOTLOOP_TOKEN_KEY": dotloop.token_key,
        "SUPERSET_URL": settings.superset.url,
        "SUPERSET_USERNAME": settings.superset.username,
        "SUPERSET_PASSWORD": settings.superset.password,
    }
    return {
        name: value.reveal() if isinstance(value, Secret) else str(value)
        for name, value in values.items()
        if value is not None and value != ""
    }
