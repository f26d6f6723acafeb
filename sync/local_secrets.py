"""Secrets the local demo generates once and keeps in its data directory."""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from connector.secrets import Secret

logger = logging.getLogger(__name__)

_NAMES = (
    "superset_secret_key",
    "superset_admin_password",
    "guest_token_secret",
    "reporting_reader_password",
)


@dataclass(frozen=True)
class LocalSecrets:
    """Generated credentials for the local Superset; `created` on first run."""

    superset_secret_key: Secret
    superset_admin_password: Secret
    guest_token_secret: Secret
    reporting_reader_password: Secret
    created: bool


def load_or_create(path: Path) -> LocalSecrets:
    """Read the secrets file, or write a new one readable by its owner only."""
    if path.exists():
        stored = json.loads(path.read_text())
        if all(name in stored for name in _NAMES):
            return LocalSecrets(**{n: Secret(stored[n]) for n in _NAMES}, created=False)
        logger.warning("%s lacks some secrets; generating a new set", path)
    values = {name: secrets.token_urlsafe(24) for name in _NAMES}
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with 0600 from the start, so the secrets are never world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    return LocalSecrets(**{n: Secret(values[n]) for n in _NAMES}, created=True)
