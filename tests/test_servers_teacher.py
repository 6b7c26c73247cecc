"""A teacher key on shared networks (issue 16): beyond loopback, rate changes need the key;
reading and chatting do not. (Tests bind loopback and set the key as a wildcard bind would.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from pushlab.servers.config import ServerConfig
from pushlab.servers.demo import Demo, start_demo
from pushlab.servers.teacher import KEY_HEADER, key_for, teacher_fragment

KEY = "k" * 16


def test_a_key_is_made_only_beyond_loopback():
    assert key_for("127.0.0.1") is None
    assert key_for("::1") is None
    assert key_for("localhost") is None
    assert key_for("0.0.0.0")
    assert key_for("192.168.1.5") != key_for("192.168.1.5")  # fresh each start


@pytest.mark.parametrize("headers", [{}, {KEY_HEADER: "wrong"}])
async def test_a_rate_change_without_the_key_is_403(start_server, headers):
    server = await start_server("polling", teacher_key=KEY)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{server.url}/publisher", json={"publish_rate": 5}, headers=headers
        ) as response:
            assert response.status == 403
            assert "teacher key" in (await response.json())["error"]
        async with session.get(f"{server.url}/publisher") as response:
            assert (await response.json())["publish_rate"] == 0


async def test_with_the_key_the_rate_changes_and_students_still_chat(start_server):
    server = await start_server("polling", teacher_key=KEY)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{server.url}/publisher", json={"publish_rate": 0.5}, headers={KEY_HEADER: KEY}
        ) as response:
            assert response.status == 200
        async with session.post(f"{server.url}/messages", json={"text": "hi"}) as response:
            assert response.status == 201
        async with session.get(f"{server.url}/poll") as response:
            assert response.status == 200


@pytest.fixture
async def keyed_demo() -> AsyncIterator[Demo]:
    running = await start_demo(ServerConfig(port=0, teacher_key=KEY))
    yield running
    await running.stop()


async def test_the_page_needs_the_key_to_change_the_rate(keyed_demo: Demo) -> None:
    url = f"{keyed_demo.page.url}/api/publisher"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{keyed_demo.page.url}/api/config") as response:
            assert (await response.json())["teacher_key_required"] is True
        async with session.post(url, json={"publish_rate": 3}) as response:
            assert response.status == 403
        async with session.post(url, json={"publish_rate": 3}, headers={KEY_HEADER: KEY}) as r:
            assert r.status == 200
    assert keyed_demo.publisher.publish_rate == 3


def test_the_teacher_url_carries_the_key_in_its_fragment():
    assert teacher_fragment(ServerConfig(teacher_key=KEY)) == f"#key={KEY}"
    assert teacher_fragment(ServerConfig()) == ""


def test_the_cli_makes_a_key_for_a_wildcard_bind_and_none_on_loopback():
    from pushlab.servers.__main__ import config_from, parse_args

    assert config_from(parse_args(["polling"])).teacher_key is None
    assert config_from(parse_args(["polling", "--host", "0.0.0.0"])).teacher_key
    given = parse_args(["demo", "--host", "0.0.0.0", "--teacher-key", "ours"])
    assert config_from(given).teacher_key == "ours"


def test_the_cli_passes_the_hardening_options_to_the_config():
    from pushlab.servers.__main__ import config_from, parse_args

    args = ["sse", "--header-timeout", "3", "--body-timeout", "4", "--keepalive-timeout", "5"]
    args += ["--max-connections", "6", "--publish-limit", "7", "--publish-burst", "8"]
    config = config_from(parse_args([*args, "--allow-host", "a.example"]))
    assert (config.header_timeout_s, config.body_timeout_s, config.keepalive_timeout_s) == (3, 4, 5)
    assert (config.max_connections, config.publish_limit_per_s, config.publish_burst) == (6, 7, 8)
    assert config.allowed_hosts == ("a.example",)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/network", {"technique": "polling", "rtt_ms": 200}),
        ("/api/cut", {"technique": "longpoll"}),
        ("/api/restart", {"technique": "sse"}),
    ],
)
async def test_the_network_controls_need_the_key(keyed_demo: Demo, path: str, body: dict) -> None:
    url = f"{keyed_demo.page.url}{path}"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body) as response:
            assert response.status == 403
            assert "teacher key" in (await response.json())["error"]
        async with session.post(url, json=body, headers={KEY_HEADER: KEY}) as response:
            assert response.status == 200
