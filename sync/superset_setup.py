"""Build the dashboard bundle for this environment and import it into Superset."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from .bundle import build_bundle, bundle_passwords
from .embedded import with_database
from .errors import ConfigurationError
from .settings import Settings
from .superset_api import SupersetClient

logger = logging.getLogger(__name__)

# The dashboard brokers land on; fixed in dashboards_export/dashboards/.
MAIN_DASHBOARD_UUID = "bfe7c089-96a7-44a6-a911-cce690e63ce4"


def build_bundle_for(settings: Settings, output: Path) -> Path:
    """Write the bundle for the configured (or embedded) reporting database."""
    return build_bundle(with_database(settings), output)


def superset_client(settings: Settings) -> SupersetClient:
    """A client of the configured Superset; says what to set when it is not."""
    url = settings.superset.url
    password = settings.superset.password
    if url is None or password is None:
        raise ConfigurationError(
            "set SUPERSET_URL and SUPERSET_PASSWORD (and SUPERSET_USERNAME if "
            "not admin) to reach Superset"
        )
    return SupersetClient(url, settings.superset.username, password)


def import_bundle_to(settings: Settings, *, bundle: Path | None = None) -> str:
    """Import the bundle into settings.superset; return the main dashboard URL."""
    with superset_client(settings) as client:
        return import_with(
            client, settings, url=settings.superset.url or "", bundle=bundle
        )


def import_with(
    client: SupersetClient, settings: Settings, *, url: str, bundle: Path | None
) -> str:
    """Import through an existing client; builds the bundle when none is given."""
    passwords = bundle_passwords(settings)
    with tempfile.TemporaryDirectory(prefix="dotloop-bundle-") as scratch:
        path = bundle or build_bundle_for(settings, Path(scratch))
        client.import_bundle(path, passwords)
    dashboard_id = client.dashboard_id(uuid=MAIN_DASHBOARD_UUID)
    logger.info("imported dashboards into %s", url)
    return f"{url.rstrip('/')}/superset/dashboard/{dashboard_id}/"
