"""``python -m pushlab.clients polling|longpoll|websocket|sse|handshake|keepalive [options]``
(``pushlab client`` calls ``main`` with its own ``prog``).

Every failure the user can fix (bad URL, nothing listening, the wrong kind of server) ends
as one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable

from pushlab.clients.conversation import converse
from pushlab.clients.i18n import add_lang_option
from pushlab.clients.reconnect import DEFAULT_RETRIES
from pushlab.clients.target import ClientFailure, default_url
from pushlab.command_line import CommandParser
from pushlab.techniques import (
    LONGPOLL,
    LONGPOLL_HOLD_S,
    LONGPOLL_MAX_HOLD_S,
    NAMES,
    POLL_INTERVAL_S,
    POLLING,
    SSE,
    WEBSOCKET,
)

PROG = "python -m pushlab.clients"
EXIT_FAILURE = 1
MAX_INTERVAL_S = 3600

CONVERSATION_HELP: dict[str, str] = {
    POLLING.name: "ask 'anything new?' every --interval seconds",
    LONGPOLL.name: "ask, and let the server hold the answer until there is news",
    WEBSOCKET.name: "upgrade once, then receive every message as a pushed frame",
    SSE.name: "open one text/event-stream response and read events from it",
}
"""Each technique's command, in one line (``--help`` lists them)."""


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
    summary = CONVERSATION_HELP[technique]
    parser = commands.add_parser(technique, help=summary, description=summary)
    parser.add_argument(
        "--url",
        help=f"the server (default {default_url(technique)})",
    )
    parser.add_argument(
        "--interval",
        type=seconds_up_to(MAX_INTERVAL_S),
        help=f"seconds to wait between requests (polling default {POLL_INTERVAL_S:g}, others 0)",
    )
    parser.add_argument(
        "--hold",
        type=seconds_up_to(LONGPOLL_MAX_HOLD_S),  # a pushlab server refuses a longer timeout=
        default=LONGPOLL_HOLD_S,
        help=f"long polling: how long the server may hold a request (default {LONGPOLL_HOLD_S:g})",
    )
    parser.add_argument("--count", type=positive_int, help="stop after N messages")
    parser.add_argument(
        "--since",
        type=non_negative_int,
        help="start after message id N (default: the newest message, so only new ones arrive)",
    )
    parser.add_argument(
        "--retries",
        type=non_negative_int,
        default=DEFAULT_RETRIES,
        help="reconnect attempts in a row after a broken connection, with capped exponential"
        f" backoff and jitter (default {DEFAULT_RETRIES}; 0: stop at the first break)",
    )
    parser.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="after a reconnect, start from the feed's present instead of the cursor"
        " (shows what the cursor buys: the messages of the break never arrive)",
    )
    add_lang_option(parser)
    parser.set_defaults(handler=run_conversation)


def run_conversation(args: argparse.Namespace) -> int:
    """Talk until --count messages, Ctrl-C or a hang-up; a failure is one line on stderr."""

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
            retries=args.retries,
            resume=args.resume,
        )
        if summary.error:
            fail(args.prog, args.command, summary.error)
            return EXIT_FAILURE
        return 0

    return asyncio.run(talk())


def parse_args(argv: list[str], prog: str = PROG) -> argparse.Namespace:
    parser = CommandParser(
        prog=prog,
        description="Terminal clients that show, line by line, how each technique gets news.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for technique in NAMES:
        add_conversation_parser(commands, technique)
    from pushlab.clients import handshake, keepalive

    handshake.add_parser(commands)
    keepalive.add_parser(commands)
    parser.set_defaults(prog=prog)
    return parser.parse_args(argv)


def fail(prog: str, command: str, message: str) -> None:
    print(f"{prog} {command}: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Run the client ``argv`` names; ``prog`` names the command in help and error lines."""
    args = parse_args(sys.argv[1:] if argv is None else argv, prog)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ClientFailure as failure:
        fail(prog, args.command, str(failure))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
