"""``python -m pushlab.servers polling|longpoll|websocket|sse|all|demo [options]``
(``pushlab serve`` and ``pushlab demo`` call ``main`` with their own ``prog``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from pushlab.limits import raise_open_files_limit
from pushlab.servers.config import ARRIVALS, ServerConfig
from pushlab.servers.profiling import profiled
from pushlab.techniques import DEMO_PORT, NAMES, TECHNIQUES


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
            raise argparse.ArgumentTypeError(f"{meaning} must be {low:g}–{high:g}: {text!r}")
        return value

    return parse


port_number = number_in_range(int, 0, 65535, "a port number (0 = any free port)")
rate = number_in_range(float, 0, 1000, "a rate in messages per second")
positive_int = number_in_range(int, 1, 10**9, "a whole number at least 1")


PROG = "python -m pushlab.servers"


def default_ports() -> str:
    """``polling 8001, …, demo 8000``, for the help text."""
    ports = [f"{name} {entry.port}" for name, entry in TECHNIQUES.items()]
    return ", ".join([*ports, f"demo {DEMO_PORT}"])


def parse_args(
    argv: list[str], prog: str = PROG, choices: tuple[str, ...] = (*NAMES, "all", "demo")
) -> argparse.Namespace:
    """``choices`` are what the first argument may name; with one choice there is no argument
    (``pushlab demo`` is the demo, and its help does not offer the four techniques)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a pushlab server: one technique, all four, or the classroom demo.",
    )
    if len(choices) == 1:
        parser.set_defaults(technique=choices[0])
    else:
        parser.add_argument("technique", choices=choices)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=port_number,
        help=f"port (default: {default_ports()}; 0 = any free port)",
    )
    parser.add_argument(
        "--rate",
        type=rate,
        default=0.0,
        help="built-in publisher, messages per second (0 = off)",
    )
    parser.add_argument("--arrivals", choices=ARRIVALS, default="periodic")
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
        "--ws-compress",
        action="store_true",
        help="offer permessage-deflate (off by default: the bench measures raw frames)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="write a cProfile of the server to FILE when it stops (read: python -m pstats FILE)",
    )
    return parser.parse_args(argv)


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
    )


async def serve_one(technique: str, config: ServerConfig) -> None:
    from pushlab.servers.app import make_app
    from pushlab.servers.runner import start, wait_for_stop_signal

    port = TECHNIQUES[technique].port if config.port is None else config.port
    server = await start(make_app(technique, config), config.host, port)
    # One write call per line: under `all` four processes share this pipe, and print() issues
    # the text and its newline as two writes when stdout is unbuffered (PYTHONUNBUFFERED=1).
    sys.stdout.write(f"pushlab {technique} listening on {server.url}\n")
    sys.stdout.flush()
    try:
        await wait_for_stop_signal()
    finally:
        await server.stop()


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_all(argv: list[str], args: argparse.Namespace, prog: str = PROG) -> int:
    """Four servers, four processes (as in production: each technique alone on its CPU time)."""
    passthrough = [a for a in argv if a != "all"]
    if args.port is not None:  # however it was spelt: --port 1, --port=1, --po 1
        ports = ", ".join(str(entry.port) for entry in TECHNIQUES.values())
        print(f"{prog} all: --port is not accepted (the ports are {ports})", file=sys.stderr)
        return 2
    if args.profile is not None:  # four processes would write one file
        print(f"{prog} all: --profile is for one technique at a time", file=sys.stderr)
        return 2
    children = [
        subprocess.Popen([sys.executable, "-m", "pushlab.servers", technique, *passthrough])
        for technique in NAMES
    ]
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        for child in children:
            child.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)
            if child.poll() is None:
                child.kill()
    return max(child.returncode or 0 for child in children)


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
    try:
        with profiled(args.profile):
            if args.technique == "demo":
                from pushlab.servers.demo import serve_demo

                asyncio.run(serve_demo(config))
            else:
                asyncio.run(serve_one(args.technique, config))
    except OSError as error:
        print(
            f"{prog} {args.technique}: cannot listen: {error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
