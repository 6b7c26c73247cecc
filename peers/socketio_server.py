"""python-socketio's ``AsyncServer`` on aiohttp: what many deploy for "push to the browser".

Three rows of the bench, one module: ``socketio-polling`` restricts Engine.IO to its HTTP long
polling transport, ``socketio-websocket`` to WebSocket, and ``socketio-default`` lets it start
with polling and upgrade to WebSocket, as a browser client does by default. A background task
emits every published message to every client as the event ``message``. Engine.IO's pings,
its open packet and the Socket.IO connect are real traffic: the metering layer counts their
bytes, and in the polling rows every GET and POST on ``/socket.io/`` counts as a request.

``messages_delivered`` is the server's view: one per connected client per emit (what it hands
to Engine.IO); the Locust user's receipts are the delivered count that the report uses.
"""

from __future__ import annotations

import socketio
from aiohttp import web

from pushlab.clients.engineio import POLLING_TRANSPORT, WEBSOCKET_TRANSPORT
from pushlab.peers.app import run_in_background
from pushlab.servers.keys import FEED, METER

TRANSPORTS = {
    "socketio-polling": [POLLING_TRANSPORT],
    "socketio-websocket": [WEBSOCKET_TRANSPORT],
    "socketio-default": [POLLING_TRANSPORT, WEBSOCKET_TRANSPORT],
}
SERVER = web.AppKey("socketio_server", socketio.AsyncServer)


def setup(app: web.Application, name: str) -> None:
    meter = app[METER]
    sio = socketio.AsyncServer(async_mode="aiohttp", transports=TRANSPORTS[name])
    sio.attach(app)  # adds /socket.io/
    app[SERVER] = sio

    @sio.event
    async def connect(sid: str, environ: dict[str, object]) -> None:
        meter.clients_connected += 1

    @sio.event
    async def disconnect(sid: str, reason: str) -> None:
        meter.clients_connected -= 1

    run_in_background(app, emit_published)


async def emit_published(app: web.Application) -> None:
    feed, meter, sio = app[FEED], app[METER], app[SERVER]
    async for batch in feed.follow(feed.last_id):
        for message in batch:
            await sio.emit("message", {"id": message.id, "ts": message.ts, "text": message.text})
            meter.messages_delivered += meter.clients_connected
