"""No single client address takes the whole connection ceiling."""

from __future__ import annotations

import asyncio
import socket

from pushlab.servers.connections import ADDRESS_SHARE, BUDGET, address_share
from tests.conftest import StartServer, until


def connect_from(source: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


async def healthz_from(source: str, port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    try:
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()


async def test_one_address_cannot_take_the_ceiling_from_another(start_server: StartServer) -> None:
    server = await start_server("sse", max_connections=10, max_connections_per_address=3)
    held = [connect_from("127.0.0.1", server.port) for _ in range(3)]
    try:
        await until(lambda: server.app[BUDGET].open == 3)
        assert (await healthz_from("127.0.0.1", server.port)).startswith(b"HTTP/1.1 503 ")
        assert (await healthz_from("127.0.0.2", server.port)).startswith(b"HTTP/1.1 200 ")
        assert server.app[BUDGET].refused_per_address == 1
    finally:
        for sock in held:
            sock.close()


def test_the_share_applies_by_default_only_beyond_loopback() -> None:
    assert address_share("127.0.0.1", 1000, None) is None  # a bench's clients share 127.0.0.1
    assert address_share("0.0.0.0", 1000, None) == int(1000 * ADDRESS_SHARE)
    assert address_share("127.0.0.1", 1000, 7) == 7
