"""Errors of the sync package.

SyncError
├── ConfigurationError   the environment is incomplete or contradictory
├── StorageError         Postgres refused or lost a write
├── SyncInProgressError  another run holds the profiles (or a purge the schema)
├── ViewSpecError        a dataset spec is invalid
└── SupersetError        the Superset API refused a call
    └── BundleError      a dashboard bundle is invalid
"""

from __future__ import annotations


class SyncError(Exception):
    """Root of every error raised by the sync package."""


class ConfigurationError(SyncError):
    """The configuration is incomplete or contradictory; the message says why."""


class StorageError(SyncError):
    """Postgres refused or lost a write."""


class SyncInProgressError(SyncError):
    """Another live run is syncing the profiles, or a purge holds the schema."""


class ViewSpecError(SyncError):
    """A dataset spec under datasets/ is invalid; the message names file and key."""


class SupersetError(SyncError):
    """The Superset API refused a call."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class BundleError(SupersetError):
    """A dashboard bundle is invalid; the message names the file and key."""
