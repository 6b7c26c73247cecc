"""A Starlette (FastAPI) WebSocket endpoint on uvicorn: what a FastAPI user deploys.

The broadcast is the one FastAPI's documentation teaches ("WebSockets", the
``ConnectionManager``): a list of accepted sockets, and for each message ``await
websocket.send_text(text)`` on each of them in turn. The endpoint accepts, joins the list and
reads until the client leaves. A background task follows the feed and broadcasts each message,
encoded once (the feed's JSON), so the row measures the framework's send path. uvicorn runs with
its default choices (``peers/uvicorn_server.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from pushlab.peers import uvicorn_server
from pushlab.peers.background import background
from pushlab.peers.control import Control

LOOP = "uvicorn"  # uvicorn's default loop (uvloop when installed)


class ConnectionManager:
    """FastAPI's documented broadcast: every accepted socket, written to one after another."""

    def __init__(self, control: Control) -> None:
        self.active: list[WebSocket] = []
        self.meter = control.meter

    async def endpoint(self, websocket: WebSocket) -> None:
        self.meter.requests += 1  # the upgrade, as pushlab counts one
        await websocket.accept()
        self.active.append(websocket)
        self.meter.clients_connected += 1
        try:
            while True:
                await websocket.receive_text()  # the clients send nothing; this waits for close
        except WebSocketDisconnect:
            pass
        finally:
            self.meter.clients_connected -= 1
            with contextlib.suppress(ValueError):
                self.active.remove(websocket)

    async def broadcast(self, text: str) -> None:
        for websocket in list(self.active):
            try:
                await websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                continue  # it left while we wrote: its endpoint removes it
            self.meter.messages_delivered += 1


async def follow_feed(control: Control, manager: ConnectionManager) -> None:
    feed = control.feed
    async for batch in feed.follow(feed.last_id):
        for message in batch:
            await manager.broadcast(message.json)


@contextlib.asynccontextmanager
async def framework_server(control: Control) -> AsyncIterator[str]:
    manager = ConnectionManager(control)
    route = WebSocketRoute("/ws", manager.endpoint)
    async with (
        uvicorn_server.serve(control, [route]) as url,
        background(follow_feed(control, manager)),
    ):
        yield url
