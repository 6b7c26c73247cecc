"""clients.keepalive: the same GETs over one kept-alive connection, then one connection each,
confirmed by the server's own connection counter."""

from __future__ import annotations

import asyncio
import io
import socket

import pytest

from pushlab.clients.keepalive import keepalive
from pushlab.clients.target import ClientFailure
from pushlab.servers.app import FEED


async def run_keepalive(url: str, n: int, lang: str = "en") -> tuple[object, str]:
    out = io.StringIO()
    result = await asyncio.to_thread(keepalive, url, n, out, lang)
    return result, out.getvalue()


async def test_keep_alive_uses_one_connection_and_close_one_per_request(start_server):
    server = await start_server("polling")
    result, text = await run_keepalive(f"{server.url}/poll", 4)

    assert result.keep_alive.connections_opened == 1
    assert len(set(result.keep_alive.local_ports)) == 1
    assert result.close.connections_opened == 4
    assert result.keep_alive.statuses == result.close.statuses == [200] * 4
    assert "tcp_connections_opened: " in text
    assert len(text.split("What this shows:\n")[1].splitlines()) == 2


async def test_lang_zh_says_what_it_shows_in_chinese(start_server):
    server = await start_server("polling")
    _, text = await run_keepalive(f"{server.url}/poll", 1, lang="zh")

    assert "说明了什么：（What this shows:）" in text
    assert "长连接省去了建立连接的开销" in text


async def test_a_bare_poll_path_starts_at_the_newest_message(start_server):
    server = await start_server("polling")
    for number in range(5):
        await server.app[FEED].publish(f"old {number}")
    result, _ = await run_keepalive(f"{server.url}/poll", 1)
    assert result.target == "/poll?since=5"


async def test_on_a_long_polling_server_the_requests_are_not_held(start_server):
    server = await start_server("longpoll")
    result, _ = await run_keepalive(f"{server.url}/poll", 2)
    assert result.target == "/poll?since=0&timeout=0"
    assert result.close.connections_opened == 2


async def test_a_refused_port_is_one_clear_failure():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ClientFailure, match="Connection refused"):
        await run_keepalive(f"http://127.0.0.1:{port}/poll", 2)


async def test_a_path_that_answers_an_error_is_refused_not_reported_as_a_demo(start_server):
    server = await start_server("websocket")
    with pytest.raises(ClientFailure, match="answered 426"):
        await run_keepalive(f"{server.url}/ws", 2)


async def test_an_endless_event_stream_is_refused_instead_of_hanging(start_server):
    server = await start_server("sse")
    with pytest.raises(ClientFailure, match="never ends"):
        await run_keepalive(f"{server.url}/events", 2)


async def test_a_non_ascii_path_is_sent_percent_encoded(start_server):
    server = await start_server("polling")
    with pytest.raises(ClientFailure, match="answered 404"):
        await run_keepalive(f"{server.url}/pöll?x=ü", 1)
