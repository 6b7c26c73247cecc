"""Argument types of the bench's command lines (``pushlab bench`` and the generator).

Each refuses, in one line that names the value, what a run cannot use: a number out of range,
nan or inf, an unknown name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from pushlab.servers.config import ServerConfig

MAX_POLL_INTERVAL_S = 600.0
"""The longest poll interval a run takes (``pushlab bench --intervals``, the generator)."""


MAX_PUBLISH_RATE = ServerConfig.max_publish_rate
"""The servers refuse a faster publisher."""
MIN_PUBLISH_RATE = 0.01
"""One message in 100 s: a window then lasts 300 s (three messages)."""
MAX_CLIENTS = 20_000
"""Four times ``--full``'s largest; each client is a socket on both sides."""
DRAIN_LIMIT_S = 120.0
"""The longest the generator drains: while clients still make progress it waits for every one
to read the window's last message, up to this (late is not lost; past it, a miss is a miss)."""
MAX_RTT_MS = 10_000
"""Ten seconds of round trip: a satellite link is 600 ms."""


def one_number(kind: type, least: float, most: float) -> Callable[[str], Any]:
    """One number in range (``number_list``'s checks), or a one-line usage error."""
    numbers = number_list(kind, least, most)

    def parse(text: str) -> Any:
        values = numbers(text)
        if len(values) != 1:
            raise argparse.ArgumentTypeError(f"expected one number: {text!r}")
        return values[0]

    return parse


def number_list(kind: type, least: float, most: float) -> Callable[[str], tuple[Any, ...]]:
    """Comma-separated numbers, each from ``least`` to ``most`` (nan and inf are refused)."""

    def parse(text: str) -> tuple[Any, ...]:
        try:
            values = tuple(kind(part) for part in text.split(",") if part.strip())
        except ValueError:
            message = f"expected numbers separated by commas: {text!r}"
            raise argparse.ArgumentTypeError(message) from None
        if not values or not all(least <= value <= most for value in values):
            raise argparse.ArgumentTypeError(
                f"expected numbers from {least:g} to {most:g}: {text!r}"
            )
        return values

    return parse


def seconds(least: float, most: float, *, zero_allowed: bool) -> Callable[[str], float]:
    """A finite number of seconds in range; ``--duration 0`` is refused, not silently ignored."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        low_ok = value >= least if zero_allowed else value > least
        if not (low_ok and value <= most):  # also false for nan
            bound = "at least" if zero_allowed else "above"
            message = f"expected seconds {bound} {least:g} and at most {most:g}: {text!r}"
            raise argparse.ArgumentTypeError(message)
        return value

    return parse


def name_list(allowed: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}: {text!r}")
        return names

    return parse


def seed_number(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= seed < 2**64:
        raise argparse.ArgumentTypeError(f"a seed is 0 to 2^64 − 1: {text!r}")
    return seed
