"""The four terminal clients against live servers of their technique (in-process, through the
production runner), called from Python as a notebook would."""

from __future__ import annotations

import asyncio
import io
import re
import socket

import pytest

from pushlab.clients.conversation import converse
from pushlab.clients.target import ClientFailure
from pushlab.servers.app import FEED, METER
from pushlab.techniques import NAMES as TECHNIQUES
from tests.conftest import until

FIRST_LINE = {
    "polling": "→ GET /poll?since=0",
    "longpoll": "→ GET /poll?since=0&timeout=25",
    "websocket": "→ GET /ws?since=0  Upgrade: websocket",
    "sse": "→ GET /events?since=0  Accept: text/event-stream",
}


class Transcript(io.StringIO):
    """Output that sets ``stop`` once ``lines_wanted`` lines contain ``marker`` (the test's
    Ctrl-C, synchronised on what the client has printed)."""

    def __init__(self, marker: str, lines_wanted: int, stop: asyncio.Event) -> None:
        super().__init__()
        self.marker, self.lines_wanted, self.stop = marker, lines_wanted, stop

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.getvalue().count(self.marker) >= self.lines_wanted:
            self.stop.set()
        return written


@pytest.mark.parametrize("technique", TECHNIQUES)
async def test_count_stops_after_n_messages_with_a_summary(start_server, technique):
    server = await start_server(technique)
    for number in range(3):
        await server.app[FEED].publish(f"waiting {number}")
    out = io.StringIO()

    summary = await converse(technique, server.url, count=3, since=0, out=out)

    assert summary.stopped_by == "count" and summary.error is None
    assert summary.messages == 3 and len(summary.latencies_ms) == 3
    assert summary.mean_latency_ms is not None and summary.mean_latency_ms >= 0
    assert summary.last_id == 3
    text = out.getvalue()
    assert FIRST_LINE[technique] in text.splitlines()[0]
    assert re.search(r"^\+\s*\d+\.\d{3}s [→←] ", text, re.MULTILINE)
    assert "summary: " in text and "counted at this client's socket" in text
    assert "\x1b[" not in text  # not a terminal: no colour


@pytest.mark.parametrize("technique", TECHNIQUES)
async def test_bytes_equal_what_the_server_counted_at_its_socket(start_server, technique):
    server = await start_server(technique)
    for number in range(2):
        await server.app[FEED].publish(f"counted {number}")
    meter = server.app[METER]

    summary = await converse(technique, server.url, count=2, since=0, out=io.StringIO())
    await until(lambda: meter.tcp_connections_open == 0)

    assert summary.bytes_sent > 0 and summary.bytes_received > 0
    assert meter.bytes_in == summary.bytes_sent + summary.check_bytes_sent
    assert meter.bytes_out == summary.bytes_received + summary.check_bytes_received


@pytest.mark.parametrize("technique", ["longpoll", "websocket", "sse"])
async def test_a_message_published_while_connected_is_delivered(start_server, technique):
    server = await start_server(technique)
    meter = server.app[METER]
    out = io.StringIO()
    talk = asyncio.create_task(converse(technique, server.url, count=1, out=out))
    await until(lambda: meter.clients_connected == 1)  # held request or open stream

    await server.app[FEED].publish("news")
    summary = await talk

    assert summary.messages == 1 and summary.empty_answers == 0
    assert summary.requests_sent == 1
    assert "1 message #1" in out.getvalue()


async def test_polling_counts_empty_answers_until_interrupted(start_server):
    server = await start_server("polling")
    stop = asyncio.Event()
    out = Transcript("(nothing new)", 3, stop)

    summary = await converse("polling", server.url, interval_s=0.01, out=out, stop=stop)

    assert summary.stopped_by == "interrupted"
    assert summary.messages == 0 and summary.mean_latency_ms is None
    assert summary.empty_answers >= 3 and summary.requests_sent >= summary.empty_answers
    assert "stopped: interrupted (Ctrl-C)" in out.getvalue()


async def test_long_poll_timeout_is_an_empty_answer_and_the_client_asks_again(start_server):
    server = await start_server("longpoll")
    stop = asyncio.Event()
    out = Transcript("the hold timed out", 2, stop)

    summary = await converse("longpoll", server.url, hold_s=0, out=out, stop=stop)

    assert summary.empty_answers >= 2 and summary.messages == 0
    assert "→ GET /poll?since=0&timeout=0 (held until news or 0 s)" in out.getvalue()


async def test_websocket_interrupted_sends_a_close_frame(start_server):
    server = await start_server("websocket")
    stop = asyncio.Event()
    out = Transcript("101 Switching Protocols", 1, stop)

    summary = await converse("websocket", server.url, out=out, stop=stop)

    assert summary.stopped_by == "interrupted"
    assert "→ close frame 1000" in out.getvalue()


async def test_websocket_server_shutdown_ends_the_conversation(start_server):
    server = await start_server("websocket")
    meter = server.app[METER]
    out = io.StringIO()
    talk = asyncio.create_task(converse("websocket", server.url, out=out))
    await until(lambda: meter.clients_connected == 1)

    await server.stop()
    summary = await talk

    assert summary.stopped_by == "server closed"
    assert "← close frame 1001 'server shutting down'" in out.getvalue()


async def test_chinese_lines_play_the_articles_dialogue(start_server):
    server = await start_server("polling")
    await server.app[FEED].publish("你好")
    out = io.StringIO()

    await converse("polling", server.url, count=1, since=0, lang="zh", out=out)

    text = out.getvalue()
    assert "客户端：啦啦啦，有没有新信息？  GET /poll?since=0" in text
    assert "服务端：好啦好啦，有啦给你。  200，1 条消息 #1" in text
    assert "小结：" in text and "发出的请求" in text


async def test_a_server_of_another_technique_is_refused_before_talking(start_server):
    server = await start_server("sse")
    out = io.StringIO()
    with pytest.raises(ClientFailure, match="serves sse, not polling"):
        await converse("polling", server.url, count=1, out=out)
    assert out.getvalue() == ""


async def test_a_refused_connection_is_one_clear_failure():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ClientFailure, match=r"cannot connect .*Connection refused"):
        await converse("sse", f"http://127.0.0.1:{port}", count=1, out=io.StringIO())


@pytest.mark.parametrize(
    "url", ["htp://127.0.0.1:8001", "http://127.0.0.1:99999", "http://:8001", "127.0.0.1:8001"]
)
async def test_a_bad_url_is_one_clear_failure(url):
    with pytest.raises(ClientFailure, match="bad URL"):
        await converse("polling", url, count=1, out=io.StringIO())


async def test_a_server_that_disappears_mid_conversation_ends_it_with_an_error(start_server):
    server = await start_server("polling")
    stop = asyncio.Event()
    out = Transcript("(nothing new)", 1, stop)
    talk = asyncio.create_task(converse("polling", server.url, interval_s=0.01, out=out, retries=0))
    await stop.wait()

    await server.stop()
    summary = await talk

    assert summary.stopped_by == "error"
    assert summary.error and server.url in summary.error
