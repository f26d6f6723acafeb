"""How a simulator listens, authenticates and throttles."""

from __future__ import annotations

from dataclasses import dataclass

SCOPE = "account:read, profile:*, loop:*, contact:*, template:read"


@dataclass(frozen=True)
class SimulatorConfig:
    """Listening address, OAuth client, token lifetime and rate limit."""

    host: str = "127.0.0.1"
    port: int = 0
    rate_limit_per_minute: int = 100
    window_seconds: float = 60.0
    client_id: str = "sim-client"
    client_secret: str = "sim-secret"
    refresh_token: str = "sim-refresh"
    token_ttl_seconds: float = 43200.0

    def __post_init__(self) -> None:
        if self.rate_limit_per_minute < 1:
            raise ValueError("rate_limit_per_minute must be at least 1")
        if self.window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        if self.token_ttl_seconds < 0:
            raise ValueError("token_ttl_seconds must not be negative")

    def __repr__(self) -> str:
        # The client secret and refresh token stay out of reprs and logs.
        return (
            f"SimulatorConfig(host={self.host!r}, port={self.port}, "
            f"rate_limit_per_minute={self.rate_limit_per_minute}, "
            f"window_seconds={self.window_seconds}, client_id={self.client_id!r}, "
            f"token_ttl_seconds={self.token_ttl_seconds})"
        )
