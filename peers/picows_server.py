"""picows: a WebSocket library written in Cython for asyncio, among the fastest there is.

Its server hands each connection to a ``WSListener`` whose callbacks run straight from the
protocol's ``data_received``: no task and no future per connection. The broadcast encodes a
message once and calls ``transport.send`` on every open connection, which frames and writes at
once. That is the floor of what an asyncio WebSocket server can do per message, as the peer
``websockets.broadcast()`` is for a pure-Python library.

picows speaks only WebSocket (its handshake takes ``GET`` without a body), so the peer has two
listeners in one process, as ``websockets_broadcast.py`` does: pushlab's aiohttp application
for ``/stats``, ``/publisher`` and ``POST /messages`` on the announced port, whose ``GET /ws``
answers ``307`` with picows's address, and picows on a second port. picows writes to its
transport from compiled code, so its bytes are counted by the listener, frame by frame
(RFC 6455 §5.2 header sizes): exact in the measured window, where only frames cross; its
handshakes are not counted (they happen before the window).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

from pushlab.peers.app import redirect_to, run_in_background
from pushlab.servers.keys import CONFIG, FEED, METER, TECHNIQUE_PATHS
from pushlab.servers.metering import Meter

SERVER = web.AppKey("picows_server", asyncio.Server)
OPEN = web.AppKey("picows_open", set)
MASK_BYTES = 4  # a client's frames are masked (RFC 6455 §5.3)


def frame_header_bytes(payload_bytes: int) -> int:
    """The size of an unmasked frame's header for a payload this long (RFC 6455 §5.2)."""
    if payload_bytes < 126:
        return 2
    return 4 if payload_bytes < 2**16 else 10


class Listener(WSListener):
    """One client: counted in and out of the set the broadcast writes to."""

    def __init__(self, meter: Meter, open_transports: set[WSTransport]) -> None:
        super().__init__()
        self.meter, self.open = meter, open_transports

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.meter.requests += 1  # the upgrade, as pushlab counts one
        self.meter.tcp_connections_opened += 1
        self.meter.tcp_connections_open += 1
        self.meter.clients_connected += 1
        self.open.add(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        size = frame.payload_size
        self.meter.bytes_in += frame_header_bytes(size) + MASK_BYTES + size
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.meter.tcp_connections_open -= 1
        self.meter.clients_connected -= 1
        self.open.discard(transport)


def setup(app: web.Application, name: str) -> None:
    meter = app[METER]
    app[OPEN] = set()

    def listener_for(request: WSUpgradeRequest) -> Listener:
        return Listener(meter, app[OPEN])

    async def listen(app: web.Application) -> AsyncIterator[None]:
        server = await ws_create_server(listener_for, app[CONFIG].host, 0)
        app[SERVER] = server
        yield
        server.close()
        for transport in list(app[OPEN]):
            transport.disconnect()
        await server.wait_closed()

    app.cleanup_ctx.append(listen)
    app.router.add_get("/ws", redirect_to(lambda app: app[SERVER].sockets[0].getsockname()[1]))
    app[TECHNIQUE_PATHS] = frozenset({"/messages"})  # the redirect is not the upgrade
    run_in_background(app, broadcast)


async def broadcast(app: web.Application) -> None:
    feed, meter, open_transports = app[FEED], app[METER], app[OPEN]
    async for batch in feed.follow(feed.last_id):
        for message in batch:
            payload = message.json_bytes
            for transport in open_transports:
                transport.send(WSMsgType.TEXT, payload)
            meter.messages_delivered += len(open_transports)
            meter.bytes_out += len(open_transports) * (
                frame_header_bytes(len(payload)) + len(payload)
            )
