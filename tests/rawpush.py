"""Raw-socket push clients for the tests: every byte the server sent is read and counted here,
with no client library in between (so a test can hold the bytes against the server's meter).
The WebSocket bytes are the codec's (:mod:`pushlab.rfc6455`): its upgrade request, its header
reader."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass

from pushlab.rfc6455 import build_upgrade_request, header_size, read_header


@dataclass
class RawClient:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    bytes_read: int = 0

    async def read_exactly(self, count: int) -> bytes:
        data = await self.reader.readexactly(count)
        self.bytes_read += count
        return data

    async def read_until(self, separator: bytes) -> bytes:
        data = await self.reader.readuntil(separator)
        self.bytes_read += len(data)
        return data

    def close(self) -> None:
        self.writer.close()


async def connect(port: int, request: bytes, receive_buffer_bytes: int | None = None) -> RawClient:
    """Send ``request`` and read the response head; a small receive buffer makes a slow reader."""
    sock = socket.socket()
    if receive_buffer_bytes is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer_bytes)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=2**20)
    writer.write(request)
    client = RawClient(reader, writer)
    await client.read_until(b"\r\n\r\n")
    return client


async def open_websocket(port: int, query: str = "", **options: int) -> RawClient:
    request = build_upgrade_request(f"127.0.0.1:{port}", f"/ws{query}")
    return await connect(port, request, **options)


async def read_frame(client: RawClient) -> tuple[int, bytes]:
    """(opcode, payload) of one unmasked server frame (RFC 6455 §5.2)."""
    head = await client.read_exactly(2)
    head += await client.read_exactly(header_size(head[1]) - 2)
    header = read_header(head)
    assert header is not None and not header.mask  # §5.1: a server never masks
    return header.opcode_value, await client.read_exactly(header.length)


async def open_event_stream(
    port: int, last_event_id: int | None = None, **options: int
) -> RawClient:
    resume = "" if last_event_id is None else f"Last-Event-ID: {last_event_id}\r\n"
    request = f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{resume}\r\n"
    return await connect(port, request.encode(), **options)


async def read_event(client: RawClient) -> dict[str, str]:
    """The fields of the next SSE event (comments and ``retry:`` blocks skipped), de-chunked."""
    while True:
        size = int((await client.read_until(b"\r\n"))[:-2], 16)
        block = (await client.read_exactly(size + 2))[:-2]
        fields = dict(
            line.split(": ", 1)
            for line in block.decode().splitlines()
            if ": " in line and not line.startswith(":")
        )
        if "data" in fields:
            return fields


def message_id(payload: bytes | str) -> int:
    return json.loads(payload)["id"]
