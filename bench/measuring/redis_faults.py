"""Faults of the feed's Redis, made to a real ``redis-server`` the bench started
(:mod:`pushlab.bench.measuring.redis_server`), for the fault sweep to apply while clients run.

- :func:`redis_restart` kills Redis the way a crash does (SIGKILL: no goodbye to its clients)
  and starts it again on the same port. ``keep_data=False``: it comes back empty, as a Redis
  without persistence does — the counter, the stream and the ``feed_id`` are gone.
  ``keep_data=True``: a ``SAVE`` first, and the new process loads that snapshot, as a Redis with
  persistence does; every connection still breaks.
- :func:`redis_stalled` (and :func:`redis_stall`, its timed form) freezes Redis with SIGSTOP and
  thaws it with SIGCONT: connections stay open, nothing is answered — a Redis swapping, or a
  network that stopped carrying packets.

Each acts on the :class:`RedisServer` in place (a restart swaps its ``process``), so whoever
stops that server afterwards stops the new process.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import time
from collections.abc import Iterator

from pushlab.bench.measuring.redis_server import RedisServer, start_redis

COMMAND_TIMEOUT_S = 10.0


def redis_command(server: RedisServer, command: bytes) -> bytes:
    """Send one inline command and return the first line of the answer (``+OK``, ``-ERR …``)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=COMMAND_TIMEOUT_S) as sock:
        sock.sendall(command + b"\r\n")
        answer = b""
        while not answer.endswith(b"\r\n"):
            chunk = sock.recv(256)
            if not chunk:
                break
            answer += chunk
    return answer.strip()


def redis_restart(server: RedisServer, keep_data: bool) -> None:
    """Crash Redis and start it again on the same port; with ``keep_data``, from a snapshot."""
    dump = server.data_dir / "dump.rdb"
    dump.unlink(missing_ok=True)  # an empty restart must not find an older snapshot
    if keep_data:
        answer = redis_command(server, b"SAVE")
        if answer != b"+OK":
            raise RuntimeError(f"redis SAVE failed: {answer.decode(errors='replace')}")
    server.process.kill()
    server.process.wait()
    restarted = start_redis(server.port, server.data_dir)
    server.process = restarted.process


@contextlib.contextmanager
def redis_stalled(server: RedisServer) -> Iterator[None]:
    """Freeze Redis for the body of the ``with`` (SIGSTOP), then let it go on (SIGCONT)."""
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


def redis_stall(server: RedisServer, seconds: float) -> None:
    """Freeze Redis for ``seconds``, then let it go on (blocks the caller meanwhile)."""
    with redis_stalled(server):
        time.sleep(seconds)  # the stall's length is the fault itself
