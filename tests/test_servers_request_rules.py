"""Request rules checked on the raw bytes: the WebSocket method, empty lines before a request,
``Expect: 100-continue`` against the body limit."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from pushlab.servers.answers import MAX_ANSWER_BYTES
from pushlab.servers.connections import BUDGET
from pushlab.servers.keys import FEED
from tests.conftest import StartServer

UPGRADE = (
    "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def exchange(port: int, request: bytes, timeout_s: float = 10) -> bytes:
    """Send ``request``; return what comes back until the server closes (or ``timeout_s``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    try:
        async with asyncio.timeout(timeout_s):
            return await reader.read()
    finally:
        writer.close()


async def test_head_on_the_websocket_path_is_405_not_an_upgrade(start_server: StartServer) -> None:
    server = await start_server("websocket")
    answer = await head_answer(server.port)
    assert answer.startswith(b"HTTP/1.1 405 "), answer[:80]
    assert b"101" not in answer.split(b"\r\n", 1)[0]


async def head_answer(port: int) -> bytes:
    """The status line and headers of a HEAD upgrade request (a HEAD answer has no body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"HEAD /ws HTTP/1.1\r\n{UPGRADE}".encode())
    try:
        async with asyncio.timeout(10):
            return await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()


async def test_empty_lines_before_a_request_do_not_stop_the_header_timer(
    start_server: StartServer,
) -> None:
    server = await start_server("polling", header_timeout_s=0.2, keepalive_timeout_s=75)
    answer = await exchange(server.port, b"\r\n\r\n", timeout_s=30)  # the server must close
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert server.app[BUDGET].header_timeouts == 1


async def test_empty_lines_before_a_request_are_still_allowed(start_server: StartServer) -> None:
    server = await start_server("polling")
    answer = await exchange(
        server.port,
        b"\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 200 ")


async def test_an_oversized_body_announced_with_expect_is_413_at_once(
    start_server: StartServer,
) -> None:
    server = await start_server("polling")
    answer = await exchange(
        server.port,
        b"POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:80]
    assert b"100 Continue" not in answer


async def test_a_body_within_the_limit_still_gets_100_continue(start_server: StartServer) -> None:
    server = await start_server("polling")
    body = b'{"text": "hi"}'
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" % len(body)
    )
    try:
        async with asyncio.timeout(10):
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100 Continue")
            writer.write(body)
            assert (await reader.read()).startswith(b"HTTP/1.1 201 ")
    finally:
        writer.close()


async def test_a_replay_from_zero_is_bounded_and_loses_nothing(start_server: StartServer) -> None:
    """A full history of 4 KiB texts: each answer is at most MAX_ANSWER_BYTES of messages, and
    a client that moves its cursor to the last id it got receives every message, in order."""
    server = await start_server("polling", publish_limit_per_s=0)
    feed = server.app[FEED]
    for i in range(300):
        await feed.publish(f"{i}".ljust(4096, "."))
    received: list[int] = []
    async with aiohttp.ClientSession() as session:
        while not received or received[-1] < feed.last_id:
            since = received[-1] if received else 0
            async with session.get(f"{server.url}/poll?since={since}") as answer:
                body = await answer.read()
            assert len(body) <= MAX_ANSWER_BYTES + 1024  # the messages and the envelope
            received += [m["id"] for m in json.loads(body)["messages"]]
    assert received == list(range(1, 301))
