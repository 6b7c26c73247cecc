"""Publishing is limited per client address (issue 16): a token bucket with a burst."""

from __future__ import annotations

import aiohttp

from pushlab.servers.keys import FEED
from pushlab.servers.ratelimit import PublishLimiter
from tests.conftest import until


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def test_the_bucket_allows_the_burst_then_the_rate():
    clock = FakeClock()
    limiter = PublishLimiter(rate_per_s=2, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    assert limiter.take("a") == 0.5  # one token comes back in 1 / rate seconds
    assert limiter.take("b") is None  # another address has its own bucket
    clock.now_s = 0.5
    assert limiter.take("a") is None
    assert limiter.take("a") is not None
    assert limiter.refused == 2


def test_a_rate_of_zero_switches_the_limit_off():
    limiter = PublishLimiter(rate_per_s=0, burst=1)
    assert all(limiter.take("a") is None for _ in range(100))


async def test_http_publishing_past_the_burst_gets_429_with_retry_after(start_server):
    server = await start_server("polling", publish_burst=5, publish_limit_per_s=0.001)
    statuses = []
    async with aiohttp.ClientSession() as session:
        for i in range(7):
            async with session.post(f"{server.url}/messages", json={"text": f"m{i}"}) as response:
                statuses.append(response.status)
                if response.status == 429:
                    assert int(response.headers["Retry-After"]) >= 1
                    assert "too many messages" in (await response.json())["error"]
    assert statuses == [201] * 5 + [429] * 2
    assert server.app[FEED].last_id == 5


async def test_websocket_frames_past_the_burst_get_an_error_frame(start_server):
    server = await start_server("websocket", publish_burst=3, publish_limit_per_s=0.001)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{server.url}/ws") as ws:
            for i in range(4):
                await ws.send_json({"text": f"m{i}"})
            answers = [await ws.receive_json() for _ in range(4)]
    assert sorted(a["text"] for a in answers if "text" in a) == ["m0", "m1", "m2"]
    errors = [a["error"] for a in answers if "error" in a]
    assert len(errors) == 1 and "too many messages" in errors[0]
    assert server.app[FEED].last_id == 3


async def test_the_built_in_publisher_is_not_limited(start_server):
    server = await start_server("polling", publish_burst=1, publish_limit_per_s=0.001)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/publisher", json={"publish_rate": 1000}) as r:
            assert r.status == 200
    await until(lambda: server.app[FEED].last_id > 10)
