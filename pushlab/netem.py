"""A network in user space: a TCP proxy that adds round-trip time, jitter, a bandwidth cap, faults.

Loopback has a round trip of about 0.1 ms, no jitter and no drops: exactly where the four
techniques look most alike. ``tc netem`` needs a kernel module these machines lack, so the delay
is made here instead. A client connects to the emulator; for each connection it opens one to
the real server and copies bytes both ways, each direction through a :class:`Link` that holds
every chunk until its delivery time:

- **delay**: half the round-trip time, one way (``rtt_ms / 2``);
- **jitter**: a random extra delay per chunk, drawn from 0 to ``jitter_ms``. A chunk is never
  delivered before the one sent ahead of it (delivery times stay monotone per direction), so
  jitter stretches the gaps between chunks and never reorders the bytes of a stream — as TCP
  itself would present them;
- **bandwidth**: a chunk also waits for the ones ahead of it to be "serialised" at
  ``bandwidth_bps`` bits per second.

Faults, on command: :meth:`NetworkEmulator.drop` resets every connection through it at once
(RST, as when a phone changes networks), :meth:`NetworkEmulator.stall` holds all traffic with the
connections left open (a dead Wi-Fi link) until :meth:`NetworkEmulator.release`. A *server
restart* is not the emulator's to make: the harness kills the server and starts it again.

Limits, the same a server keeps (a classroom reaches the servers only through it):

- **backpressure**: a direction holds at most ``MAX_QUEUED_BYTES``; past that the emulator
  stops reading from the sender until the receiver takes some, so a client that does not read
  fills the *server's* socket and meets the server's own slow-consumer bound, instead of
  growing the emulator's memory. (A bandwidth-delay product above the bound is slowed, as a
  TCP window would slow it.)
- **closing**: when either side closes, what is queued is delivered, the other side gets a
  FIN, and the whole connection closes at the latest ``HALF_CLOSE_LINGER_S`` later; no bytes
  either way for ``idle_timeout_s`` closes it too (not while stalled);
- **a ceiling**: given a ``budget`` (the demo's ``ConnectionBudget``), each connection counts
  the emulator's two descriptors (three when the server is in the same process: the demo) and
  its client address; one beyond the ceiling or beyond its
  address's share is answered ``refusal`` (the servers' 503) and closed;
- a listen backlog of ``LISTEN_BACKLOG``, as the servers have, and one accept at a time, so a
  burst never takes more descriptors than the ceiling allows (the rest wait in the backlog);
- with ``proxy_protocol``, the first bytes to the server are a PROXY protocol v1 line naming
  the client (:mod:`pushlab.proxy_protocol`), so the server's per-address limits and logs see
  the student, not the emulator.

What cannot be emulated above TCP: **packet loss**. The proxy sees a byte stream that the kernel
has already made reliable; a lost segment shows up only as the delay of its retransmission,
which this module does not pretend to model.

Run on its own (what the bench's harness does, so that the emulator's CPU is neither the
server's nor the load generator's)::

    python -m pushlab.netem --target 127.0.0.1:8003 --rtt-ms 100 --jitter-ms 10

It prints ``pushlab netem listening on http://127.0.0.1:PORT``, then obeys one command a line
on stdin — ``drop``, ``stall``, ``release``, ``counters`` — and answers each with a JSON line
(``{"event": "drop", "at": <epoch s>, ...counters}``): the harness times a fault by the
emulator's own clock reading, taken when the fault was applied.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import struct
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Protocol

from pushlab.command_line import CommandParser
from pushlab.limits import LISTEN_BACKLOG
from pushlab.proxy_protocol import header_v1
from pushlab.techniques import LONGPOLL_MAX_HOLD_S

CHUNK_BYTES = 64 * 1024
MAX_QUEUED_BYTES = 1024 * 1024  # per direction of a connection: past it, stop reading
IDLE_TIMEOUT_S = (
    LONGPOLL_MAX_HOLD_S + 30.0
)  # above the servers' keep-alive (75 s) and the longest hold
HALF_CLOSE_LINGER_S = 2.0  # after one side closed, the other's last bytes may take this long
CONNECT_TIMEOUT_S = 10.0
REFUSED_LINGER_S = 1.0  # a refused client reads its answer; then the socket closes
DESCRIPTORS_PER_CONNECTION = 2  # the client's socket and the one to the server
REFUSALS_AT_ONCE = 8  # refused connections held at once (a share of the servers' reserve)
ACCEPT_PAUSE_S = 0.05  # before accepting again, when refusing or out of descriptors


class Ceiling(Protocol):
    """What the emulator needs of a connection budget (``servers.connections``)."""

    def admit(self, address: str, descriptors: int = 1) -> bool: ...

    def release(self, address: str, descriptors: int = 1) -> None: ...


@dataclass
class LinkSettings:
    """How the emulated network behaves; change it live, it applies to the next chunk."""

    rtt_ms: float = 0.0
    jitter_ms: float = 0.0
    bandwidth_bps: float | None = None  # None: no cap

    def __post_init__(self) -> None:
        if not (self.rtt_ms >= 0 and self.jitter_ms >= 0):  # also refuses NaN
            raise ValueError("rtt_ms and jitter_ms must be at least 0")
        if self.bandwidth_bps is not None and not self.bandwidth_bps > 0:
            raise ValueError("bandwidth_bps must be above 0 (or None for no cap)")


@dataclass
class Counters:
    """What went through the emulator, so that its effect can be checked."""

    connections_opened: int = 0
    connections_open: int = 0
    connections_reset: int = 0
    connections_refused: int = 0  # beyond the ceiling (or an address's share)
    connections_idle_closed: int = 0
    reads_paused: int = 0  # times a side was not read because the other side's link was full
    accept_failures: int = 0  # accept() failed (no descriptor left): the client waits
    bytes_up: int = 0  # client → server
    bytes_down: int = 0  # server → client


@dataclass
class Link:
    """One direction of one connection: chunks wait here until their delivery time."""

    settings: LinkSettings
    rng: random.Random
    up: asyncio.Event  # cleared while the network is stalled
    queue: asyncio.Queue[tuple[float, bytes]] = field(default_factory=asyncio.Queue)
    last_due: float = 0.0
    queued_bytes: int = 0
    room: asyncio.Event = field(default_factory=asyncio.Event)  # set while under the bound
    last_activity: float = field(default_factory=time.monotonic)

    def send(self, chunk: bytes) -> None:
        """Schedule a chunk: one-way delay + jitter, never before the chunk ahead of it."""
        now = time.monotonic()
        self.last_activity = now
        self.queued_bytes += len(chunk)
        if self.queued_bytes > MAX_QUEUED_BYTES:
            self.room.clear()
        delay_s = self.settings.rtt_ms / 2000 + self.rng.uniform(0, self.settings.jitter_ms) / 1000
        due = max(now + delay_s, self.last_due)
        if self.settings.bandwidth_bps:
            due = max(due, self.last_due) + len(chunk) * 8 / self.settings.bandwidth_bps
        self.last_due = due
        self.queue.put_nowait((due, chunk))

    async def deliver(self, writer: asyncio.StreamWriter) -> None:
        """Write each chunk at its time; ``b""`` (end of stream) half-closes the far side."""
        while True:
            due, chunk = await self.queue.get()
            await asyncio.sleep(max(due - time.monotonic(), 0))
            await self.up.wait()
            if not chunk:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()
            self.queued_bytes -= len(chunk)
            self.last_activity = time.monotonic()
            if self.queued_bytes <= MAX_QUEUED_BYTES:
                self.room.set()


class NetworkEmulator:
    """Listen on ``listen_host:listen_port``; forward every connection to ``target``."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        settings: LinkSettings | None = None,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        seed: int | None = None,
        budget: Ceiling | None = None,
        refusal: bytes = b"",
        proxy_protocol: bool = False,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        descriptors_per_connection: int = DESCRIPTORS_PER_CONNECTION,
    ) -> None:
        self.target = (target_host, target_port)
        self.budget, self.refusal = budget, refusal
        self.proxy_protocol = proxy_protocol
        self.idle_timeout_s = idle_timeout_s
        self.descriptors_per_connection = descriptors_per_connection  # + a server's, in-process
        self.listen = (listen_host, listen_port)
        self.settings = settings or LinkSettings()
        self.counters = Counters()
        self.rng = random.Random(seed)
        self.up = asyncio.Event()
        self.up.set()
        self.listener: socket.socket | None = None
        self.accepting: asyncio.Task[None] | None = None
        self.refusing = 0  # refused connections still open (each holds a descriptor)
        self.writers: set[asyncio.StreamWriter] = set()
        self.connections: set[asyncio.Task[None]] = set()  # one task per client connection

    @property
    def port(self) -> int:
        assert self.listener is not None, "start() first"
        return self.listener.getsockname()[1]

    async def start(self) -> NetworkEmulator:
        host, port = self.listen
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
        self.listener.setblocking(False)
        self.accepting = asyncio.create_task(self._accept(self.listener), name="netem accept")
        return self

    async def stop(self) -> None:
        """Stop listening, reset every connection, and wait for their tasks to end (a task
        still running when its event loop closes is reported as an error)."""
        if self.accepting is not None:
            self.accepting.cancel()
            await asyncio.gather(self.accepting, return_exceptions=True)
        if self.listener is not None:
            self.listener.close()
        self.drop()
        if self.connections:
            await asyncio.wait(self.connections, timeout=REFUSED_LINGER_S + HALF_CLOSE_LINGER_S)

    async def _accept(self, listener: socket.socket) -> None:
        """Accept one connection at a time, each counted against the ceiling the moment it is
        accepted. Past the ceiling a few are refused at once (the 503, ``REFUSALS_AT_ONCE``
        at most); beyond that, new clients wait in the backlog rather than take descriptors the
        admitted ones need. A failed accept (no descriptor left) waits and tries again."""
        loop = asyncio.get_running_loop()
        while True:
            if self.budget is not None and self.refusing >= REFUSALS_AT_ONCE:
                await asyncio.sleep(ACCEPT_PAUSE_S)  # a pause, not a synchronisation
                continue
            try:
                client, peer = await loop.sock_accept(listener)
            except OSError:  # EMFILE and the like: the connection stays in the backlog
                self.counters.accept_failures += 1
                await asyncio.sleep(ACCEPT_PAUSE_S)
                continue
            address = str(peer[0])
            admitted = self.budget is None or self.budget.admit(
                address, self.descriptors_per_connection
            )
            if not admitted:
                self.refusing += 1
            task = asyncio.create_task(self._connection(client, peer, address, admitted))
            self.connections.add(task)
            task.add_done_callback(self.connections.discard)

    def drop(self) -> None:
        """Reset every connection through the emulator at once (each side gets an RST)."""
        self.up.set()
        for writer in list(self.writers):
            sock = writer.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends RST instead of FIN
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            self.counters.connections_reset += 1
        self.writers.clear()

    def stall(self) -> None:
        """Hold all traffic, both ways, with every connection left open."""
        self.up.clear()

    def release(self) -> None:
        """End a stall: what was held is delivered, in order, at once."""
        self.up.set()

    async def _connection(
        self, client: socket.socket, peer: tuple[str, int], address: str, admitted: bool
    ) -> None:
        client_r, client_w = await asyncio.open_connection(sock=client)
        if not admitted:
            try:
                await self._refuse(client_r, client_w)
            finally:
                self.refusing -= 1
            return
        try:
            await self._forward(client_r, client_w, peer)
        finally:
            if self.budget is not None:
                self.budget.release(address, self.descriptors_per_connection)

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The servers' answer beyond the ceiling: the refusal, a FIN, then read (and drop) the
        client's request until it leaves, so the close does not reset the answer away."""
        self.counters.connections_refused += 1
        with contextlib.suppress(OSError, TimeoutError):
            writer.write(self.refusal)
            writer.write_eof()
            async with asyncio.timeout(REFUSED_LINGER_S):
                while await reader.read(CHUNK_BYTES):
                    pass
        writer.close()

    async def _forward(
        self,
        client_r: asyncio.StreamReader,
        client_w: asyncio.StreamWriter,
        peer: tuple[str, int],
    ) -> None:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                server_r, server_w = await asyncio.open_connection(*self.target)
        except (OSError, TimeoutError):
            client_w.transport.abort()
            return
        if self.proxy_protocol:
            server_w.write(header_v1(peer, client_w.get_extra_info("sockname")))
        self.counters.connections_opened += 1
        self.counters.connections_open += 1
        self.writers |= {client_w, server_w}
        up = Link(self.settings, self.rng, self.up)
        down = Link(self.settings, self.rng, self.up)
        deliveries = [
            asyncio.create_task(up.deliver(server_w)),
            asyncio.create_task(down.deliver(client_w)),
        ]
        tasks = [
            asyncio.create_task(self._pump(client_r, up, "bytes_up")),
            asyncio.create_task(self._pump(server_r, down, "bytes_down")),
            *deliveries,
        ]
        try:
            await self._until_closed(tasks, deliveries, (up, down))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for writer in (client_w, server_w):
                self.writers.discard(writer)
                writer.close()
            self.counters.connections_open -= 1

    async def _until_closed(
        self,
        tasks: list[asyncio.Task[None]],
        deliveries: list[asyncio.Task[None]],
        links: tuple[Link, Link],
    ) -> None:
        """Return when the connection should close: a reset on either side; one side closed
        (and the other had ``HALF_CLOSE_LINGER_S`` to finish); or no bytes for the idle time."""
        timeout_s = self.idle_timeout_s
        while True:
            pending = [t for t in tasks if not t.done()]
            await asyncio.wait(pending, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
            if any(t.done() and not t.cancelled() and t.exception() for t in tasks):
                return  # a reset: the other side is closed at once
            if any(d.done() for d in deliveries):  # one side's FIN went through
                await asyncio.wait(deliveries, timeout=HALF_CLOSE_LINGER_S)
                return
            idle_s = time.monotonic() - max(link.last_activity for link in links)
            if not self.up.is_set():  # a stall is the network's silence, not the peers'
                timeout_s = self.idle_timeout_s
            elif idle_s >= self.idle_timeout_s:
                self.counters.connections_idle_closed += 1
                return
            else:
                timeout_s = self.idle_timeout_s - idle_s

    async def _pump(self, reader: asyncio.StreamReader, link: Link, counter: str) -> None:
        """Read from one side into its link; while the link holds too much, stop reading."""
        while chunk := await reader.read(CHUNK_BYTES):
            setattr(self.counters, counter, getattr(self.counters, counter) + len(chunk))
            link.send(chunk)
            if link.queued_bytes > MAX_QUEUED_BYTES:
                self.counters.reads_paused += 1
                await link.room.wait()
        link.send(b"")


# --- As a process of its own ----------------------------------------------------------------

COMMANDS = ("drop", "stall", "release", "counters")


async def serve(emulator: NetworkEmulator) -> None:
    """Start, print the listening line, then obey stdin until it ends."""
    await emulator.start()
    print(f"pushlab netem listening on http://{emulator.listen[0]}:{emulator.port}", flush=True)
    try:
        while line := await asyncio.to_thread(sys.stdin.readline):
            command = line.strip()
            if command not in COMMANDS:
                answer = {"event": "error", "error": f"unknown command {command!r}"}
            else:
                if command != "counters":
                    getattr(emulator, command)()
                answer = {"event": command, "at": time.time(), **asdict(emulator.counters)}
            print(json.dumps(answer), flush=True)
    finally:
        await emulator.stop()


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = CommandParser(
        prog="python -m pushlab.netem",
        description="A TCP proxy that adds round-trip time, jitter and a bandwidth cap, and "
        "drops or stalls its connections on command. Packet loss cannot be emulated above "
        "TCP (the kernel has already made the stream reliable), so there is no option for it.",
    )
    parser.add_argument("--target", type=address, required=True, help="HOST:PORT of the server")
    parser.add_argument("--port", type=int, default=0, help="where to listen (0: a free port)")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="round-trip time added (ms)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="extra delay, 0…J ms")
    parser.add_argument("--bandwidth-bps", type=float, default=None, help="bits/s (no cap)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the jitter")
    args = parser.parse_args(argv)
    try:
        settings = LinkSettings(args.rtt_ms, args.jitter_ms, args.bandwidth_bps)
    except ValueError as error:
        parser.error(str(error))
    emulator = NetworkEmulator(*args.target, settings, listen_port=args.port, seed=args.seed)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(emulator))
    return 0


if __name__ == "__main__":
    sys.exit(main())
