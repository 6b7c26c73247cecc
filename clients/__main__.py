"""``python -m clients polling|longpoll|websocket|sse|handshake|keepalive [options]``.

Every failure the user can fix (bad URL, nothing listening, the wrong kind of server) ends
as one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable

from pushlab.clients.conversation import DEFAULT_HOLD_S, TECHNIQUES, converse
from pushlab.clients.i18n import LANGUAGES
from pushlab.clients.target import DEFAULT_PORTS, ClientFailure

EXIT_FAILURE = 1
EXIT_USAGE = 2
MAX_INTERVAL_S = 3600
MAX_HOLD_S = 60  # a pushlab long-polling server refuses a longer timeout= (RFC 6202 §5.5)


def seconds_up_to(most: float) -> Callable[[str], float]:
    """A number of seconds from 0 to ``most`` (nan and inf are refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 <= value <= most:
            raise argparse.ArgumentTypeError(f"must be from 0 to {most:g} seconds: {text!r}")
        return value

    return parse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def add_conversation_parser(commands: argparse._SubParsersAction, technique: str) -> None:
    helps = {
        "polling": "ask 'anything new?' every --interval seconds",
        "longpoll": "ask, and let the server hold the answer until there is news",
        "websocket": "upgrade once, then receive every message as a pushed frame",
        "sse": "open one text/event-stream response and read events from it",
    }
    parser = commands.add_parser(technique, help=helps[technique], description=helps[technique])
    parser.add_argument(
        "--url",
        help=f"the server (default http://127.0.0.1:{DEFAULT_PORTS[technique]})",
    )
    parser.add_argument(
        "--interval",
        type=seconds_up_to(MAX_INTERVAL_S),
        help="seconds to wait between requests (polling default 1, long polling 0)",
    )
    parser.add_argument(
        "--hold",
        type=seconds_up_to(MAX_HOLD_S),
        default=DEFAULT_HOLD_S,
        help=f"long polling: how long the server may hold a request (default {DEFAULT_HOLD_S:g} s)",
    )
    parser.add_argument("--count", type=positive_int, help="stop after N messages")
    parser.add_argument(
        "--since",
        type=non_negative_int,
        help="start after message id N (default: the newest message, so only new ones arrive)",
    )
    parser.add_argument("--lang", choices=LANGUAGES, default="en")
    parser.set_defaults(handler=run_conversation)


def run_conversation(args: argparse.Namespace) -> int:
    async def talk() -> int:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
        summary = await converse(
            args.command,
            args.url,
            count=args.count,
            interval_s=args.interval,
            hold_s=args.hold,
            since=args.since,
            lang=args.lang,
            stop=stop,
        )
        if summary.error:
            fail(args.command, summary.error)
            return EXIT_FAILURE
        return 0

    return asyncio.run(talk())


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m clients",
        description="Terminal clients that show, line by line, how each technique gets news.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for technique in TECHNIQUES:
        add_conversation_parser(commands, technique)
    from pushlab.clients import handshake, keepalive

    handshake.add_parser(commands)
    keepalive.add_parser(commands)
    return parser.parse_args(argv)


def fail(command: str, message: str) -> None:
    print(f"python -m clients {command}: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ClientFailure as failure:
        fail(args.command, str(failure))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
