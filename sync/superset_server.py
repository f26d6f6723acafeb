"""A local Superset for the demo and the tests: prepared once, then served.

    prepare(local)            metadata schema, roles and the admin user; skipped
                              when the home's marker says it is already done
    start(local) -> server    prepare, then gunicorn on 127.0.0.1 until /health
    server.client()           a SupersetClient logged in as the admin
    server.stop()             SIGTERM, then SIGKILL after a grace period

Every step appends to <home>/superset.log; a failure raises SupersetError
carrying the end of that log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType

import httpx

from connector.secrets import Secret, redact

from .errors import SupersetError
from .settings import PROJECT_ROOT
from .superset_api import SupersetClient

logger = logging.getLogger(__name__)

MARKER_NAME = ".dotloop-reporter-superset.json"
LOG_NAME = "superset.log"
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "superset_config" / "superset_config.py"
_STEP_TIMEOUT = 900.0
_STOP_GRACE = 15.0
_TAIL_LINES = 40
_PASSED_VARIABLES = frozenset(
    {"PATH", "HOME", "LANG", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV"}
)
_PASSED_PREFIXES = ("LC_", "SUPERSET_", "GUEST_TOKEN_", "SSL_CERT_")
# Our API client's password: Superset itself has no use for it.
_WITHHELD = frozenset({"SUPERSET_PASSWORD"})

# Creates the admin, or resets its password, reading both from the
# environment so the password never shows in a process list.
_ADMIN_SCRIPT = """
import os
from superset.app import create_app
app = create_app()
with app.app_context():
    from superset import security_manager as sm
    from superset.extensions import db
    name = os.environ["DLR_SUPERSET_ADMIN_USERNAME"]
    password = os.environ["DLR_SUPERSET_ADMIN_PASSWORD"]
    user = sm.find_user(username=name)
    if user is None:
        role = sm.find_role(sm.auth_role_admin)
        email = name + "@localhost.invalid"
        if not sm.add_user(name, "Superset", "Admin", email, role, password=password):
            raise SystemExit("could not create the admin user")
    else:
        sm.reset_password(user.id, password)
    db.session.commit()
"""


@dataclass(frozen=True)
class LocalSuperset:
    """Where a local Superset keeps its state and how it is reached."""

    home: Path
    secret_key: Secret
    admin_password: Secret
    admin_username: str = "admin"
    metadata_url: Secret | None = None
    host: str = "127.0.0.1"
    port: int = 0
    env: Mapping[str, str] = field(default_factory=dict)
    config_path: Path = DEFAULT_CONFIG_PATH
    workers: int = 1
    threads: int = 4

    @property
    def log_path(self) -> Path:
        return self.home / LOG_NAME

    @property
    def database_uri(self) -> str:
        """The metadata database; SQLite in the home unless given."""
        if self.metadata_url is not None:
            return self.metadata_url.reveal()
        return f"sqlite:///{self.home / 'superset.db'}?check_same_thread=false"


class SupersetServer:
    """A running Superset web server; stop() or leave the `with` block to end it."""

    def __init__(
        self, local: LocalSuperset, process: subprocess.Popen[bytes], url: str
    ) -> None:
        self.local = local
        self.process = process
        self.url = url

    @property
    def log_path(self) -> Path:
        return self.local.log_path

    def client(self) -> SupersetClient:
        """An API client logged in as the admin; close it or use `with`."""
        return SupersetClient(
            self.url, self.local.admin_username, self.local.admin_password
        )

    def stop(self) -> None:
        """End the server: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=_STOP_GRACE)
        except subprocess.TimeoutExpired:
            logger.warning("Superset did not stop in %.0fs; killing it", _STOP_GRACE)
            self.process.kill()
            self.process.wait(timeout=_STOP_GRACE)
        logger.info("stopped Superset at %s", self.url)

    def __enter__(self) -> SupersetServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def superset_version() -> str:
    """The installed apache-superset version."""
    try:
        return metadata.version("apache-superset")
    except metadata.PackageNotFoundError:
        raise SupersetError(
            "apache-superset is not installed; install dotloop-reporter[superset]"
        ) from None


def environment(local: LocalSuperset) -> dict[str, str]:
    """The environment of every Superset process started for `local`.

    Only the basics and SUPERSET_*/GUEST_TOKEN_* pass through from ours, so
    Dotloop credentials and database URLs stay out of Superset's processes.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if name in _PASSED_VARIABLES
        or (name.startswith(_PASSED_PREFIXES) and name not in _WITHHELD)
    }
    env.update(local.env)
    env.update(
        {
            "SUPERSET_CONFIG_PATH": str(local.config_path),
            "SUPERSET_HOME": str(local.home),
            "SUPERSET_SECRET_KEY": local.secret_key.reveal(),
            "SUPERSET_METADATA_URL": local.database_uri,
            # Superset's own log lines must reach the log file unbuffered.
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def prepare(local: LocalSuperset) -> bool:
    """Upgrade the metadata schema, sync roles and set the admin user.

    Returns False without doing anything when the home's marker shows the same
    Superset version, metadata database and admin were prepared already.
    """
    local.home.mkdir(parents=True, exist_ok=True)
    marker = local.home / MARKER_NAME
    wanted = _marker(local)
    if _prepared(local, marker, wanted):
        logger.info("Superset metadata in %s is ready; skipping init", local.home)
        return False
    started = time.monotonic()
    env = environment(local)
    _run_step(local, env, "db upgrade", [_superset_command(), "db", "upgrade"])
    _run_step(local, env, "init", [_superset_command(), "init"])
    admin_env = {
        **env,
        "DLR_SUPERSET_ADMIN_USERNAME": local.admin_username,
        "DLR_SUPERSET_ADMIN_PASSWORD": local.admin_password.reveal(),
    }
    _run_step(local, admin_env, "admin user", [sys.executable, "-c", _ADMIN_SCRIPT])
    marker.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")
    logger.info(
        "prepared Superset metadata in %s in %.1fs",
        local.home,
        time.monotonic() - started,
    )
    return True


def start(local: LocalSuperset, *, timeout: float = 180.0) -> SupersetServer:
    """Prepare `local`, start its web server and wait until /health answers."""
    prepare(local)
    port = local.port or free_port(local.host)
    url = f"http://{local.host}:{port}"
    started = time.monotonic()
    logger.info("starting Superset at %s (log: %s)", url, local.log_path)
    with local.log_path.open("ab") as log:
        log.write(f"\n=== gunicorn on {local.host}:{port}\n".encode())
        log.flush()
        process = subprocess.Popen(
            _gunicorn_command(local, port),
            cwd=local.home,
            env=environment(local),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = SupersetServer(local, process, url)
    try:
        _wait_healthy(server, timeout)
    except BaseException:
        server.stop()
        raise
    logger.info("Superset ready at %s in %.1fs", url, time.monotonic() - started)
    return server


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = _TAIL_LINES) -> str:
    """The last lines of a log file, secrets masked."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return redact("\n".join(text.splitlines()[-lines:]))


def copy_home(source: Path, target: Path) -> None:
    """Copy a prepared home (SQLite metadata and marker) to reuse its init."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("superset.db", MARKER_NAME):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)


def _marker(local: LocalSuperset) -> dict[str, str]:
    key = local.secret_key.reveal().encode()
    admin = f"{local.admin_username}\0{local.admin_password.reveal()}".encode()
    return {
        "superset": superset_version(),
        "metadata": _metadata_fingerprint(local, key),
        "admin": hmac.new(key, admin, hashlib.sha256).hexdigest(),
    }


def _metadata_fingerprint(local: LocalSuperset, key: bytes) -> str:
    # A SQLite file inside the home stays valid when the home is copied.
    if local.metadata_url is None:
        return "sqlite:superset.db"
    return hmac.new(key, local.database_uri.encode(), hashlib.sha256).hexdigest()


def _prepared(local: LocalSuperset, marker: Path, wanted: dict[str, str]) -> bool:
    if local.metadata_url is None and not (local.home / "superset.db").is_file():
        return False
    return marker.is_file() and _read_marker(marker) == wanted


def _read_marker(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _superset_command() -> str:
    beside = Path(sys.executable).parent / "superset"
    found = str(beside) if beside.is_file() else shutil.which("superset")
    if found is None:
        raise SupersetError(
            "the superset command is not installed; install dotloop-reporter[superset]"
        )
    return found


def _gunicorn_command(local: LocalSuperset, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{local.host}:{port}",
        "--workers",
        str(local.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(local.threads),
        "--timeout",
        "120",
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        # The default control socket lives in ~/.gunicorn and would be shared.
        "--no-control-socket",
        "superset.app:create_app()",
    ]


def _run_step(
    local: LocalSuperset, env: Mapping[str, str], name: str, command: list[str]
) -> None:
    started = time.monotonic()
    with local.log_path.open("ab") as log:
        log.write(f"\n=== {name}\n".encode())
        log.flush()
        try:
            result = subprocess.run(
                command,
                cwd=local.home,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=_STEP_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            message = f"Superset {name} took over {_STEP_TIMEOUT:.0f}s"
            raise _failure(local, message) from None
    if result.returncode != 0:
        raise _failure(local, f"Superset {name} failed (exit {result.returncode})")
    logger.info("Superset %s done in %.1fs", name, time.monotonic() - started)


def _wait_healthy(server: SupersetServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5.0) as http:
        while time.monotonic() < deadline:
            code = server.process.poll()
            if code is not None:
                raise _failure(server.local, f"Superset exited with code {code}")
            try:
                if http.get(f"{server.url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    raise _failure(server.local, f"Superset did not answer /health in {timeout:.0f}s")


def _failure(local: LocalSuperset, message: str) -> SupersetError:
    return SupersetError(
        f"{message}; end of {local.log_path}:\n{log_tail(local.log_path)}"
    )
