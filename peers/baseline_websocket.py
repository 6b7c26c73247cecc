"""The textbook WebSocket broadcast loop: the reference for pushlab's WebSocket server.

A set of open ``WebSocketResponse``s; on every publish, one loop sends the message to each
socket in turn. No cursor, no resume, no per-client task: the simplest correct code, and the
figure a reader should hold pushlab's WebSocket server against (issue 14). A student can read
it in half a minute; anything pushlab spends beyond it is the price of its features.
"""

from __future__ import annotations

import contextlib

from aiohttp import web

from pushlab.peers.app import run_in_background
from pushlab.servers.keys import FEED, METER

SOCKETS = web.AppKey("baseline_sockets", set)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(compress=False)  # raw frames, as the bench measures ours
    await ws.prepare(request)
    meter = request.app[METER]
    request.app[SOCKETS].add(ws)
    meter.clients_connected += 1
    try:
        async for _frame in ws:  # reading lets aiohttp answer pings and the close handshake
            pass
    finally:
        request.app[SOCKETS].discard(ws)
        meter.clients_connected -= 1
    return ws


async def broadcast(app: web.Application) -> None:
    feed, meter = app[FEED], app[METER]
    async for batch in feed.follow(feed.last_id):
        for message in batch:
            for ws in list(app[SOCKETS]):
                with contextlib.suppress(ConnectionError):
                    await ws.send_str(message.json)
                    meter.messages_delivered += 1


def setup(app: web.Application, name: str) -> None:
    app[SOCKETS] = set()
    app.router.add_get("/ws", websocket)
    run_in_background(app, broadcast)
