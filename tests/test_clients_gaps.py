"""The clients' half of explicit gaps: each technique's gap signal (``pushlab.protocol``) is
printed as "messages #4–#5 are gone", counted, and moves the cursor past the gap.

The servers on this branch do not emit gaps yet, so a small fake server answers with the
signal exactly as ``pushlab.protocol`` defines it, built from ``Gap`` itself.
"""

from __future__ import annotations

import io
import json
import time

import pytest
from aiohttp import web

from pushlab.clients.conversation import converse
from pushlab.protocol import GAP_CLOSE_CODE, GAP_EVENT, Gap

GAP = Gap(4, 5)
HISTORY_SIZE = 1000


def message(number: int) -> dict:
    return {"id": number, "ts": time.time(), "text": f"message {number}"}


def fake_server(technique: str, paths: list[str]) -> web.Application:
    """A server that answers ``since=3`` with the gap #4–#5 and then message #6."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "technique": technique.split("-")[0]})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"last_id": 6, "feed_id": "f", "history_size": HISTORY_SIZE})

    async def poll(request: web.Request) -> web.Response:
        paths.append(request.path_qs)
        body = {"messages": [message(6)], "last_id": 6, "gap": GAP.as_json()}
        return web.json_response(body)

    async def ws(request: web.Request) -> web.WebSocketResponse:
        paths.append(request.path_qs)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        if request.query["since"] == "3" and technique == "websocket-closing":
            await socket.close(code=GAP_CLOSE_CODE, message=GAP.frame_text().encode())
            return socket
        if request.query["since"] == "3":
            await socket.send_str(GAP.frame_text())
        await socket.send_str(json.dumps(message(6)))
        await socket.receive()
        return socket

    async def events(request: web.Request) -> web.StreamResponse:
        paths.append(request.path_qs)
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await stream.prepare(request)
        gap_data = json.dumps(GAP.as_json())
        await stream.write(f"id: {GAP.to_id}\nevent: {GAP_EVENT}\ndata: {gap_data}\n\n".encode())
        await stream.write(f"id: 6\ndata: {json.dumps(message(6))}\n\n".encode())
        return stream

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/stats", stats)
    app.router.add_get("/poll", poll)
    app.router.add_get("/ws", ws)
    app.router.add_get("/events", events)
    return app


@pytest.mark.parametrize("technique", ["polling", "longpoll", "websocket", "sse"])
async def test_a_gap_signal_is_printed_counted_and_skipped(aiohttp_server, technique):
    server = await aiohttp_server(fake_server(technique, []))
    out = io.StringIO()
    url = str(server.make_url(""))
    summary = await converse(technique, url, count=1, since=3, out=out, retries=0)

    text = out.getvalue()
    assert "messages #4–#5 are gone: the server keeps the last 1,000" in text
    assert summary.messages_gone == 2 and summary.messages == 1 and summary.last_id == 6
    assert summary.error is None


async def test_a_websocket_closed_for_a_gap_resumes_after_it(aiohttp_server):
    paths: list[str] = []
    server = await aiohttp_server(fake_server("websocket-closing", paths))
    out = io.StringIO()
    url = str(server.make_url(""))
    summary = await converse("websocket", url, count=1, since=3, out=out, retries=0, lang="zh")

    assert paths == ["/ws?since=3", "/ws?since=5"]
    assert "消息 #4–#5 已经没了：服务端只保留最近 1,000 条" in out.getvalue()
    assert summary.messages == 1 and summary.reconnects == 1
