"""What the classroom demo's network emulators cost under two loads: clients that never read,
and connections left idle. A probe for the reliability notes, not a sweep.

``python -m pushlab.bench.measuring.emulator_probe readers`` starts ``pushlab demo`` on free
ports, sets its publisher to ``--rate`` messages/s of ``--text-bytes``, opens ``--clients``
SSE streams on the demo's public SSE port that never read, and prints the demo's RSS each
``--every-s`` seconds. ``… idle`` opens ``--clients`` connections to the public polling port that
send nothing and are never closed, waits past the header timeout, and prints the demo's open
descriptors. ``… burst`` opens ``--clients`` connections at once through a standalone emulator
to an echo server and counts those answered, and those that waited a second or more (a SYN
dropped by a full backlog is sent again after one second). Loopback only.
"""

from __future__ import annotations

import argparse
import json
import re
import select
import socket
import subprocess
import sys
import time
import urllib.request

import psutil

from pushlab.techniques import POLLING, SSE

LISTENING = re.compile(rb"listening on (http://\S+)")
PUBLIC = re.compile(rb"^\s+(\w+)\s+http://\S+:(\d+)")


def start_demo(header_timeout_s: float) -> tuple[subprocess.Popen[bytes], str, dict[str, int]]:
    command = [sys.executable, "-m", "pushlab.servers", "demo", "--port", "0"]
    command += ["--header-timeout", str(header_timeout_s), "--publish-limit", "0"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    page, ports = "", {}
    while len(ports) < 4:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the demo did not start")
        if match := LISTENING.search(line):
            page = match.group(1).decode()
        elif match := PUBLIC.match(line):
            ports[match.group(1).decode()] = int(match.group(2))
    return process, page, ports


def set_publisher(page: str, rate: float, text_bytes: int) -> None:
    body = json.dumps({"publish_rate": rate, "text_bytes": text_bytes}).encode()
    request = urllib.request.Request(
        page + "/api/publisher", body, {"Content-Type": "application/json"}, method="POST"
    )
    urllib.request.urlopen(request, timeout=10).close()


def non_reader(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /events?since=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock


def burst(clients: int, emulator_command: list[str]) -> None:
    """``clients`` non-blocking connects at once to an emulator process in front of a
    listening socket that accepts nothing itself (the kernel completes its handshakes); each
    connect's time is when its socket became writable. One thread, no event loop: the probe's
    own scheduling does not delay what it times."""
    target = socket.create_server(("127.0.0.1", 0), backlog=4096)
    process = subprocess.Popen(
        [*emulator_command, "--target", f"127.0.0.1:{target.getsockname()[1]}"],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        match = re.search(rb":(\d+)\s*$", process.stdout.readline())
        assert match, "the emulator did not start"
        port = int(match.group(1))
        poller, pending, took = select.epoll(), {}, []
        started = time.monotonic()
        for _ in range(clients):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            poller.register(sock.fileno(), select.EPOLLOUT)
            pending[sock.fileno()] = sock
        while pending and time.monotonic() - started < 10:
            for fileno, _ in poller.poll(0.1):
                poller.unregister(fileno)
                sock = pending.pop(fileno)
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    took.append(time.monotonic() - started)
                sock.close()
        print(
            f"{clients} connections at once: {len(took)} connected within 10 s,"
            f" {sum(t >= 1.0 for t in took)} of them after 1 s or more"
        )
    finally:
        process.kill()
        process.wait()
        target.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pushlab.bench.measuring.emulator_probe")
    parser.add_argument("load", choices=("readers", "idle", "burst"))
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--text-bytes", type=int, default=4096)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--every-s", type=float, default=2)
    parser.add_argument("--header-timeout", type=float, default=2)
    parser.add_argument(
        "--emulator", nargs="+", help="burst: the emulator to run (default: -m pushlab.netem)"
    )
    args = parser.parse_args(argv)
    if args.load == "burst":
        from pushlab.limits import raise_open_files_limit

        raise_open_files_limit()
        burst(args.clients, [sys.executable, *(args.emulator or ["-m", "pushlab.netem"])])
        return 0
    process, page, ports = start_demo(args.header_timeout)
    demo = psutil.Process(process.pid)
    held: list[socket.socket] = []
    try:
        print(f"start: rss {demo.memory_info().rss / 2**20:.0f} MB, fds {demo.num_fds()}")
        if args.load == "readers":
            held = [non_reader(ports[SSE.name]) for _ in range(args.clients)]
            set_publisher(page, args.rate, args.text_bytes)
        else:
            held = [
                socket.create_connection(("127.0.0.1", ports[POLLING.name]))
                for _ in range(args.clients)
            ]
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < args.seconds:
            time.sleep(args.every_s)  # sampling period
            print(
                f"{elapsed + args.every_s:5.1f} s: rss {demo.memory_info().rss / 2**20:.0f} MB,"
                f" fds {demo.num_fds()}",
                flush=True,
            )
    finally:
        for sock in held:
            sock.close()
        process.terminate()
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
