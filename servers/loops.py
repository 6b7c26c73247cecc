"""Which asyncio event loop a server runs on: the standard library's, or uvloop.

uvloop (libuv under asyncio's API) is a compiled dependency; uvicorn picks it by default when it
is installed. ``--loop uvloop`` runs pushlab's servers on it, so the bench can measure the same
server on both loops side by side; the default stays the standard library's loop, which needs
nothing compiled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

LOOPS = ("asyncio", "uvloop")
DEFAULT_LOOP = "asyncio"

T = TypeVar("T")


class LoopUnavailableError(RuntimeError):
    """The loop asked for is not installed."""


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What ``asyncio.Runner`` needs to make loop ``name`` (None: the standard library's)."""
    if name == "asyncio":
        return None
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            raise LoopUnavailableError(
                "uvloop is not installed (pip install 'pushlab[peers]', or make install)"
            ) from None
        return uvloop.new_event_loop
    raise ValueError(f"unknown event loop {name!r}; choose one of {', '.join(LOOPS)}")


def run(main: Coroutine[Any, Any, T], factory: Callable[[], asyncio.AbstractEventLoop] | None) -> T:
    """``asyncio.run(main)`` on the loop ``factory`` makes (None: the standard library's)."""
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def loop_name() -> str:
    """The running loop's implementation: ``asyncio`` or ``uvloop``."""
    return type(asyncio.get_running_loop()).__module__.split(".")[0]
