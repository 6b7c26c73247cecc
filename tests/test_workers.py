"""``--workers N --feed redis://…``: any worker answers any request, and the feed outlives the
server. Real processes and a real redis-server (tests/redis_fixture.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import urllib.request

import aiohttp
import pytest
import redis

from pushlab.limits import raise_open_files_limit
from tests.conftest import server_process
from tests.redis_fixture import redis_server, redis_url  # noqa: F401 (fixtures)
from tests.test_servers_hangup import stats, wait_for


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


JSON = {"Content-Type": "application/json"}  # a write needs it (issue 16)


def post_text(url: str, text: str) -> None:
    body = json.dumps({"text": text}).encode()
    request = urllib.request.Request(url + "/messages", body, JSON, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 201


def worker_urls(url: str, redis_url: str, technique: str) -> list[str]:  # noqa: F811
    """Each worker's own loopback address (its registry entry), to aim a request at one."""
    port = url.rsplit(":", 1)[1]
    entries = redis.Redis.from_url(redis_url).hgetall(f"pushlab:workers:{technique}:{port}")
    return [entries[str(index).encode()].decode() for index in range(len(entries))]


async def receive_one(session: aiohttp.ClientSession, technique: str, url: str) -> dict:
    """Connect a client of ``technique`` to ``url``; return the first message it hears."""
    if technique == "websocket":
        async with session.ws_connect(url + "/ws?since=0") as ws:
            return json.loads((await ws.receive()).data)
    if technique == "sse":
        async with session.get(url + "/events?since=0") as response:
            async for line in response.content:
                if line.startswith(b"data: "):
                    return json.loads(line[6:])
    async with session.get(url + "/poll?since=0&timeout=30") as response:
        return (await response.json())["messages"][0]


@pytest.mark.parametrize("technique", ["websocket", "sse", "longpoll"])
async def test_a_publish_on_one_worker_reaches_a_client_of_another(
    technique: str,
    redis_url: str,  # noqa: F811
) -> None:
    with server_process(technique, "--workers", "2", "--feed", redis_url) as url:
        first, second = worker_urls(url, redis_url, technique)
        port = int(second.rsplit(":", 1)[1])
        async with aiohttp.ClientSession() as session:
            client = asyncio.create_task(receive_one(session, technique, second))
            await asyncio.to_thread(wait_for, port, "clients_connected", 1)
            async with session.post(first + "/messages", json={"text": "across"}) as answer:
                assert answer.status == 201
            async with asyncio.timeout(30):  # a bound on a failure, not a timing claim
                assert (await client)["text"] == "across"


def test_stats_answer_for_the_whole_server(redis_url: str) -> None:  # noqa: F811
    with server_process("longpoll", "--workers", "2", "--feed", redis_url) as url:
        first, second = worker_urls(url, redis_url, "longpoll")
        for worker in (first, second, second):
            get_json(worker + "/poll?since=0&timeout=0")
        total = stats(int(url.rsplit(":", 1)[1]))
        assert [w["worker"] for w in total["workers"]] == [0, 1]
        assert total["requests"] == sum(w["requests"] for w in total["workers"])
        assert sorted(w["requests"] for w in total["workers"]) == [1, 2]


async def test_a_thousand_clients_asking_stats_at_once_all_get_the_whole_server(
    redis_url: str,  # noqa: F811
) -> None:
    """Clients that connect together ask ``/stats`` together (where the feed is): each used to
    take a Redis connection of its own, and past redis-py's pool of 100 the rest got a 500."""
    if raise_open_files_limit() < 1100:
        pytest.skip("this test holds 1,000 sockets open: the file-descriptor limit is lower")
    with server_process("websocket", "--workers", "2", "--feed", redis_url) as url:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def ask() -> tuple[int, dict]:
                async with session.get(url + "/stats") as answer:
                    return answer.status, await answer.json()

            async with asyncio.timeout(60):  # a bound on a failure, not a timing claim
                answers = await asyncio.gather(*(ask() for _ in range(1000)))
    assert {status for status, _ in answers} == {200}
    assert all([w["worker"] for w in body["workers"]] == [0, 1] for _, body in answers)


def test_workers_need_a_shared_feed() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "pushlab.servers", "websocket", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert answer.returncode == 2
    assert "--feed redis://" in answer.stderr


def test_a_client_resumes_after_a_server_restart_with_nothing_lost(redis_url: str) -> None:  # noqa: F811
    with server_process("longpoll", "--feed", redis_url) as url:
        port = int(url.rsplit(":", 1)[1])
        for text in ("one", "two", "three"):
            post_text(url, text)
        feed_id = stats(port)["feed_id"]
    with server_process("longpoll", "--feed", redis_url) as url:
        port = int(url.rsplit(":", 1)[1])
        assert stats(port)["feed_id"] == feed_id
        answer = get_json(url + "/poll?since=1&timeout=0")
        assert [m["text"] for m in answer["messages"]] == ["two", "three"]


def test_hung_up_long_polls_release_their_waiters_with_the_redis_feed(
    redis_url: str,  # noqa: F811
) -> None:
    with server_process("longpoll", "--feed", redis_url) as url:
        port = int(url.rsplit(":", 1)[1])
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
        for sock in clients:
            sock.sendall(b"GET /poll?since=0&timeout=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert wait_for(port, "clients_connected", 10)["clients_connected"] == 10
        for sock in clients:
            sock.close()
        assert wait_for(port, "clients_connected", 0)["clients_connected"] == 0


def test_the_publisher_is_set_through_any_worker_and_runs_in_worker_0(
    redis_url: str,  # noqa: F811
) -> None:
    with server_process("sse", "--workers", "2", "--feed", redis_url) as url:
        first, second = worker_urls(url, redis_url, "sse")
        body = json.dumps({"publish_rate": 0.5}).encode()
        request = urllib.request.Request(second + "/publisher", body, JSON, method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert json.load(answer)["publish_rate"] == 0.5
        own = [get_json(worker + "/stats/self")["publish_rate"] for worker in (first, second)]
        assert own == [0.5, 0.0]


def test_an_unreachable_feed_is_a_one_line_error() -> None:
    from pushlab.bench.measuring.redis_server import free_port

    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    answer = subprocess.run(
        [sys.executable, "-m", "pushlab.servers", "sse", "--port", "0", "--feed", nowhere],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert answer.returncode == 1
    assert "cannot reach the feed at redis://" in answer.stderr
    assert "Traceback" not in answer.stderr
