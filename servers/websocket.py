"""WebSocket push (RFC 6455): one upgrade, then a full-duplex channel.

The client sends one HTTP request that asks to switch protocols:

    GET /ws?since=0 HTTP/1.1
    Upgrade: websocket
    Connection: Upgrade
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
    Sec-WebSocket-Version: 13

and the server answers ``101 Switching Protocols`` with
``Sec-WebSocket-Accept = base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))`` (§4.2.2),
proving it understood the request. From then on the TCP connection carries frames, not HTTP:
the server pushes each message as one text frame the moment it is published, and the client
may send text frames (``{"text": ...}``) up the same connection at any time.

aiohttp's ``WebSocketResponse`` does the handshake. After the ``101`` the connection is handed
to pushlab's own small protocol (:mod:`pushlab.servers.websocket_connection`), which reads the
client's frames, pings and closes, so that a held client keeps only what it needs: no handler
task, no request, no aiohttp reader per client. (With ``ws_compress`` on, aiohttp's
``WebSocketResponse`` keeps the connection to the end: permessage-deflate, RFC 7692, is its,
not the small protocol's.)

Pushing is :mod:`pushlab.servers.broadcast`'s: a server's frames are unmasked (§5.1), so one
message's frame (§5.2: ``0x81``, the payload length, the payload) is the same bytes for every
client; it is built once per message (:func:`pushlab.rfc6455.frame_bytes`, the codec every part of
pushlab shares) and written to every socket in one loop.

We check the handshake ourselves first so a wrong request gets a clear answer: a plain
GET → 426 saying a WebSocket client is required; a wrong version → 426 with
``Sec-WebSocket-Version: 13`` (§4.4); a missing or malformed key → 400; a foreign ``Origin``
→ 403 (§10.2).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from pushlab.protocol import GAP_CLOSE_CODE, Gap
from pushlab.rfc6455 import VERSION, frame_bytes, is_valid_key
from pushlab.servers.broadcast import Broadcast, Subscriber
from pushlab.servers.common import json_error, parse_cursor
from pushlab.servers.feed import Message
from pushlab.servers.keys import CONFIG, FEED, HANDSHAKES, METER, SOCKETS
from pushlab.servers.rfc6455_rules import StrictWebSocketResponse, upgrade_problem
from pushlab.servers.websocket_connection import (
    UpgradeOnly,
    WebSocketConnection,
    let_go,
    publish_client_frame,
    take_over,
)
from pushlab.techniques import technique

TECHNIQUE = technique("websocket")
PATH = TECHNIQUE.path
HANDSHAKES_KEPT = 200
BROADCAST = web.AppKey("websocket_broadcast", Broadcast)


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """Same-origin by default; ``allowed`` may add exact origins, "*" or "same-host"."""
    if origin is None:
        return True  # not a browser: Origin is a browser's statement (RFC 6455 §10.2)
    if "*" in allowed or origin in allowed:
        return True
    try:
        parts = urlsplit(origin)
        host_name = urlsplit(f"//{host}").hostname if host else None
    except ValueError:  # "http://[::1" and the like: not an origin we can match
        return False
    if host and parts.netloc == host:
        return True
    return "same-host" in allowed and parts.hostname is not None and parts.hostname == host_name


def upgrade_required(message: str) -> web.Response:
    """426 must name the protocol to switch to (RFC 9110 §15.5.22), and an Upgrade header
    travels with ``Connection: Upgrade`` (RFC 9110 §7.8)."""
    response = json_error(426, message)
    response.headers["Upgrade"] = "websocket"
    response.headers["Connection"] = "Upgrade"
    return response


def handshake_problem(request: web.Request) -> web.Response | None:
    """The answer to a request that is not a valid RFC 6455 opening handshake, or None."""
    headers = request.headers
    if headers.get("Upgrade", "").lower() != "websocket":
        return upgrade_required(
            "this is a WebSocket endpoint: connect with a WebSocket client"
            " (the request needs 'Upgrade: websocket' and 'Connection: Upgrade')"
        )
    connection_tokens = {t.strip().lower() for t in headers.get("Connection", "").split(",")}
    if "upgrade" not in connection_tokens:
        return json_error(400, "a WebSocket handshake needs 'Connection: Upgrade'")
    if headers.get("Sec-WebSocket-Version") != str(VERSION):
        response = upgrade_required(
            "unsupported Sec-WebSocket-Version"
            f" {headers.get('Sec-WebSocket-Version')!r}: this server speaks version {VERSION}"
        )
        response.headers["Sec-WebSocket-Version"] = str(VERSION)  # what we speak (§4.4)
        return response
    if not is_valid_key(headers.get("Sec-WebSocket-Key", "")):
        return json_error(
            400, "Sec-WebSocket-Key must be the base64 encoding of 16 random bytes (§4.1)"
        )
    config = request.app[CONFIG]
    if not origin_allowed(headers.get("Origin"), request.host, config.allowed_origins):
        return json_error(
            403, f"WebSocket connections from Origin {headers['Origin']} are not allowed"
        )
    return None


def record_handshake(request: web.Request, ws: web.WebSocketResponse) -> None:
    handshakes, version = request.app[HANDSHAKES], request.version
    handshakes[request.query["client"]] = {
        "request_line": f"{request.method} {request.path_qs} HTTP/{version.major}.{version.minor}",
        "request_headers": [[k, v] for k, v in request.headers.items()],
        "status": 101,
        "response_headers": [[k, v] for k, v in ws.headers.items()],
    }
    while len(handshakes) > HANDSHAKES_KEPT:
        handshakes.popitem(last=False)


def message_frame(message: Message) -> bytes:
    return frame_bytes(message.json_bytes)


def gap_frame(gap: Gap) -> bytes:
    return frame_bytes(gap.frame_text().encode())


class WebSocketSubscriber(Subscriber):
    """A client that aiohttp's ``WebSocketResponse`` keeps (with ``ws_compress`` on)."""

    __slots__ = ("ws",)

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        super().__init__(request.transport, request.writer)  # type: ignore[arg-type]
        self.ws = ws

    async def fell_behind(self, gap: Gap) -> None:
        """Close with 4001 and the gap as the reason: the client resumes with since=to_id."""
        await self.ws.close(code=GAP_CLOSE_CODE, message=gap.frame_text().encode())


async def websocket(request: web.Request) -> web.StreamResponse:
    problem = upgrade_problem(request) or handshake_problem(request)
    if problem is not None:
        return problem
    cursor = parse_cursor(request)
    if request.app[CONFIG].ws_compress:
        return await compressed_websocket(request, cursor)
    ws = UpgradeOnly()
    await ws.prepare(request)  # sends 101 Switching Protocols
    if "client" in request.query:  # only a client that will ask for its handshake (the page)
        record_handshake(request, ws)
    connection = WebSocketConnection(request, request.app[BROADCAST])
    take_over(request, connection)  # from here on the socket's frames go to the connection
    try:
        await connection.join(cursor)
    finally:
        let_go(request)  # aiohttp ends this handler; the connection stays
    return ws


async def compressed_websocket(request: web.Request, cursor: int) -> web.StreamResponse:
    """The same server, with aiohttp's ``WebSocketResponse`` reading every frame."""
    config, meter = request.app[CONFIG], request.app[METER]
    ws = StrictWebSocketResponse(
        heartbeat=config.ws_heartbeat_s,
        compress=True,
        max_msg_size=config.max_message_bytes,
    )
    await ws.prepare(request)  # sends 101 Switching Protocols
    if "client" in request.query:
        record_handshake(request, ws)
    request.app[SOCKETS].add(ws)
    meter.clients_connected += 1
    broadcast, subscriber = request.app[BROADCAST], WebSocketSubscriber(request, ws)
    try:
        await broadcast.join(subscriber, cursor)
        async for frame in ws:
            if frame.type == WSMsgType.TEXT:
                error = await publish_client_frame(request.app, request.remote or "", frame.data)
                if error is not None:
                    await ws.send_json(error)
            elif frame.type == WSMsgType.BINARY:
                await ws.send_json({"error": "binary frames are not used here; send text"})
    finally:
        meter.clients_connected -= 1
        broadcast.leave(subscriber)
    return ws


async def close_sockets(app: web.Application) -> None:
    """1001 "going away" (§7.4.1) to every client at once, each close waiting for its reply."""
    closes = (ws.close(code=1001, message=b"server shutting down") for ws in list(app[SOCKETS]))
    await asyncio.gather(*closes)


def setup(app: web.Application) -> None:
    config = app[CONFIG]
    app[BROADCAST] = Broadcast(
        app[FEED], app[METER], message_frame, gap_frame, config.push_high_water_bytes
    )
    app[SOCKETS] = weakref.WeakSet()
    app[HANDSHAKES] = OrderedDict()
    app.router.add_get(PATH, websocket, allow_head=False)  # RFC 6455 §4.1: GET only
    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(stop_broadcast)


async def stop_broadcast(app: web.Application) -> None:
    app[BROADCAST].close()
