"""Stopping the child processes of a server command (``all``'s four servers, ``--workers``)."""

from __future__ import annotations

import contextlib
import signal
import subprocess


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
