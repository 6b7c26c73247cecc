"""The demo's network control (``servers.demonet``): every technique behind its emulator, and
the page's routes that set its delay, cut its connections and restart its server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from pushlab.servers.config import ServerConfig
from pushlab.servers.demo import Demo, start_demo
from pushlab.servers.keys import FEED, METER
from pushlab.techniques import NAMES as TECHNIQUES
from tests.conftest import until


@pytest.fixture
async def demo() -> AsyncIterator[Demo]:
    """A quiet demo (no publisher), whose network settings are this test's alone."""
    running = await start_demo(ServerConfig(port=0, publish_rate=0))
    yield running
    await running.stop()


@pytest.fixture
async def http(demo: Demo) -> AsyncIterator[aiohttp.ClientSession]:
    """A session for ``demo``'s page, closed before the demo stops."""
    async with aiohttp.ClientSession(raise_for_status=False) as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, body: object) -> tuple[int, dict]:
    async with http.post(url, json=body) as response:
        return response.status, await response.json()


def public_url(demo: Demo, technique: str) -> str:
    assert demo.network is not None
    return f"http://127.0.0.1:{demo.network.port(technique)}"


async def test_the_page_is_pointed_at_the_emulators_not_the_servers(demo, http) -> None:
    async with http.get(f"{demo.page.url}/api/config") as response:
        config = await response.json()
    for technique in TECHNIQUES:
        assert config["techniques"][technique] == public_url(demo, technique)
        assert public_url(demo, technique) != demo.techniques[technique].url
    async with http.get(public_url(demo, "polling") + "/healthz") as response:
        assert (await response.json())["technique"] == "polling"
    assert demo.network and demo.network.emulators["polling"].counters.connections_opened == 1


async def test_a_round_trip_time_delays_that_technique_only(demo, http) -> None:
    status, body = await post(
        http, f"{demo.page.url}/api/network", {"technique": "polling", "rtt_ms": 200}
    )
    assert status == 200
    assert body["techniques"]["polling"]["rtt_ms"] == 200
    assert body["techniques"]["sse"]["rtt_ms"] == 0

    asked_at = time.monotonic()
    async with http.get(public_url(demo, "polling") + "/poll?since=0") as response:
        assert response.status == 200
    # A lower bound the emulator guarantees (request and answer each wait RTT/2), not a speed.
    assert time.monotonic() - asked_at >= 0.2


async def test_all_sets_every_technique(demo, http) -> None:
    status, body = await post(http, f"{demo.page.url}/api/network", {"rtt_ms": 50})
    assert status == 200
    assert {t: v["rtt_ms"] for t, v in body["techniques"].items()} == dict.fromkeys(TECHNIQUES, 50)


@pytest.mark.parametrize(
    ("route", "body", "error"),
    [
        ("network", {"technique": "carrier-pigeon", "rtt_ms": 50}, "technique must be one of"),
        ("network", {"technique": "sse", "rtt_ms": "slow"}, "rtt_ms must be a number"),
        ("network", {"technique": "sse", "rtt_ms": -1}, "rtt_ms must be a number"),
        ("network", {"technique": "sse", "rtt_ms": True}, "rtt_ms must be a number"),
        ("cut", {"technique": 3}, "technique must be one of"),
        ("restart", {"technique": "everything"}, "technique must be one of"),
        ("restart", [], "must be a JSON object"),
    ],
)
async def test_bad_requests_get_a_json_error(demo, http, route, body, error) -> None:
    status, answer = await post(http, f"{demo.page.url}/api/{route}", body)
    assert status == 400 and error in answer["error"]


async def test_cut_resets_a_held_request_and_the_next_one_gets_through(demo, http) -> None:
    # A raw socket: aiohttp would quietly send an idempotent GET again after the reset.
    assert demo.network is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", demo.network.port("longpoll"))
    writer.write(b"GET /poll?since=0&timeout=30 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await until(lambda: demo.techniques["longpoll"].app[METER].clients_connected == 1)

    status, body = await post(http, f"{demo.page.url}/api/cut", {"technique": "longpoll"})

    assert status == 200 and body["techniques"]["longpoll"]["connections_reset"] >= 2
    with contextlib.suppress(ConnectionResetError):  # reset, or closed: never an answer
        assert await reader.read() == b""
    writer.close()
    async with http.get(public_url(demo, "longpoll") + "/poll?since=0&timeout=0") as response:
        assert response.status == 200


async def test_restart_replaces_the_application_on_the_same_port_with_the_same_feed(
    demo, http
) -> None:
    old = demo.techniques["sse"]
    await demo.feed.publish("before the restart")

    status, body = await post(http, f"{demo.page.url}/api/restart", {"technique": "sse"})

    new = demo.techniques["sse"]
    assert status == 200 and body["techniques"]["sse"]["restarts"] == 1
    assert new is not old and new.port == old.port and new.app[FEED] is demo.feed
    headers = {"Last-Event-ID": "0", "Accept": "text/event-stream"}
    async with http.get(public_url(demo, "sse") + "/events", headers=headers) as response:
        assert response.status == 200
        async for line in response.content:
            if line.startswith(b"data:"):
                assert b"before the restart" in line
                break
    async with http.get(f"{demo.page.url}/api/stats") as response:
        assert (await response.json())["techniques"]["sse"]["requests"] == 1
