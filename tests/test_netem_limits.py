"""The emulator keeps the servers' limits: backpressure, closing, an idle timeout, a backlog,
a ceiling with the servers' 503, and the client's address passed on (PROXY protocol v1)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from pushlab.limits import LISTEN_BACKLOG
from pushlab.netem import CHUNK_BYTES, IDLE_TIMEOUT_S, MAX_QUEUED_BYTES, NetworkEmulator
from pushlab.proxy_protocol import ProxyHeaderError, header_v1, parse_v1
from pushlab.servers.config import KEEPALIVE_TIMEOUT_S
from pushlab.servers.connections import REFUSAL, ConnectionBudget
from pushlab.techniques import LONGPOLL_MAX_HOLD_S
from tests.conftest import until

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Serve], Awaitable[int]]]:
    """``await serve(handler)``: a TCP server on a free loopback port; returns the port."""
    servers: list[asyncio.Server] = []

    async def _serve(handler: Serve) -> int:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield _serve
    for server in servers:
        server.close()


def socket_buffers_bytes(sock: socket.socket) -> int:
    """What the kernel may hold between the emulator and a client: the largest send buffer
    it grows to (``tcp_wmem``'s maximum) plus the client's receive buffer."""
    with open("/proc/sys/net/ipv4/tcp_wmem") as limits:
        send_max = int(limits.read().split()[2])
    return send_max + sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def non_reading_client(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


async def test_a_client_that_does_not_read_holds_the_server_back_not_the_emulator(serve) -> None:
    total_bytes = 64 * 1024 * 1024
    writers: list[asyncio.StreamWriter] = []

    async def firehose(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        writer.write(b"x" * total_bytes)  # as a server writes to a slow client: all at once
        await reader.read()  # until the client leaves

    emulator = await NetworkEmulator("127.0.0.1", await serve(firehose)).start()
    client = non_reading_client(emulator.port)
    try:
        await until(lambda: bool(writers))
        await until(lambda: emulator.counters.reads_paused > 0)  # the emulator stopped reading…
        bytes_down = emulator.counters.bytes_down
        # …having read only its bound plus what the sockets hold; the server keeps the rest.
        assert bytes_down <= MAX_QUEUED_BYTES + 4 * CHUNK_BYTES + socket_buffers_bytes(client)
    finally:
        client.close()
        await emulator.stop()


async def test_when_the_server_closes_the_whole_connection_is_closed(serve) -> None:
    async def closes_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()  # as a server closes an idle connection at its header timeout

    emulator = await NetworkEmulator("127.0.0.1", await serve(closes_at_once)).start()
    client = socket.create_connection(("127.0.0.1", emulator.port))  # never closed by us
    try:
        await until(lambda: emulator.counters.connections_opened == 1)
        await until(lambda: emulator.counters.connections_open == 0)
        assert not emulator.writers  # no socket kept, to the client or the server
    finally:
        client.close()
        await emulator.stop()


async def test_a_silent_connection_is_closed_after_the_idle_timeout(serve) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    emulator = await NetworkEmulator("127.0.0.1", await serve(silent), idle_timeout_s=0.2).start()
    client = socket.create_connection(("127.0.0.1", emulator.port))
    try:
        await until(lambda: emulator.counters.connections_opened == 1)
        await until(lambda: emulator.counters.connections_open == 0)  # closed by the emulator…
        assert emulator.counters.connections_idle_closed == 1  # …for its silence
    finally:
        client.close()
        await emulator.stop()


def test_the_idle_timeout_outlasts_every_wait_of_the_servers() -> None:
    assert IDLE_TIMEOUT_S > KEEPALIVE_TIMEOUT_S
    assert IDLE_TIMEOUT_S > LONGPOLL_MAX_HOLD_S


async def test_the_emulator_listens_with_the_servers_backlog(serve) -> None:
    if shutil.which("ss") is None:
        pytest.skip("ss (iproute2) is not installed: cannot read a listening socket's backlog")
    emulator = await NetworkEmulator("127.0.0.1", await serve(lambda r, w: r.read())).start()
    try:
        listing = subprocess.run(
            ["ss", "-ltnH", f"sport = :{emulator.port}"], capture_output=True, text=True
        ).stdout.split()
        assert int(listing[2]) == LISTEN_BACKLOG  # Send-Q of a listening socket: its backlog
    finally:
        await emulator.stop()


async def test_beyond_the_ceiling_the_emulator_answers_the_servers_503(serve) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    budget = ConnectionBudget(max_connections=4)  # two connections: two descriptors each
    emulator = await NetworkEmulator(
        "127.0.0.1", await serve(silent), budget=budget, refusal=REFUSAL
    ).start()
    held = [socket.create_connection(("127.0.0.1", emulator.port)) for _ in range(2)]
    try:
        await until(lambda: emulator.counters.connections_opened == 2)
        reader, writer = await asyncio.open_connection("127.0.0.1", emulator.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = await reader.read()
        assert answer.startswith(b"HTTP/1.1 503 ") and b"Retry-After" in answer
        writer.close()
        assert budget.refused == 1 and emulator.counters.connections_refused == 1
    finally:
        for sock in held:
            sock.close()
        await emulator.stop()
    await until(lambda: budget.open == 0)


async def test_the_server_is_told_the_clients_address_first(serve) -> None:
    first_lines: list[bytes] = []

    async def records(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first_lines.append(await reader.readline())
        writer.close()

    emulator = await NetworkEmulator("127.0.0.1", await serve(records), proxy_protocol=True).start()
    client = socket.socket()
    client.bind(("127.0.0.2", 0))
    client.connect(("127.0.0.1", emulator.port))
    try:
        await until(lambda: bool(first_lines))
        assert parse_v1(first_lines[0]) == client.getsockname()
    finally:
        client.close()
        await emulator.stop()


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2",  # no CRLF
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
        b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n",
        b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
    ],
)
def test_a_malformed_proxy_line_is_refused(line: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        parse_v1(line)


def test_a_proxy_line_round_trips() -> None:
    assert parse_v1(header_v1(("192.0.2.7", 51234), ("127.0.0.1", 8001))) == ("192.0.2.7", 51234)
    assert parse_v1(header_v1(("2001:db8::1", 5), ("::1", 8001))) == ("2001:db8::1", 5)
    assert parse_v1(b"PROXY UNKNOWN\r\n") is None


async def test_a_burst_beyond_the_ceiling_gets_503s_and_no_resets(serve) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    budget = ConnectionBudget(max_connections=4)
    emulator = await NetworkEmulator(
        "127.0.0.1", await serve(silent), budget=budget, refusal=REFUSAL
    ).start()

    async def one() -> bytes | None:
        """The answer (b"" if closed without one), or None while admitted and silent."""
        reader, writer = await asyncio.open_connection("127.0.0.1", emulator.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            async with asyncio.timeout(3):  # the admitted ones: their server never answers
                return await reader.read()
        except TimeoutError:
            return None
        finally:
            writer.close()

    try:
        answers = await asyncio.gather(*(one() for _ in range(30)))
    finally:
        await emulator.stop()
    assert answers.count(None) == 2  # admitted: the ceiling holds two connections
    assert all(a.startswith(b"HTTP/1.1 503 ") for a in answers if a is not None)
