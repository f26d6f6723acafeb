"""The `dotloop-reporter` command line: one entry point for every job."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from connector.errors import DotloopError

from .errors import SyncError
from .logs import configure_logging
from .settings import Settings, load_settings

logger = logging.getLogger(__name__)

Handler = Callable[[Settings, argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, read the settings once and run one command."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        settings = load_settings()
        return handler(settings, args)
    except (SyncError, DotloopError) as exc:
        # One clear line for the user; the traceback only when asked for.
        logger.debug("command failed", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dotloop-reporter",
        description="Dotloop replica, reporting views and Superset dashboards.",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="run everything locally and serve the dashboards"
    )
    demo.add_argument("--loops", type=int, default=2000)
    demo.add_argument("--superset-port", type=int, default=8088)
    demo.add_argument(
        "--exit-when-ready",
        action="store_true",
        help="stop everything once the dashboard is ready instead of serving",
    )
    demo.set_defaults(handler=_demo)

    simulator = commands.add_parser(
        "simulator", help="serve a local simulator of the Dotloop API"
    )
    from connector.simulator import cli as simulator_cli

    simulator_cli.add_arguments(simulator)
    simulator.set_defaults(handler=lambda _s, a: simulator_cli.run(a))

    sync = commands.add_parser("sync", help="sync every profile once, in foreground")
    sync.set_defaults(handler=_sync)

    commands.add_parser(
        "plan", help="estimate the requests and hours of a backfill and a nightly run"
    ).set_defaults(handler=_plan)
    commands.add_parser(
        "sweep", help="mark loops gone from Dotloop as removed (history is kept)"
    ).set_defaults(handler=_sweep)
    commands.add_parser(
        "replay", help="rebuild the reporting tables from stored payloads, no requests"
    ).set_defaults(handler=_replay)
    commands.add_parser(
        "purge", help="delete stored payloads older than DOTLOOP_RETENTION_DAYS"
    ).set_defaults(handler=_purge)

    auth = commands.add_parser("auth", help="connect a Dotloop account")
    auth_commands = auth.add_subparsers(metavar="ACTION", required=True)
    login = auth_commands.add_parser(
        "login", help="authorize in the browser and store the tokens"
    )
    login.add_argument(
        "--port",
        type=int,
        default=0,
        help="callback port on 127.0.0.1 (use the one registered with Dotloop)",
    )
    login.add_argument("--code", default=None, help="a pasted authorization code")
    login.add_argument(
        "--redirect-uri", default=None, help="the redirect URI the code was issued for"
    )
    login.add_argument("--open-browser", action="store_true")
    login.set_defaults(handler=_auth_login)
    auth_commands.add_parser(
        "status", help="account, profiles, token expiry and scope"
    ).set_defaults(handler=_auth_status)
    auth_commands.add_parser(
        "revoke", help="revoke the stored tokens at Dotloop and delete them"
    ).set_defaults(handler=_auth_revoke)

    webhooks = commands.add_parser("webhooks", help="Dotloop webhook receiver")
    webhooks_commands = webhooks.add_subparsers(metavar="ACTION", required=True)
    serve = webhooks_commands.add_parser(
        "serve", help="verify signed deliveries and queue a sync of each loop"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.set_defaults(handler=_webhooks_serve)

    worker = commands.add_parser("worker", help="run the Huey consumer")
    worker.add_argument("--workers", type=int, default=1)
    worker.add_argument(
        "--no-periodic",
        dest="periodic",
        action="store_false",
        help="take queued tasks only; leave the nightly schedule to another worker",
    )
    worker.set_defaults(handler=_worker)

    views = commands.add_parser("views", help="reporting views")
    views_commands = views.add_subparsers(metavar="ACTION", required=True)
    views_commands.add_parser("apply", help="create or update the views").set_defaults(
        handler=_views_apply
    )
    views_sql = views_commands.add_parser("sql", help="print the views' SQL")
    views_sql.add_argument(
        "--dialect",
        default="postgres",
        choices=["postgres", "duckdb", "bigquery", "snowflake", "trino"],
    )
    views_sql.set_defaults(handler=_views_sql)

    bundle = commands.add_parser("bundle", help="Superset dashboard bundle")
    bundle_commands = bundle.add_subparsers(metavar="ACTION", required=True)
    build = bundle_commands.add_parser("build", help="write the bundle zip")
    build.add_argument("--output", type=Path, default=None)
    build.set_defaults(handler=_bundle_build)
    send = bundle_commands.add_parser("import", help="import the bundle to Superset")
    send.add_argument("--bundle", type=Path, default=None, help="default: build one")
    send.set_defaults(handler=_bundle_import)
    validate = bundle_commands.add_parser(
        "validate", help="check a bundle zip the way Superset's import will"
    )
    validate.add_argument("path", type=Path)
    validate.set_defaults(handler=_bundle_validate)

    embed = commands.add_parser("embed", help="embedded dashboards")
    embed_commands = embed.add_subparsers(metavar="ACTION", required=True)
    enable = embed_commands.add_parser(
        "enable", help="allow embedding every shipped dashboard"
    )
    enable.add_argument(
        "--allowed-domain",
        dest="allowed_domains",
        action="append",
        default=[],
        help="origin allowed to embed (repeatable); none allows any",
    )
    enable.set_defaults(handler=_embed_enable)

    roles = commands.add_parser("roles", help="Superset roles for brokers, analysts")
    roles_commands = roles.add_subparsers(metavar="ACTION", required=True)
    roles_commands.add_parser(
        "create", help="create or update the Dotloop Broker and Analyst roles"
    ).set_defaults(handler=_roles_create)

    status = commands.add_parser("status", help="recent sync runs and freshness")
    status.set_defaults(handler=_status)

    health = commands.add_parser(
        "health", help="check that Postgres and Redis answer (read-only)"
    )
    health.set_defaults(handler=_health)
    return parser


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(
        settings,
        loops=args.loops,
        superset_port=args.superset_port,
        serve=not args.exit_when_ready,
    )


def _sync(settings: Settings, args: argparse.Namespace) -> int:
    from .embedded import with_database
    from .foreground import sync_in_foreground

    return sync_in_foreground(with_database(settings))


def _auth_login(settings: Settings, args: argparse.Namespace) -> int:
    from .auth_flow import login

    account = login(
        _with_database(settings),
        redirect_port=args.port,
        open_browser=args.open_browser,
        code=args.code,
        redirect_uri=args.redirect_uri,
    )
    profiles = ", ".join(f"{p.name} ({p.id})" for p in account.profiles)
    print(f"connected {account.email}; profiles: {profiles}")
    return 0


def _auth_status(settings: Settings, args: argparse.Namespace) -> int:
    from .auth_flow import describe, status

    current = status(_with_database(settings))
    print(describe(current))
    return 0 if current.connected and not current.reconnect_required else 1


def _auth_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from .auth_flow import revoke

    if revoke(_with_database(settings)):
        print("revoked the Dotloop tokens and deleted them")
    else:
        print("no Dotloop tokens were stored")
    return 0


def _webhooks_serve(settings: Settings, args: argparse.Namespace) -> int:
    from .webhook_server import serve_webhooks

    serve_webhooks(_with_database(settings), host=args.host, port=args.port)
    return 0


def _plan(settings: Settings, args: argparse.Namespace) -> int:
    from .plan import plan_sync
    from .tasks import build_client

    settings = _with_database(settings)
    with build_client(settings) as client:
        print(plan_sync(settings, client).render())
    return 0


def _sweep(settings: Settings, args: argparse.Namespace) -> int:
    from .sweep import sweep
    from .tasks import build_client

    settings = _with_database(settings)
    with build_client(settings) as client:
        result = sweep(settings, client)
    print(
        f"sweep run {result.run_id}: {result.loops_removed} loops marked removed, "
        f"{result.loops_restored} restored, {result.requests} requests"
    )
    if result.incomplete_profiles:
        ids = ", ".join(map(str, result.incomplete_profiles))
        print(f"listing incomplete for profiles {ids}: nothing marked there")
        return 1
    return 0


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    from .replay import replay

    result = replay(_with_database(settings))
    print(
        f"rebuilt the reporting tables from {result.loops} stored loops "
        f"({result.payloads} payloads); no request was made"
    )
    return 0


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    from .retention import purge

    result = purge(_with_database(settings))
    if result.cutoff is None:
        print("no retention policy (DOTLOOP_RETENTION_DAYS): nothing deleted")
        return 0
    print(
        f"deleted what was stored before {result.cutoff:%Y-%m-%d}: "
        f"{result.loops} removed loops, {result.history} history payloads, "
        f"{result.quarantine} quarantined payloads"
    )
    return 0


def _with_database(settings: Settings) -> Settings:
    from .embedded import with_database

    return with_database(settings)


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from .embedded import with_database
    from .tasks import run_worker

    run_worker(with_database(settings), workers=args.workers, periodic=args.periodic)
    return 0


def _views_apply(settings: Settings, args: argparse.Namespace) -> int:
    from . import db
    from .embedded import with_database
    from .views import apply_views

    settings = with_database(settings)
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
        apply_views(conn, settings)
    print(f"views applied in schema {settings.reporting_schema}")
    return 0


def _views_sql(settings: Settings, args: argparse.Namespace) -> int:
    from .views import render_views_sql

    print(render_views_sql(settings, dialect=args.dialect))
    return 0


def _bundle_build(settings: Settings, args: argparse.Namespace) -> int:
    from .superset_setup import build_bundle_for

    output = args.output or settings.data_dir / "dashboards.zip"
    path = build_bundle_for(settings, output)
    print(f"bundle written to {path}")
    return 0


def _bundle_import(settings: Settings, args: argparse.Namespace) -> int:
    from .superset_setup import import_bundle_to

    dashboard_url = import_bundle_to(settings, bundle=args.bundle)
    print(f"bundle imported; dashboard: {dashboard_url}")
    return 0


def _bundle_validate(settings: Settings, args: argparse.Namespace) -> int:
    from .bundle_checks import validate_bundle_file

    problems = validate_bundle_file(args.path)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{args.path}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{args.path}: valid")
    return 0


def _embed_enable(settings: Settings, args: argparse.Namespace) -> int:
    from .embedding import enable_embedding
    from .superset_setup import superset_client

    with superset_client(settings) as client:
        embedded = enable_embedding(client, args.allowed_domains)
    for dashboard_uuid, embedded_uuid in sorted(embedded.items()):
        print(f"dashboard {dashboard_uuid}: embedded id {embedded_uuid}")
    return 0


def _roles_create(settings: Settings, args: argparse.Namespace) -> int:
    from .superset_roles import create_roles
    from .superset_setup import superset_client

    with superset_client(settings) as client:
        roles = create_roles(client)
    for name, role_id in sorted(roles.items()):
        print(f"role {name!r}: id {role_id}")
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    from .embedded import with_database
    from .status import print_status

    return print_status(with_database(settings))


def _health(settings: Settings, args: argparse.Namespace) -> int:
    from .health import print_health

    return print_health(settings)


if __name__ == "__main__":
    raise SystemExit(main())
