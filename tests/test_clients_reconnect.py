"""The terminal clients after a break: they wait (capped backoff), reconnect, resume from the
cursor, notice a restarted server, and say honestly what happened.

Breaks are real: the client talks to the server through ``pushlab.netem``'s emulator, and the
test stops it (every connection reset, nothing listening) or drops its connections. The test
waits for what the client prints ("connection broken"), never for a time.
"""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
import time
from typing import Any

import pytest
from aiohttp import web

from pushlab.clients.conversation import converse
from pushlab.netem import NetworkEmulator
from pushlab.reconnect_policy import ReconnectPolicy
from pushlab.servers.app import make_app
from pushlab.servers.config import ServerConfig
from pushlab.servers.feed import Feed
from pushlab.servers.runner import start
from pushlab.techniques import NAMES as TECHNIQUES
from tests.conftest import LISTENING

QUICK = ReconnectPolicy(first_wait_s=0.01, cap_s=0.05)


class Transcript(io.StringIO):
    """Output that fires an event when a marker appears in it."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        self.changed.set()
        return written

    async def shows(self, marker: str, times: int = 1) -> None:
        async with asyncio.timeout(20):
            while self.getvalue().count(marker) < times:
                self.changed.clear()
                await self.changed.wait()


async def serve(technique: str, feed: Feed, port: int = 0):
    config = ServerConfig(publish_rate=0, sse_retry_ms=10)  # SSE clients wait at least this
    app = make_app(technique, config, feed=feed)
    return await start(app, "127.0.0.1", port)


def talk_through(port: int, technique: str, out: Transcript, **options: Any) -> asyncio.Task:
    """The client, through the emulator on ``port``, patient enough for any test's break."""
    options = {"since": 0, "retries": 50, "reconnect": QUICK, **options}
    return asyncio.create_task(converse(technique, f"http://127.0.0.1:{port}", out=out, **options))


async def cut_off(emulator: NetworkEmulator, out: Transcript) -> None:
    """Reset every connection and stop listening; return once the client saw the break."""
    await emulator.stop()
    await out.shows("connection broken")


def received_ids(text: str) -> list[int]:
    """The ids in the client's delivery lines ("1 message #3 (latency ...)")."""
    ids: list[int] = []
    for first, last in re.findall(r"messages? #(\d+)(?:–#(\d+))? \(latency", text):
        ids.extend(range(int(first), int(last or first) + 1))
    return ids


@pytest.mark.parametrize("technique", TECHNIQUES)
async def test_a_broken_connection_resumes_from_the_cursor_with_nothing_missing(technique):
    feed = Feed(1000)
    server = await serve(technique, feed)
    emulator = await NetworkEmulator("127.0.0.1", server.port).start()
    port = emulator.port
    out = Transcript()
    interval_s = 0.01 if technique == "polling" else None
    talk = talk_through(port, technique, out, count=5, interval_s=interval_s)
    for n in (1, 2):
        await feed.publish(f"before {n}")
    await out.shows("#2")

    await cut_off(emulator, out)
    for n in (3, 4, 5):
        await feed.publish(f"during the break {n}")
    emulator = await NetworkEmulator("127.0.0.1", server.port, listen_port=port).start()
    summary = await talk
    await emulator.stop()
    await server.stop()

    text = out.getvalue()
    assert summary.error is None and summary.stopped_by == "count", text
    assert sorted(received_ids(text)) == [1, 2, 3, 4, 5], text
    assert summary.reconnects >= 1 and summary.from_history == 3, text
    assert "resuming from the cursor, since=2" in text
    assert "reconnecting (attempt 1 of 50)" in text
    if technique == "sse":
        assert "Last-Event-ID: 2" in text  # the browser's way of resuming
    if technique == "websocket":
        assert "without a close frame" in text and "1006" not in text


async def test_without_resume_the_messages_of_the_break_never_arrive():
    feed = Feed(1000)
    server = await serve("websocket", feed)
    emulator = await NetworkEmulator("127.0.0.1", server.port).start()
    port = emulator.port
    out = Transcript()
    talk = talk_through(port, "websocket", out, count=2, resume=False)
    await feed.publish("before")
    await out.shows("#1")
    await cut_off(emulator, out)
    await feed.publish("lost in the break")
    emulator = await NetworkEmulator("127.0.0.1", server.port, listen_port=port).start()
    await out.shows("101 Switching Protocols", 2)  # back, from the present (since=2)
    await feed.publish("after")
    summary = await talk
    await emulator.stop()
    await server.stop()

    assert received_ids(out.getvalue()) == [1, 3]
    assert "without resuming (--no-resume): starting from the present, since=2" in out.getvalue()
    assert summary.from_history == 0


@pytest.mark.parametrize("technique", ["longpoll", "websocket", "sse"])
async def test_a_restarted_server_is_noticed_and_the_client_starts_again_from_zero(technique):
    old_feed = Feed(1000)
    server = await serve(technique, old_feed)
    server_port = server.port
    emulator = await NetworkEmulator("127.0.0.1", server_port).start()
    port = emulator.port
    out = Transcript()
    talk = talk_through(port, technique, out, count=3)
    for n in (1, 2):
        await old_feed.publish(f"old {n}")
    await out.shows("#2")

    await cut_off(emulator, out)
    await server.stop()
    new_feed = Feed(1000)
    server = await serve(technique, new_feed, server_port)
    await new_feed.publish("new 1")
    emulator = await NetworkEmulator("127.0.0.1", server_port, listen_port=port).start()
    summary = await talk
    await emulator.stop()
    await server.stop()

    text = out.getvalue()
    assert summary.error is None, text
    assert "the server restarted" in text and "since=0 instead of since=2" in text
    assert "messages of the old feed after #2, if there were any, are lost" in text
    assert received_ids(text) == [1, 2, 1]


async def test_a_break_past_the_retries_is_one_honest_error():
    feed = Feed(1000)
    server = await serve("websocket", feed)
    emulator = await NetworkEmulator("127.0.0.1", server.port).start()
    out = Transcript()
    talk = asyncio.create_task(
        converse("websocket", f"http://127.0.0.1:{emulator.port}", out=out, retries=0)
    )
    await out.shows("101 Switching Protocols")

    emulator.drop()
    summary = await talk
    await emulator.stop()
    await server.stop()

    assert summary.stopped_by == "error"
    assert summary.error is not None and "without a close frame" in summary.error
    assert "gave up after 0 reconnect attempts" in summary.error
    assert "1006" not in out.getvalue()


@pytest.mark.parametrize(
    ("technique", "connected"),
    [("websocket", "101 Switching Protocols"), ("sse", "200 text/event-stream")],
)
def test_a_killed_server_is_reported_in_one_line_with_a_failure_exit(technique, connected):
    """The real processes: SIGKILL leaves no close frame and no end of stream behind."""
    server = subprocess.Popen(
        [sys.executable, "-m", "pushlab.servers", technique, "--port", "0", "--rate", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    url = LISTENING.search(server.stdout.readline()).group(1)  # type: ignore[union-attr]
    client = subprocess.Popen(
        [sys.executable, "-m", "pushlab.clients", technique, "--url", url, "--retries", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None
        for line in client.stdout:
            if connected in line:
                break
        server.kill()
        stdout, stderr = client.communicate(timeout=30)
    finally:
        server.kill()
        server.wait()
        client.kill()
        client.wait()

    assert client.returncode == 1
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert "connection broken" in stdout and "1006" not in stdout + stderr
    if technique == "websocket":
        assert "without a close frame" in stderr


async def test_an_sse_client_waits_at_least_the_servers_retry_time():
    """A browser's EventSource waits the stream's ``retry:``; the terminal client no less."""
    feed = Feed(1000)
    app = make_app("sse", ServerConfig(publish_rate=0, sse_retry_ms=300), feed=feed)
    server = await start(app, "127.0.0.1", 0)
    emulator = await NetworkEmulator("127.0.0.1", server.port).start()
    out = Transcript()
    talk = talk_through(emulator.port, "sse", out, retries=1)
    await out.shows("retry: 300")

    await cut_off(emulator, out)
    summary = await talk
    await server.stop()

    waits = [float(s) for s in re.findall(r"waiting (\d+\.\d+) s", out.getvalue())]
    assert waits and all(wait >= 0.3 for wait in waits)
    assert summary.stopped_by == "error"


async def test_a_cursor_ahead_of_the_feed_means_a_restart_and_since_0(aiohttp_server):
    """A server that refuses the cursor with 400 "ahead of the newest message" restarted, even
    when its /stats cannot show it (this fake one keeps its feed_id): start again from 0."""
    asked: list[str] = []

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "technique": "polling"})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"last_id": 1, "feed_id": "same"})

    async def poll(request: web.Request) -> web.Response:
        asked.append(request.query["since"])
        if request.query["since"] != "0":
            error = f"since={request.query['since']} is ahead of the newest message id 1"
            return web.json_response({"error": error}, status=400)
        message = {"id": 1, "ts": time.time(), "text": "the new feed's first"}
        return web.json_response({"messages": [message], "last_id": 1})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/stats", stats)
    app.router.add_get("/poll", poll)
    server = await aiohttp_server(app)
    out = io.StringIO()

    summary = await converse(
        "polling", str(server.make_url("")), count=1, since=7, out=out, reconnect=QUICK
    )

    assert asked == ["7", "0"]
    assert "the server restarted" in out.getvalue() and summary.messages == 1
