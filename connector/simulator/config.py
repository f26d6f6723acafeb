"""How a simulator listens, authenticates and throttles."""

from __future__ import annotations

from dataclasses import dataclass

SCOPE = "account:read, profile:*, loop:*, contact:*, template:read"
# Dotloop tries a failed delivery again 8 times: after 30 s, 1 min, 15 min,
# 30 min, then 1, 2, 4 and 8 hours.
DOTLOOP_RETRY_DELAYS = (30.0, 60.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0)
SIGNATURE_SCHEMES = ("body", "timestamp.body")


@dataclass(frozen=True)
class SimulatorConfig:
    """Listening address, OAuth client, token lifetime, rate limit and webhooks."""

    host: str = "127.0.0.1"
    port: int = 0
    rate_limit_per_minute: int = 100
    window_seconds: float = 60.0
    client_id: str = "sim-client"
    client_secret: str = "sim-secret"
    refresh_token: str = "sim-refresh"
    token_ttl_seconds: float = 43200.0
    # What a delivery's signature covers, how long a receiver may take to
    # answer (Dotloop allows 5 s), and the waits before each retry.
    webhook_signature_scheme: str = "body"
    webhook_timeout_seconds: float = 5.0
    webhook_retry_delays: tuple[float, ...] = DOTLOOP_RETRY_DELAYS

    def __post_init__(self) -> None:
        if self.rate_limit_per_minute < 1:
            raise ValueError("rate_limit_per_minute must be at least 1")
        if self.window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        if self.token_ttl_seconds < 0:
            raise ValueError("token_ttl_seconds must not be negative")
        if self.webhook_signature_scheme not in SIGNATURE_SCHEMES:
            raise ValueError(
                f"webhook_signature_scheme must be one of {SIGNATURE_SCHEMES}"
            )
        if self.webhook_timeout_seconds <= 0:
            raise ValueError("webhook_timeout_seconds must be positive")
        if any(delay < 0 for delay in self.webhook_retry_delays):
            raise ValueError("webhook_retry_delays must not be negative")

    def __repr__(self) -> str:
        # The client secret and refresh token stay out of reprs and logs.
        return (
            f"SimulatorConfig(host={self.host!r}, port={self.port}, "
            f"rate_limit_per_minute={self.rate_limit_per_minute}, "
            f"window_seconds={self.window_seconds}, client_id={self.client_id!r}, "
            f"token_ttl_seconds={self.token_ttl_seconds})"
        )
