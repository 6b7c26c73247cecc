"""The independent receiver's protocols and the chunked decoder, fed bytes as a server sends
them (no server, no clock: the receive times are whatever ``time.time()`` said)."""

from __future__ import annotations

import json

import pytest

from pushlab import rfc6455
from pushlab.bench.measuring.http_chunked import ChunkedDecoder
from pushlab.bench.measuring.receiver import (
    Deliveries,
    EventStreamProtocol,
    WebSocketProtocol,
    build_parser,
)
from pushlab.rfc6455 import Frame, Opcode


class Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def message(message_id: int) -> bytes:
    return json.dumps({"id": message_id, "ts": 1.0, "text": "hi"}).encode()


async def test_the_websocket_receiver_records_text_frames_and_answers_pings() -> None:
    deliveries = Deliveries()
    deliveries.cursors.append(0)
    protocol = WebSocketProtocol(0, b"GET", deliveries)
    transport = Transport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    wire = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    wire += rfc6455.encode_frame(Frame(Opcode.TEXT, message(1)))
    wire += rfc6455.encode_frame(Frame(Opcode.PING, b"beat"))
    wire += rfc6455.encode_frame(Frame(Opcode.TEXT, message(2)))
    protocol.data_received(wire[:30])
    protocol.data_received(wire[30:])
    assert await protocol.opened == 101
    assert list(deliveries.message_id) == [1, 2]
    assert deliveries.cursors == [2]
    pong = rfc6455.decode_frame(transport.written[-1])
    assert pong is not None and pong[0] == Frame(Opcode.PONG, b"beat")


async def test_the_sse_receiver_records_message_events_only() -> None:
    deliveries = Deliveries()
    deliveries.cursors.append(0)
    protocol = EventStreamProtocol(0, b"GET", deliveries)
    protocol.connection_made(Transport())  # type: ignore[arg-type]
    body = b"retry: 1000\n\nid: 1\ndata: " + message(1) + b"\n\n"
    body += b'event: gap\ndata: {"from_id": 2, "to_id": 3}\n\n'
    chunked = b"%x\r\n%s\r\n" % (len(body), body)
    protocol.data_received(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    assert await protocol.opened == 200
    assert list(deliveries.message_id) == [1]


def test_the_chunked_decoder_joins_chunks_split_anywhere() -> None:
    wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
    decoder = ChunkedDecoder()
    body = b"".join(decoder.feed(wire[i : i + 3]) for i in range(0, len(wire), 3))
    assert body == b"hello world"
    assert decoder.ended


@pytest.mark.parametrize("wire", [b"zz\r\nhello\r\n", b"5\r\nhelloXX"])
def test_the_chunked_decoder_refuses_a_malformed_body(wire: bytes) -> None:
    with pytest.raises(ValueError):
        ChunkedDecoder().feed(wire)


def test_the_receiver_reads_only_push_techniques() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["polling", "--host", "http://127.0.0.1:8001"])
