"""`dotloop-reporter health`: can this process reach what it needs? Read-only."""

from __future__ import annotations

import logging

import psycopg
import redis

from connector.secrets import redact

from .settings import Settings

logger = logging.getLogger(__name__)


def check_health(settings: Settings, *, timeout_seconds: int = 5) -> list[str]:
    """Problems found reaching Postgres and Redis; empty when healthy."""
    problems: list[str] = []
    if settings.database_url is None:
        # A probe checks a deployment's shared Postgres: the embedded one that
        # other commands start without DATABASE_URL lives only as long as they.
        problems.append(
            "DATABASE_URL is not set (commands without it run an embedded "
            "Postgres of their own, which nothing else can check)"
        )
    else:
        try:
            with psycopg.connect(
                settings.database_url.reveal(), connect_timeout=timeout_seconds
            ) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            problems.append(f"Postgres unreachable: {redact(str(exc)).strip()}")
    if settings.redis_url is not None:
        client = redis.Redis.from_url(
            settings.redis_url.reveal(), socket_timeout=timeout_seconds
        )
        try:
            client.ping()
        except redis.RedisError as exc:
            problems.append(f"Redis unreachable: {redact(str(exc))}")
        finally:
            client.close()
    return problems


def print_health(settings: Settings) -> int:
    """Print each problem; exit code 0 when healthy, 1 otherwise."""
    problems = check_health(settings)
    for problem in problems:
        print(f"unhealthy: {problem}")
    if not problems:
        print("healthy")
    return 1 if problems else 0
