"""The ``pushlab`` command: one entry point, a sub-command per part of the lab (as git and pip do).

``pushlab COMMAND [ARGS...]`` hands ``ARGS`` to that part's own command-line interface, the
same one ``python -m pushlab.servers`` (or ``.clients``, ``.bench``) runs, with ``prog`` set to
``pushlab COMMAND`` so its usage lines and error messages name the command that was typed.
``pushlab COMMAND --help`` is therefore that part's full list of options.

Each part is imported only when its command runs. Above all the bench stays out of
``pushlab serve`` and ``pushlab client``; and Locust, which monkey-patches the interpreter for
gevent on import, is never imported here at all: the bench runs it in a process of its own.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pushlab import __version__
from pushlab.command_line import EXIT_USAGE, CommandParser
from pushlab.techniques import NAMES

CLIENT_COMMANDS = (*NAMES, "handshake", "keepalive")


def serve(argv: list[str]) -> int:
    from pushlab.servers.__main__ import main

    return main(argv, prog="pushlab serve", choices=(*NAMES, "all"))


def demo(argv: list[str]) -> int:
    from pushlab.servers.__main__ import main

    return main(argv, prog="pushlab demo", choices=("demo",))


def client(argv: list[str]) -> int:
    from pushlab.clients.__main__ import main

    return main(argv, prog="pushlab client")


def bench(argv: list[str]) -> int:
    from pushlab.bench.cli import main

    return main(argv, prog="pushlab bench")


def notebooks(argv: list[str]) -> int:
    from pushlab.bench.notebooks import main

    return main(argv, prog="pushlab notebooks")


@dataclass(frozen=True)
class Command:
    """A sub-command: what ``pushlab --help`` says about it, and what runs it."""

    name: str
    summary: str
    run: Callable[[list[str]], int]


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        Command("serve", f"run one technique's server, or all four: {'|'.join(NAMES)}|all", serve),
        Command("demo", "the classroom page and the four servers on one feed", demo),
        Command("client", f"a narrating terminal client: {', '.join(CLIENT_COMMANDS)}", client),
        Command("bench", "measure the four techniques on this machine (into ./results)", bench),
        Command("notebooks", "run the checkout's notebooks and render them as HTML", notebooks),
    )
}


def parser() -> argparse.ArgumentParser:
    """The top-level parser; it only formats ``pushlab --help``, the commands parse their own."""
    width = max(len(name) for name in COMMANDS) + 2
    listing = "\n".join(f"  {c.name:{width}}{c.summary}" for c in COMMANDS.values())
    top = CommandParser(
        prog="pushlab",
        usage="pushlab [-h] [--version] COMMAND [ARGS ...]",
        description="Run, watch and measure how a web server gets new data to a browser:\n"
        f"polling, long polling, WebSocket and Server-Sent Events.\n\ncommands:\n{listing}",
        epilog="'pushlab COMMAND --help' lists a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"pushlab {__version__}")
    return top


def unknown(word: str) -> str:
    """The one-line complaint about a word that is not a command, with a guess if one is close."""
    what = "option" if word.startswith("-") else "command"
    close = difflib.get_close_matches(word, COMMANDS, n=1)
    guess = f"; did you mean '{close[0]}'?" if close else ""
    return f"pushlab: unknown {what} '{word}'{guess} (see 'pushlab --help')"


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a command; help, version and usage errors exit as argparse's do (0 or 2)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser().print_help()
        return 0
    if argv[0] in ("-h", "--help", "--version"):
        parser().parse_args(argv[:1])  # prints the help or the version and exits 0
    command = COMMANDS.get(argv[0])
    if command is None:
        print(unknown(argv[0]), file=sys.stderr)
        return EXIT_USAGE
    return command.run(argv[1:])
