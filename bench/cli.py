"""``pushlab bench``: measure the four techniques on this machine (what ``make bench`` runs).

This module reads the command line and turns it into the run's matrix settings; ``run.py``
runs the matrix. Every scenario gets a fresh server process pinned to one CPU and a Locust
generator pinned to the other (see ``measuring/harness.py``; ``measuring/scenarios.py`` for
the matrix). Results go to ``results/<UTC timestamp>/`` under the current directory
(``results/latest`` points at the newest), or to ``--out DIR``.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from pushlab import techniques
from pushlab.bench import run
from pushlab.bench.core.matrix import build_matrix, settings_for, sweep_names, unique_scenarios
from pushlab.bench.core.scenario import MatrixSettings
from pushlab.bench.core.sweep import registered
from pushlab.bench.measuring.arguments import (
    MAX_CLIENTS,
    MAX_POLL_INTERVAL_S,
    MAX_PUBLISH_RATE,
    MIN_PUBLISH_RATE,
    name_list,
    number_list,
    one_number,
    seconds,
    seed_number,
)
from pushlab.bench.measuring.scale_out import add_scale_out_options, scale_out_changes
from pushlab.command_line import CommandParser
from pushlab.peers import node_peers

PROG = "python -m pushlab.bench"
MIN_POLL_INTERVAL = 0.01
MAX_POLL_INTERVAL = MAX_POLL_INTERVAL_S
MIN_HOLD_S = 1.0  # a shorter hold is polling with extra steps
MAX_WINDOW_S = 3600  # no single measurement window longer than an hour


def default_matrix_words() -> str:
    """The default matrix in a sentence, from its settings (never typed twice)."""
    s = settings_for("default")

    def values(numbers: tuple[float, ...]) -> str:
        return ", ".join(f"{n:g}" for n in sorted(numbers))

    return (
        f"Default matrix: the four techniques at {values(s.clients)} clients at "
        f"{s.base_rate:g} msg/s (polling every {s.base_interval:g} s); publish rates "
        f"{values(s.rates)} msg/s and poll intervals {values(s.intervals)} s at "
        f"{s.base_clients} clients; the {', '.join(s.sweeps)} sweeps. Windows are "
        f"{s.duration_s:g} s after a {s.warmup_s:g} s warm-up (longer when messages are rare). "
        "Each run's report states how long it took."
    )


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = CommandParser(
        prog=prog,
        description="Measure polling, long polling, WebSocket and SSE on this machine.",
        epilog=default_matrix_words(),
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
        "--techniques",
        type=name_list(techniques.NAMES),
        help="e.g. polling,websocket (default: all)",
    )
    names = sweep_names()
    usual = ",".join(sweep.name for sweep in registered() if sweep.in_default)
    parser.add_argument(
        "--sweeps", type=name_list(names), help=f"{','.join(names)} (default: {usual})"
    )
    parser.add_argument(
        "--peers",
        type=name_list(techniques.PEER_NAMES),
        help="peer servers beside pushlab's, e.g. socketio-websocket,baseline-websocket "
        "(default: none; --full: all)",
    )
    parser.add_argument(
        "--base-clients",
        type=one_number(int, 1, MAX_CLIENTS),
        help="the client count the rate and interval sweeps run at (default 100; --quick 40)",
    )
    parser.add_argument(
        "--base-rate",
        type=one_number(float, MIN_PUBLISH_RATE, MAX_PUBLISH_RATE),
        help="the publish rate the clients and interval sweeps run at (msg/s, default: see below)",
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
    parser.add_argument(
        "--seed",
        type=seed_number,
        help="seed of the Poisson arrivals, shared by every scenario (default: a new one per "
        "run, printed and kept in environment.json; pass it again to repeat the arrivals)",
    )
    add_scale_out_options(parser)
    for sweep in registered():
        if sweep.options is not None:
            sweep.options(parser.add_argument_group(f"the {sweep.name} sweep"))


def parse_args(argv: list[str] | None, prog: str = PROG) -> argparse.Namespace:
    return build_parser(prog).parse_args(argv)


def settings_from(args: argparse.Namespace) -> tuple[str, MatrixSettings]:
    """The mode (quick, default or full) and its matrix with the options' values in place:
    the base options here, each sweep's own through its plug-in."""
    mode = "quick" if args.quick else "full" if args.full else "default"
    settings = settings_for(mode)
    given = {
        "techniques": args.techniques,
        "sweeps": args.sweeps,
        "rates": args.rates,
        "intervals": args.intervals,
        "arrivals": args.arrivals,
        "peers": args.peers,
        "base_clients": args.base_clients,
        "base_rate": args.base_rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "hold_s": args.hold,
    }
    changes: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    if args.clients:
        changes["clients"], changes["push_clients"] = args.clients, ()
    # A seed is drawn even for periodic arrivals (unused there), so every run records one.
    changes["arrival_seed"] = random.randrange(2**32) if args.seed is None else args.seed
    changes.update(scale_out_changes(args))
    own = dict(settings.own)
    for sweep in registered():
        if sweep.from_options is not None and sweep.settings is not None:
            own[sweep.name] = replace(own[sweep.name], **sweep.from_options(args))
    return mode, replace(settings, **changes, own=own)


def peers_that_can_run(settings: MatrixSettings) -> tuple[MatrixSettings, str | None]:
    """The settings without the Node peers if Node.js or their packages cannot be had here
    (installing the packages from the lock file if need be), and the reason, or None."""
    node = [name for name in settings.peers if name in node_peers.SCRIPTS]
    reason = node_peers.unavailable() if node else None
    if reason is None:
        return settings, None
    kept = tuple(name for name in settings.peers if name not in node)
    return replace(settings, peers=kept), f"skipping {', '.join(node)}: {reason}"


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Parse the command line, then run the matrix; the exit status of the run."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(arguments, prog)
    mode, settings = settings_from(args)
    settings, problem = peers_that_can_run(settings)
    if problem is not None:
        print(f"{prog}: {problem}", file=sys.stderr)
        if os.environ.get("CI") == "true":
            return run.EXIT_CANNOT_START
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
