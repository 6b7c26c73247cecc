"""The demo behind its emulators keeps per-student limits, its servers out of reach, and one
restart at a time."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from pushlab.servers.config import ServerConfig
from pushlab.servers.connections import BUDGET
from pushlab.servers.demo import Demo, start_demo
from tests.conftest import until

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def strict_demo() -> AsyncIterator[Demo]:
    """A quiet demo whose publish bucket is three messages, refilled very slowly."""
    running = await start_demo(
        ServerConfig(port=0, publish_rate=0, publish_burst=3, publish_limit_per_s=0.001)
    )
    yield running
    await running.stop()


async def post_from(source: str, url: str, text: str) -> int:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(url + "/messages", json={"text": text}, headers=JSON) as answer:
            return answer.status


async def test_one_students_flood_does_not_silence_another(strict_demo: Demo) -> None:
    assert strict_demo.network is not None
    url = f"http://127.0.0.1:{strict_demo.network.port('polling')}"
    flood = [await post_from("127.0.0.1", url, f"flood {i}") for i in range(4)]
    assert flood == [201, 201, 201, 429]
    assert await post_from("127.0.0.2", url, "another student") == 201


async def test_a_websocket_chat_frame_is_limited_by_its_students_address(
    strict_demo: Demo,
) -> None:
    assert strict_demo.network is not None
    url = f"http://127.0.0.1:{strict_demo.network.port('websocket')}"
    for i in range(4):
        await post_from("127.0.0.1", url, f"flood {i}")
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.ws_connect(url + "/ws?since=3") as ws:
            await ws.send_json({"text": "another student"})
            message = await ws.receive_json(timeout=10)
    assert message.get("text") == "another student", message


async def test_the_technique_servers_listen_on_loopback_whatever_the_host() -> None:
    demo = await start_demo(ServerConfig(host="127.0.0.2", port=0, publish_rate=0))
    try:
        for server in demo.techniques.values():
            sockets = server.site._server.sockets  # type: ignore[union-attr]
            assert {s.getsockname()[0] for s in sockets} == {"127.0.0.1"}
        with socket.create_connection(("127.0.0.2", demo.network.port("polling"))):  # type: ignore[union-attr]
            pass  # the public port is where --host says
    finally:
        await demo.stop()


async def test_concurrent_restarts_are_one_at_a_time_never_a_500() -> None:
    demo = await start_demo(ServerConfig(port=0, publish_rate=0))
    try:
        async with aiohttp.ClientSession() as session:

            async def restart() -> int:
                async with session.post(
                    demo.page.url + "/api/restart", json={"technique": "sse"}, headers=JSON
                ) as answer:
                    await answer.read()
                    return answer.status

            statuses = await asyncio.gather(*(restart() for _ in range(10)))
        assert set(statuses) <= {200, 409} and 200 in statuses, statuses
        assert demo.network is not None
        assert demo.network.restarts["sse"] == statuses.count(200)
        await until(lambda: not demo.network.restarting["sse"].locked())  # type: ignore[union-attr]
    finally:
        await demo.stop()


async def test_the_demos_ceiling_counts_the_emulators_descriptors_and_answers_503() -> None:
    """A public connection costs three descriptors (two in the emulator, one in the server):
    with a ceiling of six, the third connection is refused with the servers' 503."""
    demo = await start_demo(ServerConfig(port=0, publish_rate=0, max_connections=6))
    assert demo.network is not None
    port = demo.network.port("polling")
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    try:
        await until(lambda: demo.page.app[BUDGET].open == 6)  # the page's: the shared one
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        async with asyncio.timeout(10):
            answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503 ") and b"Retry-After" in answer
    finally:
        for sock in held:
            sock.close()
        await demo.stop()
