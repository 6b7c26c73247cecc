"""Where a push server's memory per connection goes: ``tracemalloc`` at 0 and N clients.

``python -m pushlab.bench.measuring.connection_memory websocket --clients 1000`` runs the server
in this process with ``tracemalloc`` on, takes a snapshot, has a child process open N idle
clients (raw sockets: a WebSocket handshake, or an SSE GET), takes another snapshot, and prints
the allocation sites that grew, largest first, with the bytes per client. RSS per client is
the bench's figure (``rss_per_client_kib``); this is the *why* behind it: which objects a
connection keeps alive (aiohttp's protocol and parser, the response, our subscriber, …).
Python's own accounting only: the kernel's socket buffers are not in it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tracemalloc
from collections import Counter

import pushlab
import pushlab.servers
from pushlab import techniques
from pushlab.command_line import CommandParser
from pushlab.rfc6455 import build_upgrade_request
from pushlab.servers.app import make_app
from pushlab.servers.config import ServerConfig
from pushlab.servers.keys import METER
from pushlab.servers.runner import start

TECHNIQUES = (techniques.WEBSOCKET.name, techniques.SSE.name)


def request_for(technique: str, port: int) -> bytes:
    """What one idle client sends: the codec's opening handshake (RFC 6455 §4.1, a fresh key
    each time), or a plain GET of the event stream."""
    entry, host = techniques.technique(technique), f"127.0.0.1:{port}"
    path = entry.path
    if entry.full_duplex:  # the one that upgrades
        return build_upgrade_request(host, path)
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def hold_clients(technique: str, port: int, clients: int) -> None:
    """The child: open ``clients`` connections, say "ready", hold them until stdin closes."""
    sockets = []
    for _ in range(clients):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(request_for(technique, port))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        sockets.append(sock)
    print("ready", flush=True)
    sys.stdin.read()


async def probe(technique: str, clients: int, top: int) -> None:
    server = await start(make_app(technique, ServerConfig()), "127.0.0.1", 0)
    tracemalloc.start(5)
    try:
        before = tracemalloc.take_snapshot()
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                __spec__.name,
                technique,
                "--hold",
                str(server.port),
                "--clients",
                str(clients),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdin is not None
        line = await asyncio.to_thread(child.stdout.readline)
        if line.strip() != "ready":
            raise SystemExit(f"the clients did not connect (said {line!r})")
        while server.app[METER].clients_connected < clients:
            await asyncio.sleep(0.05)  # the last handlers may still be starting
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()  # left on, it would slow all this process does next, tenfold
    report(before, after, clients, top)
    child.stdin.close()
    child.wait()
    await server.stop()


def report(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, clients: int, top: int
) -> None:
    own = tracemalloc.Filter(False, tracemalloc.__file__)
    growth = after.filter_traces([own]).compare_to(before.filter_traces([own]), "lineno")
    total = sum(stat.size_diff for stat in growth)
    print(f"{clients} clients: +{total / 1024:,.0f} KiB traced, {total / clients:,.0f} B/client")
    if total <= 0:
        return  # nothing grew: no shares to give
    by_owner: Counter[str] = Counter()
    for stat in growth:
        by_owner[owner_of(stat.traceback[0].filename)] += stat.size_diff
    shares = (
        f"{owner} {size / clients:,.0f} B ({size / total:.0%})"
        for owner, size in by_owner.most_common()
    )
    print("  by owner: " + ", ".join(shares))
    for stat in growth[:top]:
        frame = stat.traceback[0]
        where = f"{os.path.relpath(frame.filename, sys.prefix)}:{frame.lineno}"
        print(f"{stat.size_diff / clients:8,.0f} B/client  {stat.count_diff:+7,d}  {where}")


PUSHLAB_FOLDERS = tuple(
    os.path.dirname(module.__file__ or "") for module in (pushlab, pushlab.servers)
)
"""Where pushlab's code lives: the package, and its servers (a folder of their own in a
checkout, ``pushlab/servers`` once installed)."""


def owner_of(filename: str) -> str:
    """Whose code made an allocation: aiohttp's, asyncio's, pushlab's, or another's."""
    path = os.path.normpath(os.path.abspath(filename))
    if any(path.startswith(folder + os.sep) for folder in PUSHLAB_FOLDERS):
        return "pushlab"
    parts = path.split(os.sep)
    for owner in ("aiohttp", "asyncio"):
        if owner in parts:
            return owner
    return "other"


def main(argv: list[str] | None = None) -> int:
    parser = CommandParser(prog=f"python -m {__spec__.name}", description=__doc__)
    parser.add_argument("technique", choices=TECHNIQUES)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--top", type=int, default=15, help="allocation sites to print")
    parser.add_argument("--hold", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.hold is not None:
        hold_clients(args.technique, args.hold, args.clients)
    else:
        asyncio.run(probe(args.technique, args.clients, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
