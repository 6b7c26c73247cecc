"""The argument parser every pushlab command uses: a bad value costs one line, not a screenful.

argparse answers a mistake with the whole usage block and then the error, 10 to 20 lines in
which the one that matters comes last. ``CommandParser`` prints only that line, named after
the command that was typed (``pushlab serve: --rate: must be 0–1000 messages per second, got
-1``), and exits with status 2 as argparse does; the usage is for ``--help``. Sub-parsers
made with ``add_subparsers`` are of the same class (argparse builds them from ``type(self)``),
so ``pushlab client handshake`` speaks the same way.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

EXIT_USAGE = 2
"""argparse's own exit status for a usage error; shells and CI read it as "called wrongly"."""


class CommandParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose ``error()`` prints one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        # argparse says "argument --rate: ..."; the option's name alone reads better.
        message = message.removeprefix("argument ")
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")
