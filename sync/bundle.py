"""The Superset dashboard bundle: dashboards_export/ rendered into an import zip.

The sources are Superset's own export layout (format 1.0.0) with two
placeholders, __SQLALCHEMY_URI__ and __REPORTING_SCHEMA__, filled in per
environment. The zip is byte-for-byte reproducible: files in sorted order,
fixed timestamps, stored uncompressed. Every build is checked before it is
written: YAML parses, uuid references resolve, each chart's query_context
belongs to its params and dataset, and no database password is in it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit, urlunsplit

from .bundle_checks import (
    ASSET_KINDS,
    BUNDLE_VERSION,
    PASSWORD_MASK,
    Problem,
    check_files,
    validate_bundle_file,
)
from .errors import BundleError, ConfigurationError
from .settings import Settings

logger = logging.getLogger(__name__)

__all__ = [
    "ASSET_KINDS",
    "BUNDLE_FILE_NAME",
    "BUNDLE_ROOT",
    "BUNDLE_VERSION",
    "DATABASE_FILE",
    "PASSWORD_MASK",
    "Problem",
    "build_bundle",
    "bundle_passwords",
    "read_bundle",
    "render_sources",
    "superset_database_uri",
    "validate_bundle",
    "validate_bundle_file",
    "zip_bytes",
]

BUNDLE_ROOT = "dotloop_reporter_dashboards"
BUNDLE_FILE_NAME = f"{BUNDLE_ROOT}.zip"
DATABASE_FILE = "databases/Dotloop_Reporting.yaml"

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_PLACEHOLDER = re.compile(r"__([A-Z][A-Z0-9_]*)__")
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}


def build_bundle(
    settings: Settings, output: Path, *, database_uri: str | None = None
) -> Path:
    """Write the bundle zip to `output` (a .zip path or a directory); return it.

    `database_uri` is any URL of the reporting database (default: DATABASE_URL);
    the bundle connects as settings.reporting_reader_role with a masked
    password, which the import receives separately (bundle_passwords).
    """
    if database_uri is None:
        if settings.database_url is None:
            raise ConfigurationError(
                "DATABASE_URL is not set: the bundle needs the reporting "
                "database's address"
            )
        database_uri = settings.database_url.reveal()
    values = {
        "SQLALCHEMY_URI": superset_database_uri(
            database_uri,
            settings.reporting_reader_role,
            with_password=settings.reporting_reader_password is not None,
        ),
        "REPORTING_SCHEMA": settings.reporting_schema,
    }
    files = render_sources(settings.dashboards_dir, values)
    validate_bundle(files)

    target = output / BUNDLE_FILE_NAME if output.is_dir() else output
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(zip_bytes(files))
    os.replace(partial, target)
    logger.info("wrote dashboard bundle %s (%d files)", target, len(files))
    return target


def bundle_passwords(settings: Settings) -> dict[str, str]:
    """The `passwords` form field of the import: the reader's password by file.

    Empty when no password is configured: the reader then logs in by trust or
    peer authentication and the bundle's URL carries no password mask.
    """
    if settings.reporting_reader_password is None:
        return {}
    return {DATABASE_FILE: settings.reporting_reader_password.reveal()}


def superset_database_uri(
    database_url: str, user: str, *, with_password: bool = True
) -> str:
    """The psycopg2 URL of the same database as `user`, password masked.

    >>> superset_database_uri("postgresql://app:pw@127.0.0.1:5432/db", "reader")
    'postgresql+psycopg2://reader:XXXXXXXXXX@127.0.0.1:5432/db'
    >>> superset_database_uri("postgresql://postgres:@/db?host=/tmp/pg", "reader")
    'postgresql+psycopg2://reader:XXXXXXXXXX@/db?host=/tmp/pg'
    """
    parts = urlsplit(database_url)
    scheme = parts.scheme.lower()
    if scheme not in _POSTGRES_SCHEMES | {"postgresql+psycopg2"}:
        raise ConfigurationError(
            f"the reporting database must be PostgreSQL, not {parts.scheme!r}"
        )
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise ConfigurationError("the reporting database URL has a bad port") from None
    password = f":{PASSWORD_MASK}" if with_password else ""
    netloc = f"{quote(user, safe='')}{password}@{host}{port}"
    return urlunsplit(("postgresql+psycopg2", netloc, parts.path, parts.query, ""))


def render_sources(source_dir: Path, values: Mapping[str, str]) -> dict[str, bytes]:
    """The bundle's files (metadata.yaml and the asset folders), filled in.

    Other files beside them (the generator's sources/, README.md) are not
    part of the bundle.
    """
    if not (source_dir / "metadata.yaml").is_file():
        raise BundleError(f"{source_dir} holds no metadata.yaml: not a bundle source")
    files: dict[str, bytes] = {}
    paths = [source_dir / "metadata.yaml"]
    for kind in ASSET_KINDS:
        paths += (source_dir / kind).rglob("*.yaml")
    for path in sorted(paths):
        name = path.relative_to(source_dir).as_posix()
        text = path.read_text(encoding="utf-8")
        files[name] = _fill(name, text, values).encode("utf-8")
    return files


def _fill(name: str, text: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise BundleError(f"{name}: unknown placeholder __{key}__")
        # A JSON string is a valid double-quoted YAML scalar.
        return json.dumps(values[key])

    return _PLACEHOLDER.sub(value, text)


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """The zip of `files` under one root folder, identical for identical input."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{name}", date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            bundle.writestr(info, files[name])
    return buffer.getvalue()


def read_bundle(path: Path) -> dict[str, bytes]:
    """The files of a bundle zip by path inside the root folder."""
    try:
        with zipfile.ZipFile(path) as bundle:
            return {
                PurePosixPath(*PurePosixPath(name).parts[1:]).as_posix(): bundle.read(
                    name
                )
                for name in bundle.namelist()
                if not name.endswith("/")
            }
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{path} is not a zip file ({exc})") from exc


def validate_bundle(files: Mapping[str, bytes]) -> None:
    """Raise BundleError, naming each file and key, unless the bundle is sound."""
    problems = check_files(files)
    if problems:
        raise BundleError("; ".join(str(problem) for problem in problems))
