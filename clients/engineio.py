"""Engine.IO v4 and Socket.IO v5 packets, sans I/O: text in, packets out, and back.

Enough of the protocol for a client that listens (the bench's Socket.IO users), written from
the protocol documents (socket.io's "engine.io-protocol" v4 and "socket.io-protocol" v5):

- an Engine.IO packet is one digit, its type, then its data: ``0{"sid":…}`` open, ``1`` close,
  ``2`` ping and ``3`` pong (in v4 the *server* pings and the client answers), ``4`` message,
  ``5`` upgrade, ``6`` noop; ``2probe``/``3probe`` test a WebSocket before the upgrade;
- over HTTP long polling one body carries several packets, joined by the record separator
  ``\\x1e``; over WebSocket each frame is one packet;
- a Socket.IO packet rides inside an Engine.IO message: ``40`` connect (to the main
  namespace), ``40{"sid":…}`` its acknowledgement, ``42["event", data…]`` an event.

No sockets here: the Locust users do the I/O, and a unit test checks this codec against
python-socketio's own packet classes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

RECORD_SEPARATOR = "\x1e"
PROTOCOL_VERSION = 4  # the ``EIO=4`` query parameter
PROBE = "probe"
POLLING_TRANSPORT = "polling"
WEBSOCKET_TRANSPORT = "websocket"
"""Engine.IO's transport names (engine.io-protocol v4, "Transports"), as the ``transport=``
query parameter and python-socketio's ``transports=`` carry them. Engine.IO's words, not
pushlab's technique names: its "polling" is HTTP *long* polling."""


class PacketType(IntEnum):
    """Engine.IO packet types (engine.io-protocol v4, "Packet types")."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


class SocketIOType(IntEnum):
    """Socket.IO packet types carried in an Engine.IO message (socket.io-protocol v5)."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4


@dataclass(frozen=True, slots=True)
class Packet:
    """One Engine.IO packet; ``data`` is its text after the type digit."""

    type: PacketType
    data: str = ""

    def encode(self) -> str:
        return f"{int(self.type)}{self.data}"

    def json(self) -> Any:
        """The data as JSON (an open packet's handshake, a Socket.IO event's arguments)."""
        return json.loads(self.data)


def decode_packet(text: str) -> Packet:
    """One packet from its text, or a ``ValueError`` naming what is wrong."""
    if not text or not text[0].isdigit():
        raise ValueError(f"not an Engine.IO packet: {text[:40]!r}")
    try:
        return Packet(PacketType(int(text[0])), text[1:])
    except ValueError:
        raise ValueError(f"unknown Engine.IO packet type {text[0]!r}") from None


def encode_payload(packets: list[Packet]) -> str:
    """A long-polling body: the packets' texts joined by the record separator."""
    return RECORD_SEPARATOR.join(packet.encode() for packet in packets)


def decode_payload(body: str) -> list[Packet]:
    """The packets of a long-polling body (an empty body holds none)."""
    return [decode_packet(text) for text in body.split(RECORD_SEPARATOR)] if body else []


def socketio_connect(namespace: str = "/") -> Packet:
    """``40``: connect to a namespace (the main one unless told)."""
    prefix = "" if namespace == "/" else f"{namespace},"
    return Packet(PacketType.MESSAGE, f"{int(SocketIOType.CONNECT)}{prefix}")


def socketio_event(event: str, *args: Any) -> Packet:
    """``42["event", …]``: emit an event on the main namespace."""
    body = json.dumps([event, *args], separators=(",", ":"))
    return Packet(PacketType.MESSAGE, f"{int(SocketIOType.EVENT)}{body}")


def socketio_type(packet: Packet) -> SocketIOType | None:
    """The Socket.IO type of an Engine.IO message (None for any other packet)."""
    if packet.type is not PacketType.MESSAGE or not packet.data[:1].isdigit():
        return None
    return SocketIOType(int(packet.data[0]))


def event_of(packet: Packet) -> tuple[str, list[Any]] | None:
    """``("message", [data])`` from ``42["message",data]`` on the main namespace; else None."""
    if socketio_type(packet) is not SocketIOType.EVENT:
        return None
    body = packet.data[1:]
    if body[:1] != "[":  # "/admin,[...]" (another namespace) or an ack id first
        start = body.find("[")
        if start < 0 or body[:1] == "/":
            return None
        body = body[start:]
    name, *args = json.loads(body)
    return name, args
