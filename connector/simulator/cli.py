"""`dotloop-reporter simulator`: serve a generated brokerage or a fixture directory.

`simulator send-event` sends one signed webhook event by hand to a receiver
on this machine.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from .changes import LoopChanges
from .config import DOTLOOP_RETRY_DELAYS, SIGNATURE_SCHEMES, SimulatorConfig
from .data import SimulatedData
from .errors import SimulatorError
from .faults import FaultConfig, build_faults
from .fixtures import load_fixtures
from .generate import generate_brokerage
from .server import Simulator
from .subscriptions import TARGET_EVENTS
from .webhooks import send_event

logger = logging.getLogger(__name__)

DEFAULT_LOOPS = 2000
DEFAULT_SEED = 1
DEFAULT_PORT = 8765
DEFAULT_RECEIVER = "http://127.0.0.1:8090/webhooks/dotloop"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulator's options, added to a (sub)command parser."""
    data = parser.add_argument_group("data (a generated brokerage unless --fixtures)")
    data.add_argument(
        "--loops", type=int, metavar="N", help=f"loops to generate ({DEFAULT_LOOPS})"
    )
    data.add_argument(
        "--seed",
        type=int,
        metavar="S",
        help=f"seed of the generator and of the faults ({DEFAULT_SEED})",
    )
    data.add_argument(
        "--fixtures", type=Path, metavar="DIR", help="directory of captured responses"
    )
    net = parser.add_argument_group("server")
    net.add_argument("--host", default="127.0.0.1", help="address (%(default)s)")
    net.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 for any free (%(default)s)"
    )
    net.add_argument(
        "--rate-limit-per-minute",
        type=int,
        metavar="N",
        default=100,
        help="requests per user and window (%(default)s)",
    )
    net.add_argument(
        "--window-seconds",
        type=float,
        metavar="SECONDS",
        default=60.0,
        help="length of the rate limit window (%(default)s)",
    )
    auth = parser.add_argument_group("OAuth")
    auth.add_argument("--client-id", default="sim-client", help="(%(default)s)")
    auth.add_argument("--client-secret", default="sim-secret", help="(%(default)s)")
    auth.add_argument("--refresh-token", default="sim-refresh", help="(%(default)s)")
    auth.add_argument(
        "--token-ttl",
        type=float,
        metavar="SECONDS",
        default=43200.0,
        help="access token lifetime in seconds (%(default)s)",
    )
    hooks = parser.add_argument_group("webhooks (sent for edits to subscribed urls)")
    hooks.add_argument(
        "--webhook-signature-scheme",
        choices=SIGNATURE_SCHEMES,
        default="body",
        help="what the signature covers (%(default)s)",
    )
    hooks.add_argument(
        "--webhook-retry-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="multiply Dotloop's retry waits (30 s to 8 h) by F (%(default)s)",
    )
    _add_fault_arguments(parser)


def _add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    faults = parser.add_argument_group(
        "faults (rates are chances per API call, drawn from --seed)"
    )
    faults.add_argument(
        "--fault-5xx-rate", type=float, default=0.0, metavar="P", help="a 5xx answer"
    )
    faults.add_argument(
        "--fault-timeout-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="hang past the client's timeout, then answer or drop the connection",
    )
    faults.add_argument(
        "--fault-timeout-seconds",
        type=float,
        default=35.0,
        metavar="SECONDS",
        help="how long such a request hangs (%(default)s)",
    )
    faults.add_argument(
        "--fault-429-burst",
        type=float,
        default=0.0,
        metavar="P",
        help="start a run of 429s for the user",
    )
    faults.add_argument(
        "--fault-429-seconds",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long a run of 429s lasts (%(default)s)",
    )
    faults.add_argument(
        "--fault-retry-after",
        action="store_true",
        help="send Retry-After with those 429s (only the reset header otherwise)",
    )
    faults.add_argument(
        "--fault-non-json-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="a 200 whose body is a maintenance page or cut short",
    )
    faults.add_argument(
        "--shift-between-pages",
        type=float,
        default=0.0,
        metavar="P",
        help="on a page after the first, a loop still to come is updated",
    )
    faults.add_argument(
        "--merge-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="before a loop list page, one of the profile's loops merges into another",
    )


def add_send_event_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `simulator send-event`; the secret comes from the caller."""
    parser.add_argument("--loop-id", type=int, required=True, metavar="N")
    parser.add_argument(
        "--profile-id",
        type=int,
        required=True,
        metavar="N",
        help="the profile the event is about (the receiver syncs through it)",
    )
    parser.add_argument(
        "--type",
        dest="event_type",
        default="LOOP_UPDATED",
        choices=TARGET_EVENTS["PROFILE"],
        metavar="TYPE",
        help=f"one of {', '.join(TARGET_EVENTS['PROFILE'])} (%(default)s)",
    )
    parser.add_argument(
        "--merged-loop-id",
        type=int,
        metavar="N",
        help="for LOOP_MERGED: the loop merged into --loop-id",
    )
    parser.add_argument(
        "--url", default=DEFAULT_RECEIVER, help="receiver on 127.0.0.1 (%(default)s)"
    )
    parser.add_argument("--event-id", help="reuse an id, as a redelivery does")


def send_event_from(args: argparse.Namespace, secret: str, scheme: str) -> int:
    """Send the event the options describe, signed with secret; 0 on a 2xx answer."""
    try:
        answer = send_event(
            args.url,
            secret,
            args.event_type,
            args.profile_id,
            args.loop_id,
            scheme=scheme,
            event_id=args.event_id,
            merged_loop_id=args.merged_loop_id,
        )
    except ValueError as exc:
        print(f"simulator send-event: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(
            f"simulator send-event: no answer from {args.url} ({type(exc).__name__})",
            file=sys.stderr,
        )
        return 1
    print(f"{answer.status_code} {answer.text.strip()}")
    return 0 if answer.is_success else 1


def build_simulator(args: argparse.Namespace) -> Simulator:
    """The simulator the options describe; raises SimulatorError or ValueError."""
    data = _data(args)
    changes = LoopChanges(data)
    faults = build_faults(fault_config_from(args), data, changes=changes)
    return Simulator(data, config_from(args), faults=faults, changes=changes)


def fault_config_from(args: argparse.Namespace) -> FaultConfig:
    """The FaultConfig of parsed options; raises ValueError on a bad rate."""
    return FaultConfig(
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        server_error_rate=args.fault_5xx_rate,
        timeout_rate=args.fault_timeout_rate,
        timeout_seconds=args.fault_timeout_seconds,
        storm_rate=args.fault_429_burst,
        storm_seconds=args.fault_429_seconds,
        storm_retry_after=args.fault_retry_after,
        non_json_rate=args.fault_non_json_rate,
        shift_rate=args.shift_between_pages,
        merge_rate=args.merge_rate,
    )


def config_from(args: argparse.Namespace) -> SimulatorConfig:
    """The SimulatorConfig of parsed options."""
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        rate_limit_per_minute=args.rate_limit_per_minute,
        window_seconds=args.window_seconds,
        client_id=args.client_id,
        client_secret=args.client_secret,
        refresh_token=args.refresh_token,
        token_ttl_seconds=args.token_ttl,
        webhook_signature_scheme=args.webhook_signature_scheme,
        webhook_retry_delays=tuple(
            delay * args.webhook_retry_scale for delay in DOTLOOP_RETRY_DELAYS
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 2 when the options contradict each other."""
    try:
        simulator = build_simulator(args)
    except (SimulatorError, ValueError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    try:
        simulator.serve_forever(ready=_announce)
    except KeyboardInterrupt:
        logger.info("simulator stopped")
    except OSError as exc:
        print(
            f"simulator: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m connector.simulator`, for use without the product's CLI."""
    parser = argparse.ArgumentParser(prog="dotloop-simulator", description=__doc__)
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    return run(parser.parse_args(argv))


def _data(args: argparse.Namespace) -> SimulatedData:
    if args.fixtures is not None:
        if args.loops is not None:
            raise SimulatorError("give either --fixtures or --loops, not both")
        return load_fixtures(args.fixtures)
    loops = DEFAULT_LOOPS if args.loops is None else args.loops
    return generate_brokerage(loops, DEFAULT_SEED if args.seed is None else args.seed)


def _announce(simulator: Simulator) -> None:
    config = simulator.config
    print(f"Dotloop API:   {simulator.base_url}")
    print(f"Dotloop OAuth: {simulator.auth_url}  (client id {config.client_id})")
    print(f"Statistics:    {simulator.stats_url}")
    print(f"Edits:         POST {simulator.admin_url}/loop/<id>/update (and more)")
    if simulator.app.faults:
        names = ", ".join(type(fault).__name__ for fault in simulator.app.faults)
        print(f"Faults:        {names}")
    print("Press Ctrl-C to stop.", flush=True)
