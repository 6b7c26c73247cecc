"""The ``pushlab`` command (placeholder until the sub-commands land)."""

import sys


def main(argv: list[str] | None = None) -> int:
    print("pushlab: sub-commands are being wired up", file=sys.stderr)
    return 2
