"""Locust users for the peer servers (issue 14): the same cursor, latency and id checks as
pushlab's own users, over each peer's protocol.

The textbook loop and ``websockets.broadcast()`` speak plain WebSocket, aiohttp-sse speaks
plain SSE and the constant poll handler answers polls, so their users are pushlab's users under
another name. python-socketio speaks
Engine.IO v4 (``clients/engineio.py``): its users open a session, connect to the main
namespace, answer the server's pings and read ``42["message", …]`` events, over WebSocket, over
HTTP long polling, or over polling first with the upgrade to WebSocket (the default row).
Every request they make is Locust's (the polls, the pongs, the upgrade), so pings and
protocol packets show in the requests and bytes, as they cost a real deployment too.
"""

from __future__ import annotations

import contextlib
import time

import gevent
import websocket
from locust import constant, task

from pushlab.bench.measuring.locustfile import (
    LongPollUser,
    PollingUser,
    PushlabUser,
    SSEUser,
    WebSocketUser,
)
from pushlab.clients import engineio
from pushlab.clients.engineio import PacketType, SocketIOType
from pushlab.techniques import PEER_NAMES

SOCKETIO_PATH = "/socket.io/"
TEXT_PLAIN = {"Content-Type": "text/plain;charset=UTF-8"}


class BaselineWebSocketUser(WebSocketUser):
    """The textbook broadcast loop's client: pushlab's WebSocket user under the peer's name."""

    technique = "baseline-websocket"


class WebsocketsBroadcastUser(WebSocketUser):
    """``websockets.broadcast()``'s client (its ``/ws`` redirects once to the library's port)."""

    technique = "websockets-broadcast"


class AiohttpSSEUser(SSEUser):
    """aiohttp-sse's client: pushlab's SSE user (the decoder takes its CRLF line ends)."""

    technique = "aiohttp-sse"


class StarletteWebSocketUser(WebSocketUser):
    """Starlette's WebSocket endpoint on uvicorn: pushlab's WebSocket user under its name."""

    technique = "starlette-websocket"


class SSEStarletteUser(SSEUser):
    """sse-starlette on uvicorn: pushlab's SSE user under its name."""

    technique = "sse-starlette"


class PicowsUser(WebSocketUser):
    """picows's client (its ``/ws`` redirects once to the library's port)."""

    technique = "picows"


class TornadoLongPollUser(LongPollUser):
    """Tornado's chat-demo long polling: pushlab's long-polling user under its name."""

    technique = "tornado-longpoll"


class NodeWsUser(WebSocketUser):
    """Node.js ``ws``: pushlab's WebSocket user under its name."""

    technique = "node-ws"


class BaselinePollingUser(PollingUser):
    """The constant poll handler's client: pushlab's polling user under the peer's name."""

    technique = "baseline-polling"


class SocketIOUser(PushlabUser):
    """What the three Socket.IO users share: an Engine.IO session and its packets."""

    abstract = True
    wait_time = constant(0)
    sid: str | None = None
    ws: websocket.WebSocket | None = None

    def query(self, transport: str) -> str:
        sid = "" if self.sid is None else f"&sid={self.sid}"
        return f"{SOCKETIO_PATH}?EIO={engineio.PROTOCOL_VERSION}&transport={transport}{sid}"

    def handle(self, packet: engineio.Packet, received_at: float, size_bytes: int) -> None:
        """One packet from the server: a ping is answered, an event is a delivery."""
        if packet.type is PacketType.PING:
            self.send(engineio.Packet(PacketType.PONG))
        elif packet.type is PacketType.CLOSE:
            raise ConnectionError("the server closed the Engine.IO session")
        elif engineio.socketio_type(packet) is SocketIOType.CONNECT:
            self.namespace_connected()
        else:
            event = engineio.event_of(packet)
            if event is not None and event[0] == "message":
                self.deliver(event[1][0], received_at, size_bytes)

    def namespace_connected(self) -> None:
        if self.connected_at is None:
            self.connected_at = time.time()

    def send(self, packet: engineio.Packet) -> None:
        """Over the WebSocket once there is one, else as a long-polling POST."""
        if self.ws is not None:
            self.ws.send(packet.encode())
            return
        self.client.post(
            self.query(engineio.POLLING_TRANSPORT),
            data=packet.encode(),
            headers=TEXT_PLAIN,
            name=f"{SOCKETIO_PATH} (post)",
        )

    def open_websocket(self) -> None:
        url = "ws" + self.host.removeprefix("http") + self.query(engineio.WEBSOCKET_TRANSPORT)
        started = time.perf_counter()
        self.ws = websocket.create_connection(
            url, timeout=self.network_timeout, skip_utf8_validation=True
        )
        self.environment.events.request.fire(
            request_type="WS",
            name=f"{SOCKETIO_PATH} (upgrade)",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=None,
            context={"user": self.number},
        )

    def poll(self) -> None:
        """One long-polling GET: the server holds it until it has packets (or a ping)."""
        response = self.client.get(
            self.query(engineio.POLLING_TRANSPORT), name=f"{SOCKETIO_PATH} (poll)"
        )
        received_at = time.time()
        if response.status_code != 200:
            raise ConnectionError(f"{SOCKETIO_PATH} answered HTTP {response.status_code}")
        packets = engineio.decode_payload(response.text)
        size_bytes = len(response.content) // max(len(packets), 1)
        for packet in packets:
            if packet.type is PacketType.OPEN:
                self.sid = packet.json()["sid"]
            else:
                self.handle(packet, received_at, size_bytes)

    def receive_frame(self) -> None:
        assert self.ws is not None
        frame = self.ws.recv()  # the greenlet sleeps here until the server sends
        received_at = time.time()
        packet = engineio.decode_packet(frame)
        if packet.type is PacketType.OPEN:
            self.sid = packet.json()["sid"]
            self.send(engineio.socketio_connect())
        else:
            self.handle(packet, received_at, len(frame))

    def connect(self) -> None:
        """Open a session, and connect to the main namespace, over this user's transport."""
        raise NotImplementedError

    @task
    def receive(self) -> None:
        try:
            if self.sid is None:
                self.connect()
            elif self.ws is not None:
                self.receive_frame()
            else:
                self.poll()
        except (websocket.WebSocketException, OSError, ValueError) as error:
            self.report_failure("EIO", SOCKETIO_PATH, error)
            self.close()
            self.disconnects += 1
            gevent.sleep(self.backoff.next_wait_s())  # no resume: peers start at the present

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(websocket.WebSocketException, OSError):
                self.ws.close(timeout=0.2)
        self.ws, self.sid = None, None

    def on_stop(self) -> None:
        self.close()


class SocketIOWebSocketUser(SocketIOUser):
    """Engine.IO over WebSocket only: the open packet, ``40``, then frames."""

    technique = "socketio-websocket"

    def connect(self) -> None:
        self.open_websocket()
        while self.connected_at is None or self.sid is None:
            self.receive_frame()


class SocketIOPollingUser(SocketIOUser):
    """Engine.IO over HTTP long polling only: ``GET`` to receive, ``POST`` to send."""

    technique = "socketio-polling"

    def connect(self) -> None:
        self.poll()  # the open packet, and the session id
        self.send(engineio.socketio_connect())
        while self.connected_at is None:
            self.poll()


class SocketIODefaultUser(SocketIOPollingUser):
    """A browser's default: start with long polling, then probe and upgrade to WebSocket."""

    technique = "socketio-default"

    def connect(self) -> None:
        super().connect()
        self.connected_at = None  # ready once upgraded, as a browser's client would be
        self.open_websocket()  # with the polling session's sid
        assert self.ws is not None
        self.ws.send(engineio.Packet(PacketType.PING, engineio.PROBE).encode())
        while engineio.decode_packet(self.ws.recv()) != engineio.Packet(
            PacketType.PONG, engineio.PROBE
        ):
            pass
        self.ws.send(engineio.Packet(PacketType.UPGRADE).encode())
        self.namespace_connected()


class NodeSocketIOUser(SocketIODefaultUser):
    """Node.js Socket.IO 4 as a browser meets it: polling first, then the upgrade."""

    technique = "node-socketio"


PEER_USERS: dict[str, type[PushlabUser]] = {
    user.technique: user
    for user in (
        BaselineWebSocketUser,
        WebsocketsBroadcastUser,
        SocketIOWebSocketUser,
        SocketIODefaultUser,
        SocketIOPollingUser,
        AiohttpSSEUser,
        StarletteWebSocketUser,
        SSEStarletteUser,
        PicowsUser,
        TornadoLongPollUser,
        NodeWsUser,
        NodeSocketIOUser,
        BaselinePollingUser,
    )
}
"""Each peer's Locust user, by the peer's name (``pushlab.techniques.PEERS``)."""

assert tuple(PEER_USERS) == PEER_NAMES, "every peer in pushlab.techniques needs its user here"
