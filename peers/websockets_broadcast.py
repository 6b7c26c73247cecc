"""The ``websockets`` library's server and ``websockets.broadcast()``.

``broadcast()`` writes one message to every open connection without waiting for any of them
(the library's guide, "Broadcasting messages", explains why that is the fast and safe way):
the figure that shows what a well-kept WebSocket library achieves on this machine, beside
pushlab's server and the textbook loop.

The ``websockets`` server speaks only WebSocket, so the peer has two listeners in one
process: pushlab's aiohttp application for ``/stats``, ``/publisher`` and ``POST /messages``
on the announced port, whose ``GET /ws`` answers ``307`` with the WebSocket listener's address,
and the ``websockets`` server on a second port. Both count into one meter: the aiohttp side
through the metered site, the ``websockets`` side through ``MeteredConnection``, which hands
the library the same counting transport. So bytes are exact on both; the redirect a client
follows once when it connects is counted too (as an ``other_requests`` GET), outside the
measured window.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import websockets
from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve

from pushlab.peers.app import redirect_to, run_in_background
from pushlab.servers.keys import CONFIG, FEED, METER, TECHNIQUE_PATHS
from pushlab.servers.metering import CountingTransport, Meter

SERVER = web.AppKey("websockets_server", Server)


def metered_connection(meter: Meter) -> type[ServerConnection]:
    """A ``ServerConnection`` (websockets' asyncio protocol) that counts as MeteredProtocol does."""

    class MeteredConnection(ServerConnection):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            meter.tcp_connections_opened += 1
            meter.tcp_connections_open += 1
            counting = CountingTransport(transport, meter)  # type: ignore[arg-type]
            super().connection_made(counting)  # type: ignore[arg-type]

        def data_received(self, data: bytes) -> None:
            meter.bytes_in += len(data)
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            meter.tcp_connections_open -= 1
            super().connection_lost(exc)

    return MeteredConnection


def setup(app: web.Application, name: str) -> None:
    meter = app[METER]

    async def handler(connection: ServerConnection) -> None:
        meter.requests += 1  # the upgrade, as pushlab counts one
        meter.clients_connected += 1
        try:
            await connection.wait_closed()
        finally:
            meter.clients_connected -= 1

    async def listen(app: web.Application) -> AsyncIterator[None]:
        server = await serve(
            handler,
            app[CONFIG].host,
            0,
            compression=None,  # raw frames, as the bench measures pushlab's
            create_connection=metered_connection(meter),
        )
        app[SERVER] = server
        yield
        server.close()
        await server.wait_closed()

    app.cleanup_ctx.append(listen)
    app.router.add_get("/ws", redirect_to(lambda app: app[SERVER].sockets[0].getsockname()[1]))
    app[TECHNIQUE_PATHS] = frozenset({"/messages"})  # the redirect is not the upgrade
    run_in_background(app, broadcast)


async def broadcast(app: web.Application) -> None:
    feed, meter = app[FEED], app[METER]
    async for batch in feed.follow(feed.last_id):
        for message in batch:
            connections = app[SERVER].connections
            websockets.broadcast(connections, message.json)
            meter.messages_delivered += len(connections)
