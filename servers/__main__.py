"""``python -m pushlab.servers polling|longpoll|websocket|sse|all|demo [options]``
(``pushlab serve`` and ``pushlab demo`` call ``main`` with their own ``prog``)."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from pushlab.command_line import EXIT_USAGE, CommandParser
from pushlab.limits import raise_open_files_limit
from pushlab.servers.config import (
    ARRIVALS,
    BODY_TIMEOUT_S,
    HEADER_TIMEOUT_S,
    KEEPALIVE_TIMEOUT_S,
    LESSON_ARRIVALS,
    LESSON_PUBLISH_RATE,
    PUBLISH_BURST,
    PUBLISH_LIMIT_PER_S,
    ServerConfig,
)
from pushlab.servers.feeds import MEMORY, FeedUnavailableError, feed_spec, shared
from pushlab.servers.loops import DEFAULT_LOOP, LOOPS, LoopUnavailableError, loop_factory, run
from pushlab.servers.profiling import profiled
from pushlab.servers.teacher import KEY_ENV, key_for, key_line
from pushlab.techniques import DEMO_PORT, NAMES, POLL_INTERVAL_S, TECHNIQUES


def number_in_range(
    kind: type[int] | type[float], low: float, high: float, meaning: str
) -> Callable[[str], float]:
    """An argparse type: a number of ``kind`` within [low, high], or a one-line usage error."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {meaning}: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low:g}–{high:g} ({meaning}), got {text}")
        return value

    return parse


port_number = number_in_range(int, 0, 65535, "a port number (0 = any free port)")
rate = number_in_range(float, 0, 1000, "a rate in messages per second")
positive_int = number_in_range(int, 1, 10**9, "a whole number at least 1")


PROG = "python -m pushlab.servers"
BIND_FAILURE = re.compile(r"address \('?(?P<host>[^',]*)'?, (?P<port>\d+)[^)]*\): (?P<reason>.+)")
"""asyncio's words for a port it cannot bind (``loop.create_server``)."""
DEMO_FREE_PORTS = "0 puts all five servers on free ports"


def default_ports() -> str:
    """``polling 8001, …, demo 8000``, for the help text."""
    ports = [f"{name} {entry.port}" for name, entry in TECHNIQUES.items()]
    return ", ".join([*ports, f"demo {DEMO_PORT}"])


def port_help(choices: tuple[str, ...]) -> str:
    if choices == ("demo",):
        return f"the page's port (default {DEMO_PORT}); {DEMO_FREE_PORTS}"
    return (
        f"port (default: {default_ports()}; 0 = any free port;"
        " with all, P puts the four on P to P+3)"
    )


def parse_args(
    argv: list[str], prog: str = PROG, choices: tuple[str, ...] = (*NAMES, "all", "demo")
) -> argparse.Namespace:
    """``choices`` are what the first argument may name; with one choice there is no argument
    (``pushlab demo`` is the demo, and its help does not offer the four techniques)."""
    parser = CommandParser(
        prog=prog,
        description="Run a pushlab server: one technique, all four, or the classroom demo.",
    )
    demo_only = choices == ("demo",)
    if len(choices) == 1:
        parser.set_defaults(technique=choices[0])
    else:
        parser.add_argument("technique", choices=choices)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, help=port_help(choices))
    parser.add_argument(
        "--rate",
        type=rate,
        default=LESSON_PUBLISH_RATE,
        help=f"built-in publisher, messages per second (default {LESSON_PUBLISH_RATE:g}:"
        f" below one poll per {POLL_INTERVAL_S:g} s, so most polls find nothing; 0 = off)",
    )
    parser.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default=LESSON_ARRIVALS,
        help=f"how the publisher spaces messages (default {LESSON_ARRIVALS}: at random, as"
        " people write; periodic: exactly 1/rate apart)",
    )
    parser.add_argument(
        "--history",
        type=positive_int,
        default=1000,
        help="messages kept for clients that resume with since=N",
    )
    parser.add_argument("--max-text-bytes", type=positive_int, default=4096)
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept WebSocket upgrades from this Origin "
        "('*' = any, 'same-host' = this host on any port); repeatable",
    )
    parser.add_argument(
        "--loop",
        choices=LOOPS,
        default=None,
        help=f"the event loop (default {DEFAULT_LOOP}; uvloop is compiled, from the peers extra)",
    )
    parser.add_argument(
        "--ws-compress",
        action="store_true",
        help="offer permessage-deflate (off by default: the bench measures raw frames)",
    )
    if demo_only:  # one process with its feed in memory: the demo has no scale-out options
        parser.set_defaults(feed=MEMORY, workers=1, worker_index=None)
    else:
        add_scale_out_options(parser)
    add_hardening_options(parser)
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="write a cProfile of the server to FILE when it stops (read: python -m pstats FILE)",
    )
    return parser.parse_args(argv)


def add_scale_out_options(parser: argparse.ArgumentParser) -> None:
    """Issue 13: the feed's backend, and several processes on one port."""
    parser.add_argument(
        "--feed",
        type=feed_spec,
        default=MEMORY,
        help="where messages live: memory (default, one process) or redis://HOST:PORT/DB"
        " (shared by workers, kept across restarts)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="processes serving the port (SO_REUSEPORT); more than 1 needs --feed redis://…",
    )
    parser.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)


def add_hardening_options(parser: argparse.ArgumentParser) -> None:
    """Timeouts and limits (issue 16), each with its named default; ``/stats`` lists them too."""
    group = parser.add_argument_group("timeouts and limits")
    seconds = number_in_range(float, 0.001, 86400, "a number of seconds")
    group.add_argument(
        "--header-timeout",
        type=seconds,
        default=HEADER_TIMEOUT_S,
        metavar="S",
        help=f"close a connection whose request headers take longer (default {HEADER_TIMEOUT_S:g})",
    )
    group.add_argument(
        "--body-timeout",
        type=seconds,
        default=BODY_TIMEOUT_S,
        metavar="S",
        help="answer 408 to a body not complete this long after its headers"
        f" (default {BODY_TIMEOUT_S:g})",
    )
    group.add_argument(
        "--keepalive-timeout",
        type=seconds,
        default=KEEPALIVE_TIMEOUT_S,
        metavar="S",
        help=f"close an idle kept-alive connection after this (default {KEEPALIVE_TIMEOUT_S:g})",
    )
    group.add_argument(
        "--max-connections",
        type=positive_int,
        metavar="N",
        help="beyond N open connections answer 503 + Retry-After and close"
        " (default: the open-files limit less a reserve)",
    )
    group.add_argument(
        "--max-connections-per-address",
        type=positive_int,
        metavar="N",
        help="connections one client address may hold (default: a quarter of the ceiling when"
        " binding beyond loopback, no limit on loopback)",
    )
    group.add_argument(
        "--publish-limit",
        type=number_in_range(float, 0, 10**6, "messages per second (0 = no limit)"),
        default=PUBLISH_LIMIT_PER_S,
        metavar="PER_S",
        help=f"messages per second one address may publish (default {PUBLISH_LIMIT_PER_S:g};"
        " 0 = no limit; the built-in publisher is never limited)",
    )
    group.add_argument(
        "--publish-burst",
        type=positive_int,
        default=PUBLISH_BURST,
        metavar="N",
        help=f"messages one address may publish at once (default {PUBLISH_BURST})",
    )
    group.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host header names NAME (besides the bound"
        " addresses and this machine's names); repeatable",
    )
    group.add_argument(
        "--trust-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="take the client's address from a PROXY protocol v1 line (nginx: proxy_protocol on)"
        " on connections from ADDRESS; repeatable",
    )
    group.add_argument(
        "--teacher-key",
        metavar="KEY",
        help="the key that rate changes need when binding beyond loopback"
        " (default: a random one, printed at start)",
    )


def config_from(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host,
        port=args.port,
        publish_rate=args.rate,
        arrivals=args.arrivals,
        history_size=args.history,
        max_text_bytes=args.max_text_bytes,
        allowed_origins=tuple(args.allow_origin),
        ws_compress=args.ws_compress,
        feed=args.feed,
        workers=args.workers,
        **{field: getattr(args, option) for field, option in HARDENING_FIELDS.items()},
        allowed_hosts=tuple(args.allow_host),
        trusted_proxies=tuple(args.trust_proxy),
        teacher_key=args.teacher_key or os.environ.get(KEY_ENV) or key_for(args.host),
    )


HARDENING_FIELDS = {
    "header_timeout_s": "header_timeout",
    "body_timeout_s": "body_timeout",
    "keepalive_timeout_s": "keepalive_timeout",
    "max_connections": "max_connections",
    "max_connections_per_address": "max_connections_per_address",
    "publish_limit_per_s": "publish_limit",
    "publish_burst": "publish_burst",
}
"""``ServerConfig`` field ← the ``add_hardening_options`` option that fills it."""


async def serve_one(technique: str, config: ServerConfig, worker_index: int | None = None) -> None:
    from pushlab.servers.app import make_app
    from pushlab.servers.runner import start, wait_for_stop_signal

    port = TECHNIQUES[technique].port if config.port is None else config.port
    if config.workers > 1 and worker_index is not None:
        from pushlab.servers.workers import serve_worker

        return await serve_worker(technique, config, worker_index, port)
    server = await start(make_app(technique, config), config.host, port)
    # One write call per line: under `all` four processes share this pipe, and print() issues
    # the text and its newline as two writes when stdout is unbuffered (PYTHONUNBUFFERED=1).
    sys.stdout.write(f"pushlab {technique} listening on {server.url}\n")
    if config.teacher_key is not None and os.environ.get(KEY_ENV) != config.teacher_key:
        sys.stdout.write(key_line(config.teacher_key))  # a key handed down was printed above
    sys.stdout.flush()
    try:
        await wait_for_stop_signal()
    finally:
        await server.stop()


def run_all(argv: list[str], args: argparse.Namespace, prog: str = PROG) -> int:
    """Four servers, four processes, all listening or none (``servers/serve_all.py``)."""
    from pushlab.servers.serve_all import port_block_problem
    from pushlab.servers.serve_all import run_all as run_four

    passthrough = [a for a in argv if a != "all"]
    key = args.teacher_key or key_for(args.host)
    # One key for the four processes, passed in their environment, not their argv (which any
    # local user can read in the process list).
    environment = {KEY_ENV: key} if key is not None and args.teacher_key is None else {}
    problem = port_block_problem(args.port)
    if args.profile is not None:  # four processes would write one file
        problem = "--profile is for one technique at a time"
    if problem is not None:
        print(f"{prog} all: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return run_four(passthrough, args.port, prog, environment)


def cannot_listen(error: OSError, demo: bool) -> str:
    """One line for a port that cannot be bound: which address, why, and the way out."""
    found = BIND_FAILURE.search(error.strerror or "")
    if found:
        where = f"cannot listen on {found['host']}:{found['port']}: {found['reason']}"
    else:
        where = f"cannot listen: {error.strerror or error}"
    way_out = f"--port {DEMO_FREE_PORTS}" if demo else "try --port 0"
    return f"{where}; {way_out}"


def scale_out_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with ``--feed`` / ``--workers`` for this command, if anything."""
    if args.technique == "demo" and (shared(args.feed) or args.workers > 1):
        return "the classroom demo is one process with its feed in memory (no --feed, --workers)"
    if args.workers > 1 and not shared(args.feed):
        return "--workers needs a shared feed (--feed redis://HOST:PORT/DB)"
    return None


def main(
    argv: list[str] | None = None,
    prog: str = PROG,
    choices: tuple[str, ...] = (*NAMES, "all", "demo"),
) -> int:
    """Run what ``argv`` asks for; ``prog`` names the command in help and error lines, and
    ``choices`` limits what its first argument may name (see :func:`parse_args`)."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv, prog, choices)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    raise_open_files_limit()
    if args.technique == "all":
        return run_all(argv, args, prog)
    config = config_from(args)
    who = prog if len(choices) == 1 else f"{prog} {args.technique}"  # `pushlab demo`, once
    problem = scale_out_problem(args)
    if problem is not None:
        print(f"{who}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.workers > 1 and args.worker_index is None:
        from pushlab.servers.workers import run_workers

        port = TECHNIQUES[args.technique].port if args.port is None else args.port
        return run_workers(args.technique, argv, config, port)  # one key for all, by env
    try:
        factory = loop_factory(args.loop or DEFAULT_LOOP)
        with profiled(args.profile):
            if args.technique == "demo":
                from pushlab.servers.demo import serve_demo

                run(serve_demo(config), factory)
            else:
                run(serve_one(args.technique, config, args.worker_index), factory)
    except OSError as error:
        print(f"{who}: {cannot_listen(error, args.technique == 'demo')}", file=sys.stderr)
        return 1
    except (FeedUnavailableError, LoopUnavailableError) as error:
        print(f"{who}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
