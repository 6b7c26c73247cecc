"""The floor under a push server's cost: one bare loopback ``send()`` from Python.

Issue 15 asks that pushlab's WebSocket server spend at most twice what a bare ``send()`` of
the same bytes costs on the same machine. This step measures that floor: a process on the
server's CPU writes one message's WebSocket frame (a built-in publisher message, its 2-byte
header included) to each of ``--sockets`` loopback TCP connections in turn, ``--messages``
times, while a forked reader on the generator's CPU drains them; the CPU time of the writer
(``time.process_time``, the reader not included) divided by the sends is the figure. The run
keeps it in ``environment.json`` under ``loopback_send_floor``.

    python -m pushlab.bench.measuring.floor --sockets 1000 --messages 100
"""

from __future__ import annotations

import json
import multiprocessing
import os
import selectors
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pushlab import rfc6455
from pushlab.bench.measuring.processes import read_line, spawn, stop
from pushlab.command_line import CommandParser
from pushlab.limits import raise_open_files_limit
from pushlab.servers.feed import encode_message

if TYPE_CHECKING:
    from pushlab.bench.measuring.harness import Affinity

KEY = "loopback_send_floor"
TIMEOUT_S = 120.0


def frame_bytes() -> bytes:
    """What a WebSocket server writes for one built-in publisher message: the frame the
    servers' broadcast builds (a 2-byte header for a payload under 126, RFC 6455 §5.2, then the
    message's JSON)."""
    payload = encode_message(1000, time.time(), "message 1000 from the built-in publisher")
    return rfc6455.frame_bytes(payload.json_bytes)


def drain(port: int, sockets: int, cpus: list[int]) -> None:
    """The reader: connect ``sockets`` times and read everything until every peer closes."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    selector = selectors.DefaultSelector()
    for _ in range(sockets):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ)
    open_count = sockets
    while open_count:
        for key, _mask in selector.select(TIMEOUT_S):
            connection = key.fileobj
            assert isinstance(connection, socket.socket)
            if not connection.recv(65536):
                selector.unregister(connection)
                connection.close()
                open_count -= 1


def send_floor(sockets: int, messages: int, reader_cpus: list[int]) -> dict[str, Any]:
    """Measure; the figures as ``environment.json`` keeps them."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=sockets)
    port = listener.getsockname()[1]
    reader = multiprocessing.get_context("fork").Process(
        target=drain, args=(port, sockets, reader_cpus)
    )
    reader.start()
    accepted = [listener.accept()[0] for _ in range(sockets)]
    for connection in accepted:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    frame = frame_bytes()
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    for _ in range(messages):
        for connection in accepted:
            connection.send(frame)
    cpu_s, wall_s = time.process_time() - cpu_before, time.perf_counter() - wall_before
    for connection in accepted:
        connection.close()
    reader.join(TIMEOUT_S)
    sends = sockets * messages
    return {
        "send_cpu_us": round(cpu_s / sends * 1e6, 3),
        "send_wall_us": round(wall_s / sends * 1e6, 3),
        "sends": sends,
        "sockets": sockets,
        "frame_bytes": len(frame),
    }


def measure(
    affinity: Affinity, run_dir: Path, sockets: int = 1000, messages: int = 100
) -> dict[str, Any]:
    """Run this module as a child on the server's CPU (the reader on the generator's)."""
    args = ["--sockets", str(sockets), "--messages", str(messages)]
    args += ["--reader-cpus", ",".join(map(str, sorted(affinity.generator)))]
    print("Measuring a bare loopback send() …", flush=True)
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    with (run_dir / "logs" / "floor.log").open("wb") as log:
        process = spawn("pushlab.bench.measuring.floor", args, affinity.server, log)
        try:
            assert process.stdout is not None
            return json.loads(read_line(process.stdout, TIMEOUT_S))
        except (OSError, ValueError, TimeoutError, RuntimeError) as error:
            return {"error": f"{type(error).__name__}: {error}"}
        finally:
            stop(process)


def main(argv: list[str] | None = None) -> int:
    parser = CommandParser(prog="python -m pushlab.bench.measuring.floor")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--reader-cpus", default="", help="e.g. 1 (default: any)")
    args = parser.parse_args(argv)
    if args.sockets < 1 or args.messages < 1:
        parser.error("--sockets and --messages must be at least 1")
    raise_open_files_limit()
    cpus = [int(cpu) for cpu in args.reader_cpus.split(",") if cpu]
    print(json.dumps(send_floor(args.sockets, args.messages, cpus)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
