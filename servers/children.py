"""Stopping the child processes of a server command (``all``'s four servers, ``--workers``)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Callable


def stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    """Ctrl-C each child (each stops its server cleanly), wait up to 5 s, then kill what is left."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
        if child.poll() is None:
            child.kill()
            child.wait()


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def supervise(
    children: list[subprocess.Popen[bytes]], started: Callable[[], None] | None = None
) -> int:
    """Run ``started`` (it may raise KeyboardInterrupt), then wait for the children until they
    end or Ctrl-C / SIGTERM comes, stop them all, and return the worst exit status."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        if started is not None:
            started()
        for child in children:
            child.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_children(children)
    return max(child.returncode or 0 for child in children)
