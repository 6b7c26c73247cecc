"""Child processes that die with the harness: spawn, stop, and keep their output flowing.

Children run in their own sessions (Ctrl-C reaches the harness only, and the harness stops
them) and get ``SIGTERM`` if the harness dies (``PR_SET_PDEATHSIG``); every exit path, Ctrl-C
included, stops them.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import threading
from typing import IO, Any

STOP_TIMEOUT_S = 5.0
"""How long a child gets to stop after each signal before the next, firmer one."""

_LIVE_CHILDREN: set[subprocess.Popen[Any]] = set()


ORPHAN_GUARD = """
import ctypes, os, runpy, signal, sys
try:  # PR_SET_PDEATHSIG: get SIGTERM when the harness dies, even by SIGKILL (Linux only)
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)
except (AttributeError, OSError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit("the harness is already gone")
sys.argv = [sys.argv[2], *sys.argv[3:]]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""
"""Runs ``python -m MODULE ARGS`` in a child that dies with the harness. Done after exec, not
in ``preexec_fn``, which is unsafe in a process with threads (a child can deadlock between
fork and exec, holding the harness's stdout open)."""


def spawn(
    module: str, args: list[str], cpus: frozenset[int], log: IO[bytes], *, stdin: bool = False
) -> subprocess.Popen[bytes]:
    """``python -m module args...`` in its own session, pinned to ``cpus``."""
    command = [sys.executable, "-c", ORPHAN_GUARD, str(os.getpid()), module, *args]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,  # Ctrl-C reaches the harness only; it stops the children
    )
    _LIVE_CHILDREN.add(process)
    with contextlib.suppress(OSError):
        os.sched_setaffinity(process.pid, cpus)
    return process


def stop(process: subprocess.Popen[Any], first_signal: int = signal.SIGINT) -> None:
    """Ask politely, then firmly, then kill; always reap."""
    for signum in (first_signal, signal.SIGTERM):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
    if process.poll() is None:
        process.kill()
        process.wait()
    # Close stdin only. stdout may be mid-read in a pump thread that holds the reader's lock:
    # closing it here could block the main thread where no Ctrl-C reaches it. The thread sees
    # end-of-file now that the child is gone, and the file closes when it is collected.
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    _LIVE_CHILDREN.discard(process)


def stop_all_children() -> None:
    for process in list(_LIVE_CHILDREN):
        stop(process)


def read_line(stream: IO[bytes], timeout_s: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            raise TimeoutError(f"no output within {timeout_s:g} s")
    return stream.readline().decode()


def copy_rest(stream: IO[bytes], log: IO[bytes]) -> None:
    """Keep a child's stdout flowing into its log (a full pipe would block the child)."""

    def pump() -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in stream:
                log.write(line)
                log.flush()

    threading.Thread(target=pump, daemon=True).start()
