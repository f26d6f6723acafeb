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
    send_event = simulator.add_subparsers(metavar="ACTION").add_parser(
        "send-event",
        help="send one event signed with DOTLOOP_WEBHOOK_SECRET to a receiver",
    )
    simulator_cli.add_send_event_arguments(send_event)
    send_event.set_defaults(handler=_simulator_send_event)

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
    revoke = auth_commands.add_parser(
        "revoke", help="revoke the stored tokens at Dotloop and delete them"
    )
    revoke.add_argument(
        "--forget",
        action="store_true",
        help="delete the tokens here even if Dotloop refuses to revoke them",
    )
    revoke.set_defaults(handler=_auth_revoke)

    webhooks = commands.add_parser("webhooks", help="Dotloop webhook receiver")
    webhooks_commands = webhooks.add_subparsers(metavar="ACTION", required=True)
    serve = webhooks_commands.add_parser(
        "serve", help="verify signed deliveries and queue a sync of each loop"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.set_defaults(handler=_webhooks_serve)
    subscribe = webhooks_commands.add_parser(
        "subscribe", help="have Dotloop send each profile's loop events to a URL"
    )
    subscribe.add_argument(
        "--url", required=True, help="where Dotloop reaches `webhooks serve`"
    )
    subscribe.add_argument(
        "--profile",
        dest="profile_ids",
        type=int,
        action="append",
        default=[],
        help="profile id (repeatable; default: the profiles a sync covers)",
    )
    subscribe.set_defaults(handler=_webhooks_subscribe)
    webhooks_commands.add_parser(
        "list", help="the Dotloop client's webhook subscriptions"
    ).set_defaults(handler=_webhooks_list)
    unsubscribe = webhooks_commands.add_parser(
        "unsubscribe", help="delete one webhook subscription"
    )
    unsubscribe.add_argument("subscription_id", metavar="ID")
    unsubscribe.set_defaults(handler=_webhooks_unsubscribe)

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

    brokerage = commands.add_parser(
        "brokerage", help="offices, teams, commission plans and the agent roster"
    )
    brokerage_commands = brokerage.add_subparsers(metavar="ACTION", required=True)
    brokerage_load = brokerage_commands.add_parser(
        "load", help="check a brokerage YAML file, store it and refresh the reports"
    )
    brokerage_load.add_argument(
        "file",
        nargs="?",
        type=Path,
        default=None,
        help="default: DOTLOOP_REPORTER_BROKERAGE_FILE",
    )
    brokerage_load.set_defaults(handler=_brokerage_load)
    brokerage_commands.add_parser(
        "show", help="print the stored configuration as a brokerage YAML file"
    ).set_defaults(handler=_brokerage_show)

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
    generate = bundle_commands.add_parser(
        "generate", help="render dashboards_export/ from its sources/"
    )
    generate.add_argument(
        "--check", action="store_true", help="fail if a file differs; write nothing"
    )
    generate.set_defaults(handler=_bundle_generate)
    export = bundle_commands.add_parser(
        "export", help="pull a dashboard edited in Superset back into bundle files"
    )
    export.add_argument("dashboard", help="title, slug, uuid or id")
    export.add_argument(
        "--out", type=Path, default=None, help="default: dashboards_export/"
    )
    export.set_defaults(handler=_bundle_export)

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

    portal = commands.add_parser(
        "portal", help="broker portal: a host page that embeds the dashboards"
    )
    portal_commands = portal.add_subparsers(metavar="ACTION", required=True)
    portal_serve = portal_commands.add_parser(
        "serve", help="serve the portal page and its guest-token endpoint"
    )
    portal_serve.add_argument("--host", default="127.0.0.1")
    portal_serve.add_argument("--port", type=int, default=8100)
    portal_serve.add_argument(
        "--users",
        type=Path,
        default=None,
        help="portal users file (default: portal-users.yaml in the data directory)",
    )
    portal_serve.add_argument(
        "--public-origin", default=None, help="the portal's origin as browsers see it"
    )
    portal_serve.add_argument(
        "--superset-public-url",
        default=None,
        help="Superset's URL as browsers see it (default: SUPERSET_URL)",
    )
    portal_serve.set_defaults(handler=_portal_serve)
    hash_password = portal_commands.add_parser(
        "hash-password", help="hash a password for the portal users file"
    )
    hash_password.add_argument(
        "--stdin", action="store_true", help="read the password from standard input"
    )
    hash_password.set_defaults(handler=_portal_hash_password)

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

    # With --forget, a refused revocation is told in a notice instead.
    notices: list[str] = []
    if not revoke(_with_database(settings), forget=args.forget, output=notices.append):
        print("no Dotloop tokens were stored")
    elif notices:
        print("\n".join(notices))
    else:
        print("revoked the Dotloop tokens and deleted them")
    return 0


def _webhooks_serve(settings: Settings, args: argparse.Namespace) -> int:
    from .webhook_server import serve_webhooks

    serve_webhooks(_with_database(settings), host=args.host, port=args.port)
    return 0


def _webhooks_subscribe(settings: Settings, args: argparse.Namespace) -> int:
    from .tasks import build_client
    from .webhook_subscriptions import describe_result, subscribe

    settings = _with_database(settings)
    with build_client(settings) as client:
        results = subscribe(settings, client, args.url, args.profile_ids)
    for result in results:
        print(describe_result(result))
    return 0


def _webhooks_list(settings: Settings, args: argparse.Namespace) -> int:
    from .tasks import build_client
    from .webhook_subscriptions import describe_subscription, list_subscriptions

    with build_client(_with_database(settings)) as client:
        subscriptions = list_subscriptions(client)
    for subscription in subscriptions:
        print(describe_subscription(subscription))
    if not subscriptions:
        print("no webhook subscriptions")
    return 0


def _webhooks_unsubscribe(settings: Settings, args: argparse.Namespace) -> int:
    from .tasks import build_client
    from .webhook_subscriptions import unsubscribe

    with build_client(_with_database(settings)) as client:
        unsubscribe(client, args.subscription_id)
    print(f"deleted webhook subscription {args.subscription_id}")
    return 0


def _simulator_send_event(settings: Settings, args: argparse.Namespace) -> int:
    from connector.simulator import cli as simulator_cli

    from .errors import ConfigurationError

    if settings.webhook_secret is None:
        raise ConfigurationError(
            "set DOTLOOP_WEBHOOK_SECRET to the secret `webhooks serve` verifies with"
        )
    secret = settings.webhook_secret.reveal()
    scheme = settings.webhook_signature_scheme
    return simulator_cli.send_event_from(args, secret, scheme)


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


def _brokerage_load(settings: Settings, args: argparse.Namespace) -> int:
    from . import db
    from .brokerage import load_brokerage
    from .embedded import with_database
    from .views import refresh_reporting

    settings = with_database(settings)
    with db.connect(settings) as conn:
        db.apply_schema(conn, settings)
        brokerage = load_brokerage(conn, settings, args.file)
        refresh_reporting(conn, settings)
    print(f"brokerage loaded: {brokerage.summary()}; reports refreshed")
    return 0


def _brokerage_show(settings: Settings, args: argparse.Namespace) -> int:
    from . import db
    from .brokerage import render_brokerage, stored_brokerage
    from .embedded import with_database

    settings = with_database(settings)
    with db.connect(settings) as conn:
        print(render_brokerage(stored_brokerage(conn, settings)), end="")
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


def _bundle_generate(settings: Settings, args: argparse.Namespace) -> int:
    from .bundle_sources import drift, generate

    if args.check:
        changed = drift(settings.dashboards_dir, settings.datasets_dir)
        for path in changed:
            print(f"differs from its sources: {path}", file=sys.stderr)
        if changed:
            print("run `dotloop-reporter bundle generate`", file=sys.stderr)
            return 1
        print("bundle files match their sources")
        return 0
    for path in generate(settings.dashboards_dir, settings.datasets_dir):
        print(f"wrote {path}")
    return 0


def _bundle_export(settings: Settings, args: argparse.Namespace) -> int:
    from .bundle_export import BundleIds, export_dashboard
    from .superset_setup import superset_client

    ids = BundleIds.from_sources(
        settings.dashboards_dir, settings.datasets_dir, settings.reporting_schema
    )
    out = args.out or settings.dashboards_dir
    with superset_client(settings) as client:
        changed = export_dashboard(client, args.dashboard, out, ids)
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} file(s) changed under {out}")
    return 0


def _embed_enable(settings: Settings, args: argparse.Namespace) -> int:
    from .embedding import enable_embedding
    from .superset_setup import superset_client

    with superset_client(settings) as client:
        embedded = enable_embedding(client, args.allowed_domains)
    for dashboard_uuid, embedded_uuid in sorted(embedded.items()):
        print(f"dashboard {dashboard_uuid}: embedded id {embedded_uuid}")
    return 0


def _portal_serve(settings: Settings, args: argparse.Namespace) -> int:
    from .broker_portal import portal_config
    from .portal_server import serve_portal
    from .portal_users import load_users

    users = load_users(args.users or settings.data_dir / "portal-users.yaml")
    config = portal_config(
        settings,
        users,
        host=args.host,
        port=args.port,
        public_origin=args.public_origin,
        superset_public_url=args.superset_public_url,
    )
    serve_portal(config)
    return 0


def _portal_hash_password(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from .portal_users import hash_password

    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            print("error: the two passwords differ", file=sys.stderr)
            return 1
    print(hash_password(password))
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
