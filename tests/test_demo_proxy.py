"""The demo's path control, server side (``servers.demoproxy``): a technique through a real
nginx, and back to direct. Skips without nginx, fails under ``CI=true``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from pushlab.servers.config import ServerConfig
from pushlab.servers.demo import Demo, start_demo
from tests.nginx_fixture import nginx  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("nginx")


@pytest.fixture
async def demo() -> AsyncIterator[Demo]:
    running = await start_demo(ServerConfig(port=0, publish_rate=0))
    yield running
    await running.stop()


async def page_paths(http: aiohttp.ClientSession, demo: Demo) -> dict[str, str]:
    async with http.get(f"{demo.page.url}/api/config") as response:
        return (await response.json())["techniques"]


async def test_a_technique_goes_through_nginx_and_back(demo: Demo) -> None:
    async with aiohttp.ClientSession() as http:
        direct = await page_paths(http, demo)
        body = {"technique": "websocket", "profile": "nginx-tuned"}
        async with http.post(f"{demo.page.url}/api/proxy", json=body) as response:
            assert response.status == 200
            assert (await response.json())["paths"]["websocket"] == "nginx-tuned"
        proxied = await page_paths(http, demo)
        assert proxied["websocket"] != direct["websocket"]
        assert proxied["sse"] == direct["sse"]  # the others stay direct
        async with http.ws_connect(proxied["websocket"].replace("http", "ws", 1) + "/ws") as ws:
            assert not ws.closed  # the upgrade was carried through nginx
        async with http.get(proxied["websocket"] + "/healthz") as answer:
            assert answer.headers["Server"].startswith("nginx")
        body = {"technique": "websocket", "profile": "direct"}
        async with http.post(f"{demo.page.url}/api/proxy", json=body) as response:
            assert (await response.json())["paths"]["websocket"] == "direct"
        assert await page_paths(http, demo) == direct


@pytest.mark.parametrize(
    "body",
    [{"technique": "telepathy", "profile": "nginx-tuned"}, {"technique": "sse", "profile": "x"}],
)
async def test_a_bad_path_request_is_a_400_that_says_why(demo: Demo, body: dict) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{demo.page.url}/api/proxy", json=body) as response:
            assert response.status == 400
            assert "must be one of" in (await response.json())["error"]
