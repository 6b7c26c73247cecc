"""The Engine.IO v4 / Socket.IO v5 codec of the bench's Socket.IO users, against
python-socketio's (and python-engineio's) own packet code."""

from __future__ import annotations

import json

import engineio.packet as eio_packet
import engineio.payload as eio_payload
import pytest
import socketio.packet as sio_packet

from pushlab.clients import engineio
from pushlab.clients.engineio import Packet, PacketType, SocketIOType

MESSAGE = {"id": 7, "ts": 1764293352.123456, "text": "héllo, \u2028 world"}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (Packet(PacketType.PING), eio_packet.Packet(eio_packet.PING)),
        (Packet(PacketType.PONG, "probe"), eio_packet.Packet(eio_packet.PONG, "probe")),
        (Packet(PacketType.UPGRADE), eio_packet.Packet(eio_packet.UPGRADE)),
        (Packet(PacketType.NOOP), eio_packet.Packet(eio_packet.NOOP)),
        (Packet(PacketType.MESSAGE, "hi"), eio_packet.Packet(eio_packet.MESSAGE, "hi")),
    ],
)
def test_engineio_packets_encode_as_python_engineio_does(ours: Packet, theirs: object) -> None:
    assert ours.encode() == theirs.encode()  # type: ignore[attr-defined]
    decoded = eio_packet.Packet(encoded_packet=ours.encode())
    assert (decoded.packet_type, decoded.data or "") == (int(ours.type), ours.data)


def test_an_open_packet_from_python_engineio_gives_its_sid() -> None:
    handshake = {"sid": "abc", "upgrades": ["websocket"], "pingInterval": 25000}
    packet = engineio.decode_packet(eio_packet.Packet(eio_packet.OPEN, handshake).encode())
    assert packet.type is PacketType.OPEN
    assert packet.json()["sid"] == "abc"


def test_a_polling_payload_splits_as_python_engineio_joins_it() -> None:
    theirs = [eio_packet.Packet(eio_packet.PING), eio_packet.Packet(eio_packet.MESSAGE, "40")]
    body = eio_payload.Payload(theirs).encode()
    assert engineio.decode_payload(body) == [
        Packet(PacketType.PING),
        Packet(PacketType.MESSAGE, "40"),
    ]
    assert engineio.encode_payload(engineio.decode_payload(body)) == body
    assert engineio.decode_payload("") == []


def test_a_socketio_event_from_python_socketio_is_read_as_the_message() -> None:
    inner = sio_packet.Packet(sio_packet.EVENT, data=["message", MESSAGE]).encode()
    packet = engineio.decode_packet(eio_packet.Packet(eio_packet.MESSAGE, inner).encode())
    assert engineio.socketio_type(packet) is SocketIOType.EVENT
    assert engineio.event_of(packet) == ("message", [MESSAGE])


def test_our_event_and_connect_decode_in_python_socketio() -> None:
    event = sio_packet.Packet(encoded_packet=engineio.socketio_event("message", MESSAGE).data)
    assert (event.packet_type, event.data) == (sio_packet.EVENT, ["message", MESSAGE])
    connect = sio_packet.Packet(encoded_packet=engineio.socketio_connect().data)
    assert connect.packet_type == sio_packet.CONNECT
    assert connect.namespace in (None, "/")  # python-socketio leaves the main one unnamed


def test_a_connect_acknowledgement_is_not_an_event() -> None:
    ack = sio_packet.Packet(sio_packet.CONNECT, data={"sid": "x"}).encode()
    packet = engineio.decode_packet("4" + ack)
    assert engineio.socketio_type(packet) is SocketIOType.CONNECT
    assert engineio.event_of(packet) is None


def test_an_event_of_another_namespace_is_not_ours() -> None:
    other = sio_packet.Packet(sio_packet.EVENT, data=["message", 1], namespace="/admin").encode()
    assert engineio.event_of(engineio.decode_packet("4" + other)) is None


@pytest.mark.parametrize("text", ["", "x", "9", "hello"])
def test_what_is_not_a_packet_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"Engine\.IO"):
        engineio.decode_packet(text)


def test_event_arguments_keep_json_types() -> None:
    packet = engineio.socketio_event("message", MESSAGE)
    assert json.loads(packet.data[1:]) == ["message", MESSAGE]
