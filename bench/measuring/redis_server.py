"""A real ``redis-server`` (Debian's package) started by the project: for ``make redis``, for a
bench run that asks for ``--feed redis`` without a URL, and for the tests.

It listens on 127.0.0.1 on a free port, with no persistence (``--save "" --appendonly no``):
the Redis feed must outlive a *pushlab* server restart, which needs only Redis to stay up. Its
working directory is a temporary one of its own, so an explicit ``SAVE`` (the fault sweep's
"restart with its data", ``redis_faults.py``) writes there and never into the current directory.

``python -m pushlab.bench.measuring.redis_server start|stop [--pidfile PATH]`` is what the
Makefile runs: ``start`` prints the feed URL to pass as ``--feed``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pushlab.command_line import CommandParser

REDIS_SERVER = "redis-server"
START_TIMEOUT_S = 10.0
DEFAULT_PIDFILE = Path(".redis.pid")


class RedisMissingError(RuntimeError):
    """``redis-server`` is not installed (``apt-get install redis-server``)."""


def redis_binary() -> str:
    found = shutil.which(REDIS_SERVER) or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        raise RedisMissingError("redis-server is not installed (apt-get install redis-server)")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ping(port: int) -> bool:
    """One inline ``PING`` (RESP's inline command form): is Redis up and answering?"""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_command(
    port: int, *, daemonize: bool, pidfile: Path | None = None, data_dir: Path | None = None
) -> list[str]:
    command = [redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    command += ["--appendonly", "no", "--daemonize", "yes" if daemonize else "no"]
    if data_dir is not None:
        command += ["--dir", str(data_dir.resolve())]
    if pidfile is not None:
        command += ["--pidfile", str(pidfile.resolve())]
    return command


def wait_until_up(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ping(port):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"redis-server exited with status {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not answer on port {port}")
        time.sleep(0.05)  # polling a port that has no event to await


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path  # where a SAVE writes its dump.rdb, and a restart reads it back

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis(port: int | None = None, data_dir: Path | None = None) -> RedisServer:
    """A foreground ``redis-server`` child; call ``stop()`` (or use :func:`running_redis`).

    ``data_dir`` is its working directory (default: a new temporary one)."""
    port = port or free_port()
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="pushlab-redis-"))
    process = subprocess.Popen(
        redis_command(port, daemonize=False, data_dir=data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(port, process)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return RedisServer(process, port, data_dir)


@contextlib.contextmanager
def running_redis(port: int | None = None) -> Iterator[RedisServer]:
    server = start_redis(port)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


def start_daemon(pidfile: Path) -> str:
    """``make redis``: a daemonised server with a pid file; returns its feed URL."""
    if pidfile.exists():
        raise RuntimeError(f"{pidfile} exists: a Redis is running already (make stop-redis)")
    port = free_port()
    subprocess.run(redis_command(port, daemonize=True, pidfile=pidfile), check=True)
    wait_until_up(port)
    return f"redis://127.0.0.1:{port}/0"


def stop_daemon(pidfile: Path) -> None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        raise RuntimeError(f"no Redis pid in {pidfile} (was it started with make redis?)") from None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    pidfile.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = CommandParser(prog="python -m pushlab.bench.measuring.redis_server")
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("--pidfile", type=Path, default=DEFAULT_PIDFILE)
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            print(start_daemon(args.pidfile))
        else:
            stop_daemon(args.pidfile)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"{parser.prog} {args.action}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
