"""``pushlab bench``: measure the four techniques on this machine (what ``make bench`` runs).

This module reads the command line and turns it into the run's matrix settings; ``run.py``
runs the matrix. Every scenario gets a fresh server process pinned to one CPU and a Locust
generator pinned to the other (see ``measuring/harness.py``; ``measuring/scenarios.py`` for
the matrix). Results go to ``results/<UTC timestamp>/`` under the current directory
(``results/latest`` points at the newest), or to ``--out DIR``.
"""

from __future__ import annotations

import argparse
import random
import shlex
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pushlab import techniques
from pushlab.bench import run
from pushlab.bench.measuring.arguments import (
    MAX_POLL_INTERVAL_S,
    name_list,
    number_list,
    seconds,
    seed_number,
)
from pushlab.bench.measuring.network_matrix import FAULTS
from pushlab.bench.measuring.scale_out import add_scale_out_options, scale_out_changes
from pushlab.bench.measuring.scenarios import (
    DEFAULT,
    FULL,
    QUICK,
    SWEEP_CHOICES,
    TECHNIQUES,
    MatrixSettings,
    build_matrix,
    unique_scenarios,
)
from pushlab.command_line import CommandParser
from pushlab.servers.config import ServerConfig

PROG = "python -m pushlab.bench"
MAX_PUBLISH_RATE = ServerConfig.max_publish_rate  # the servers refuse a faster publisher
MIN_PUBLISH_RATE = 0.01  # one message in 100 s: a window then lasts 300 s (three messages)
MIN_POLL_INTERVAL = 0.01
MAX_POLL_INTERVAL = MAX_POLL_INTERVAL_S
MIN_HOLD_S = 1.0  # a shorter hold is polling with extra steps
MAX_WINDOW_S = 3600  # no single measurement window longer than an hour
MAX_RTT_MS = 10_000  # ten seconds of round trip: a satellite link is 600 ms
MAX_CLIENTS = 20_000  # four times --full's largest; each client is a socket on both sides


def one_number(kind: type, least: float, most: float) -> Callable[[str], Any]:
    """One number in range (``number_list``'s checks), or a one-line usage error."""
    numbers = number_list(kind, least, most)

    def parse(text: str) -> Any:
        values = numbers(text)
        if len(values) != 1:
            raise argparse.ArgumentTypeError(f"expected one number: {text!r}")
        return values[0]

    return parse


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = CommandParser(
        prog=prog,
        description="Measure polling, long polling, WebSocket and SSE on this machine.",
        epilog="Default matrix (~5 min on 2 cores): the four techniques at 10, 100 and 1,000 "
        "clients at 1 msg/s (polling every 1 s); publish rates 0.2–20 msg/s at 100 clients; "
        "polling every 0.25–4 s at 100 clients. Windows are 6 s after a 1.5 s warm-up "
        "(longer when messages are rare).",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a reduced matrix in about a minute")
    size.add_argument(
        "--full", action="store_true", help="larger: up to 5,000 clients for push, 15 s windows"
    )
    add_matrix_options(parser)
    parser.add_argument("--out", type=Path, help="write here instead of results/<timestamp>/")
    parser.add_argument("--no-trace", action="store_true", help="skip recording trace.json")
    parser.add_argument("--no-report", action="store_true", help="skip plots and report.md")
    parser.add_argument(
        "--profile",
        action="append",
        metavar="SCENARIO",
        help="profile this scenario's server (an id such as websocket-c1000-r20) into "
        "profiles/SCENARIO.prof of the results directory; repeatable",
    )
    return parser


def add_matrix_options(parser: argparse.ArgumentParser) -> None:
    """The options that replace values of the chosen matrix."""
    parser.add_argument(
        "--techniques", type=name_list(TECHNIQUES), help="e.g. polling,websocket (default: all)"
    )
    parser.add_argument(
        "--sweeps",
        type=name_list(SWEEP_CHOICES),
        help=f"{','.join(SWEEP_CHOICES)} (default: all but faults, saturation, slow, workers "
        "and capacity)",
    )
    parser.add_argument(
        "--peers",
        type=name_list(techniques.PEER_NAMES),
        help="peer servers beside pushlab's, e.g. socketio-websocket,baseline-websocket "
        "(default: none; --full: all)",
    )
    parser.add_argument(
        "--saturation-clients",
        type=number_list(int, 1, MAX_CLIENTS),
        help="client counts of the saturation sweep: polling and baseline-polling in a closed "
        "loop, nothing published (default 100,1000; --quick 40)",
    )
    parser.add_argument(
        "--slow-clients",
        type=one_number(int, 1, MAX_CLIENTS),
        help="slow sweep: the clients beside the slow consumer (default 20; --quick 10)",
    )
    parser.add_argument(
        "--slow-rate",
        type=one_number(float, MIN_PUBLISH_RATE, MAX_PUBLISH_RATE),
        help="slow sweep: publish rate (msg/s, default 200; --quick 100), of 4 KiB texts",
    )
    parser.add_argument(
        "--slow-stall-s",
        type=seconds(0, 120, zero_allowed=False),
        help="slow sweep: how long the slow consumer stops reading (s, default 30; --quick 5)",
    )
    parser.add_argument(
        "--base-clients",
        type=one_number(int, 1, MAX_CLIENTS),
        help="the client count the rate and interval sweeps run at (default 100; --quick 40)",
    )
    parser.add_argument(
        "--base-rate",
        type=one_number(float, MIN_PUBLISH_RATE, MAX_PUBLISH_RATE),
        help="the publish rate the clients and interval sweeps run at (msg/s, default 1)",
    )
    parser.add_argument(
        "--clients", type=number_list(int, 1, MAX_CLIENTS), help="client counts, e.g. 10,100"
    )
    rates = number_list(float, MIN_PUBLISH_RATE, MAX_PUBLISH_RATE)
    parser.add_argument("--rates", type=rates, help="publish rates (msg/s)")
    intervals = number_list(float, MIN_POLL_INTERVAL, MAX_POLL_INTERVAL)
    parser.add_argument("--intervals", type=intervals, help="poll intervals (s)")
    parser.add_argument(
        "--hold",
        type=seconds(MIN_HOLD_S, techniques.LONGPOLL_MAX_HOLD_S, zero_allowed=True),
        help="how long a long poll asks the server to hold it (s, "
        f"{MIN_HOLD_S:g}–{techniques.LONGPOLL_MAX_HOLD_S:g}; "
        f"default {techniques.LONGPOLL_HOLD_S:g})",
    )
    parser.add_argument(
        "--duration", type=seconds(0, 3600, zero_allowed=False), help="measurement window (s)"
    )
    parser.add_argument(
        "--warmup", type=seconds(0, 600, zero_allowed=True), help="warm-up before each window (s)"
    )
    parser.add_argument("--arrivals", choices=("poisson", "periodic"), help="default poisson")
    add_network_options(parser)
    parser.add_argument(
        "--seed",
        type=seed_number,
        help="seed of the Poisson arrivals, shared by every scenario (default: a new one per "
        "run, printed and kept in environment.json; pass it again to repeat the arrivals)",
    )
    add_scale_out_options(parser)


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """The network and fault sweeps' options (issue 12; see ``measuring/network_matrix.py``)."""
    parser.add_argument(
        "--rtts",
        type=number_list(float, 0, MAX_RTT_MS),
        help="round-trip times of the network sweep (ms; default 100, --full 0,20,100,300)",
    )
    parser.add_argument(
        "--jitter",
        type=seconds(0, MAX_RTT_MS, zero_allowed=True),
        help="extra one-way delay per chunk, 0 to this (ms; never reorders a stream). Packet "
        "loss cannot be emulated above TCP, so there is no option for it",
    )
    parser.add_argument(
        "--rates-at-rtt",
        type=seconds(0, MAX_RTT_MS, zero_allowed=True),
        help="also run every --rates value at this RTT (ms; --full: 100)",
    )
    parser.add_argument(
        "--faults", type=name_list(FAULTS), help="drop,stall,restart (the faults sweep)"
    )
    parser.add_argument(
        "--fault-rate",
        type=number_list(float, MIN_PUBLISH_RATE, MAX_PUBLISH_RATE),
        help="publish rate of the faults sweep (msg/s, default 10)",
    )
    parser.add_argument(
        "--stall-s", type=seconds(0, 60, zero_allowed=False), help="how long a stall lasts (s)"
    )
    parser.add_argument(
        "--no-resume",
        action="store_true",
        help="faults: run each held technique also without resume (from the present)",
    )


def parse_args(argv: list[str] | None, prog: str = PROG) -> argparse.Namespace:
    return build_parser(prog).parse_args(argv)


def settings_from(args: argparse.Namespace) -> tuple[str, MatrixSettings]:
    """The mode (quick, default or full) and its matrix with the options' values in place."""
    mode = "quick" if args.quick else "full" if args.full else "default"
    settings = {"quick": QUICK, "full": FULL, "default": DEFAULT}[mode]
    replaced = {
        "techniques": args.techniques,
        "sweeps": args.sweeps,
        "rates": args.rates,
        "intervals": args.intervals,
        "arrivals": args.arrivals,
        "rtts_ms": args.rtts,
        "faults": args.faults,
        "peers": args.peers,
        "saturation_clients": args.saturation_clients,
    }
    changes: dict[str, Any] = {name: value for name, value in replaced.items() if value}
    if args.clients:
        changes["clients"], changes["push_clients"] = args.clients, ()
    if args.base_clients is not None:
        changes["base_clients"] = args.base_clients
    if args.base_rate is not None:
        changes["base_rate"] = args.base_rate
    given = {"duration_s": args.duration, "warmup_s": args.warmup, "longpoll_hold_s": args.hold}
    given |= {
        "jitter_ms": args.jitter,
        "rates_at_rtt_ms": args.rates_at_rtt,
        "stall_s": args.stall_s,
        "slow_stall_s": args.slow_stall_s,
    }
    if args.slow_clients is not None:
        changes["slow_clients"] = args.slow_clients
    if args.slow_rate is not None:
        changes["slow_rate"] = args.slow_rate
    if args.fault_rate:
        changes["fault_rate"] = args.fault_rate[0]
    if args.no_resume:
        changes["no_resume"] = True
    changes.update({name: value for name, value in given.items() if value is not None})
    # A seed is drawn even for periodic arrivals (unused there), so every run records one.
    changes["arrival_seed"] = random.randrange(2**32) if args.seed is None else args.seed
    changes.update(scale_out_changes(args))
    return mode, replace(settings, **changes)


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Parse the command line, then run the matrix; the exit status of the run."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(arguments, prog)
    mode, settings = settings_from(args)
    matrix = build_matrix(settings)
    longest = max(unique_scenarios(matrix), key=lambda s: s.duration_s, default=None)
    if longest is not None and longest.duration_s > MAX_WINDOW_S:
        print(
            f"{prog}: {longest.describe()} would need a {longest.duration_s:,.0f} s window"
            f" (at most {MAX_WINDOW_S} s): choose a higher rate, shorter interval or duration",
            file=sys.stderr,
        )
        return run.EXIT_CANNOT_START
    unknown = sorted(set(args.profile or ()) - {s.id for s in unique_scenarios(matrix)})
    if unknown:
        ids = ", ".join(s.id for s in unique_scenarios(matrix))
        print(
            f"{prog}: --profile {unknown[0]}: no such scenario here (ids: {ids})", file=sys.stderr
        )
        return run.EXIT_CANNOT_START
    command = shlex.join([*shlex.split(prog), *arguments])
    return run.run_bench(args, mode, settings, matrix, prog=prog, command=command)
