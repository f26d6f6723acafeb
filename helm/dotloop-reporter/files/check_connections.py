"""`helm test`: checks that the database, Redis and Superset answer.

Runs in the reporter image (psycopg, redis and httpx are installed there) with
DATABASE_URL, REDIS_URL and SUPERSET_URL in the environment; prints one line
per check and exits 1 when any fails. The passwords in those URLs are cut
out of every message printed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import psycopg
import redis

TIMEOUT = int(os.environ.get("CHECK_TIMEOUT_SECONDS", "10"))
SECRET_URLS = ("DATABASE_URL", "REDIS_URL", "SUPERSET_URL")


def check_database() -> str:
    with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=TIMEOUT) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def check_redis() -> str:
    client = redis.Redis.from_url(
        os.environ["REDIS_URL"], socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
    )
    try:
        answer = client.ping()
    finally:
        client.close()
    return f"PING answered {answer}"


def check_superset() -> str:
    url = os.environ.get("SUPERSET_URL", "").rstrip("/")
    if not url:
        return "not configured (SUPERSET_URL is empty)"
    response = httpx.get(f"{url}/health", timeout=TIMEOUT)
    response.raise_for_status()
    return f"{url}/health answered {response.status_code}"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "redis": check_redis,
    "superset": check_superset,
}


def redact(text: str) -> str:
    """text without the password of any configured URL."""
    for name in SECRET_URLS:
        password = urlsplit(os.environ.get(name, "")).password
        if password:
            text = text.replace(password, "***")
    return text


def main() -> int:
    failed = 0
    for name, check in CHECKS.items():
        try:
            print(f"ok    {name}: {redact(check())}")
        except Exception as exc:
            print(f"FAIL  {name}: {type(exc).__name__}: {redact(str(exc))}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
