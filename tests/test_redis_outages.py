"""A shared feed whose Redis restarts, stalls or is gone: nothing is lost silently.

A real redis-server of each test's own (``own_redis``), restarted and stalled by the fault
injectors the bench uses (``bench/measuring/redis_faults.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis

from pushlab.bench.measuring.redis_faults import redis_restart, redis_stalled
from pushlab.bench.measuring.redis_server import RedisServer
from pushlab.servers.feed_redis import REDIS_TIMEOUT_S
from pushlab.servers.keys import FEED, PUBLISHER
from tests.conftest import StartServer, server_process, until
from tests.redis_fixture import own_redis  # noqa: F401 (fixture)

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, text: str) -> tuple[int, dict, dict]:
    async with http.post(url + "/messages", json={"text": text}, headers=JSON) as answer:
        return answer.status, await answer.json(), dict(answer.headers)


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with http.get(url) as answer:
        return answer.status, await answer.json()


# --- The injectors ---------------------------------------------------------------------------


def test_an_empty_restart_forgets_everything(own_redis: RedisServer) -> None:  # noqa: F811
    client = redis.Redis(port=own_redis.port)
    client.set("kept?", "yes")
    old_pid = own_redis.process.pid
    redis_restart(own_redis, keep_data=False)
    assert own_redis.process.pid != old_pid
    assert redis.Redis(port=own_redis.port).get("kept?") is None


def test_a_restart_with_its_data_keeps_it_and_breaks_connections(own_redis: RedisServer) -> None:  # noqa: F811
    client = redis.Redis(port=own_redis.port)
    client.set("kept?", "yes")
    run_id = client.info()["run_id"]
    redis_restart(own_redis, keep_data=True)
    after = redis.Redis(port=own_redis.port)
    assert after.get("kept?") == b"yes"
    assert after.info()["run_id"] != run_id  # a new process: every old connection broke


def test_a_stall_answers_nothing_until_it_ends(own_redis: RedisServer) -> None:  # noqa: F811
    client = redis.Redis(port=own_redis.port, socket_timeout=0.5, retry_on_error=[])
    with redis_stalled(own_redis):
        with pytest.raises(redis.TimeoutError):
            client.ping()
    assert redis.Redis(port=own_redis.port).ping()


# --- The feed through a Redis that restarts --------------------------------------------------


async def test_after_an_empty_restart_no_id_is_given_twice_and_the_feed_id_changes(
    own_redis: RedisServer,  # noqa: F811
    start_server: StartServer,
    http: aiohttp.ClientSession,
) -> None:
    server = await start_server("longpoll", feed=own_redis.url, publish_limit_per_s=0)
    for i in range(5):
        assert (await post(http, server.url, f"m{i}"))[0] == 201
    _, before = await get(http, server.url + "/stats")
    await asyncio.to_thread(redis_restart, own_redis, False)

    answers: list[tuple[int, dict, dict]] = []

    async def posted() -> bool:
        answers.append(await post(http, server.url, "after the restart"))
        return answers[-1][0] == 201

    async with asyncio.timeout(15):
        while not await posted():
            assert answers[-1][0] == 503, answers[-1]
    assert answers[-1][1]["id"] == 6  # not #1, which the clients already had
    _, poll = await get(http, server.url + "/poll?since=5&timeout=5")
    assert [m["text"] for m in poll["messages"]] == ["after the restart"]
    _, after = await get(http, server.url + "/stats")
    assert after["feed_id"] != before["feed_id"]  # whoever checks it knows the store changed


async def test_while_redis_is_down_writes_are_503_and_reads_still_answer(
    own_redis: RedisServer,  # noqa: F811
    start_server: StartServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await start_server("polling", feed=own_redis.url)
    assert (await post(http, server.url, "before"))[0] == 201
    own_redis.stop()
    with caplog.at_level(logging.WARNING):
        statuses = [await post(http, server.url, f"during {i}") for i in range(3)]
        status, poll = await get(http, server.url + "/poll?since=0")
    for code, body, headers in statuses:
        assert code == 503
        assert "error" in body
        assert headers["Retry-After"] == "1"
    assert status == 200 and [m["text"] for m in poll["messages"]] == ["before"]
    assert not any(record.exc_info for record in caplog.records)  # no traceback
    assert "Traceback" not in caplog.text


async def test_the_publisher_survives_a_restart_and_says_how_it_is_doing(
    own_redis: RedisServer,  # noqa: F811
    start_server: StartServer,
    http: aiohttp.ClientSession,
) -> None:
    server = await start_server("polling", feed=own_redis.url, publish_rate=50)
    await until(lambda: server.app[FEED].last_id >= 3)
    own_redis.process.kill()  # down: the publisher fails…
    own_redis.process.wait()
    await until(lambda: server.app[PUBLISHER].state == "failing")
    _, stats = await get(http, server.url + "/stats")
    assert stats["publisher_state"] == "failing" and stats["publisher_errors"] >= 1
    await asyncio.to_thread(redis_restart, own_redis, False)  # …and goes on once it is back
    last_id = server.app[FEED].last_id
    await until(lambda: server.app[FEED].last_id >= last_id + 3, timeout_s=20)
    _, stats = await get(http, server.url + "/stats")
    assert stats["publisher_state"] == "publishing"


async def test_the_publisher_survives_a_restart_with_the_data_kept(
    own_redis: RedisServer,  # noqa: F811
    start_server: StartServer,
) -> None:
    server = await start_server("polling", feed=own_redis.url, publish_rate=50)
    feed = server.app[FEED]
    await until(lambda: feed.last_id >= 3)
    feed_id = feed.feed_id
    await asyncio.to_thread(redis_restart, own_redis, True)
    last_id = feed.last_id
    await until(lambda: feed.last_id >= last_id + 10, timeout_s=20)
    assert feed.feed_id == feed_id  # the data came back: the same feed


def test_the_workers_registry_recovers_after_an_empty_restart(own_redis: RedisServer) -> None:  # noqa: F811
    def stats_status(url: str) -> int:
        try:
            with urllib.request.urlopen(url + "/stats", timeout=10) as answer:
                json.load(answer)
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    with server_process("polling", "--feed", own_redis.url, "--workers", "2") as url:
        deadline = time.monotonic() + 20
        while stats_status(url) != 200:  # both workers register at start
            assert time.monotonic() < deadline
        redis_restart(own_redis, keep_data=False)
        deadline = time.monotonic() + 20
        while stats_status(url) != 200:
            assert time.monotonic() < deadline, "/stats never answered for every worker again"


async def test_a_feed_that_starts_anew_with_repeating_ids_ends_its_streams(
    start_server: StartServer, http: aiohttp.ClientSession
) -> None:
    """The rare case where ids may repeat (another worker adopted the new feed knowing fewer
    ids): the stream ends, as after a server restart, so the client re-reads ``feed_id``."""
    server = await start_server("sse")
    feed = server.app[FEED]
    await feed.publish("old #1")
    async with http.get(server.url + "/events?since=0") as stream:
        assert (await stream.content.readline()).startswith(b"retry:")
        feed.start_anew("a-new-feed", 0, continues=False)
        with pytest.raises(aiohttp.ClientPayloadError):  # a break, as after a crash
            async with asyncio.timeout(10):
                await stream.content.read()
    _, stats = await get(http, server.url + "/stats")
    assert stats["feed_id"] == "a-new-feed" and stats["last_id"] == 0


async def test_a_stalled_redis_makes_a_write_503_within_the_timeout_not_a_hang(
    own_redis: RedisServer,  # noqa: F811
    start_server: StartServer,
    http: aiohttp.ClientSession,
) -> None:
    server = await start_server("polling", feed=own_redis.url)
    assert (await post(http, server.url, "before"))[0] == 201
    with redis_stalled(own_redis):
        async with asyncio.timeout(REDIS_TIMEOUT_S + 10):  # a bound on the wait, not a claim
            status, body, headers = await post(http, server.url, "during the stall")
    assert status == 503 and "Retry-After" in headers
    assert "may" in body["error"]  # a timeout cannot know: Redis may run the write on waking
    async with asyncio.timeout(30):
        while (answer := await post(http, server.url, "after"))[0] != 201:
            assert answer[0] == 503
    _, poll = await get(http, server.url + "/poll?since=0&timeout=5")
    ids = [m["id"] for m in poll["messages"]]
    assert ids == list(range(1, answer[1]["id"] + 1))  # dense, whatever the stall did
