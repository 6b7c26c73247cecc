"""After the 101, a WebSocket client is pushlab's own small protocol (issue 26): aiohttp keeps
no handler per client, and the protocol still answers every frame as RFC 6455 says."""

from __future__ import annotations

import asyncio
import json

import pytest

from pushlab import rfc6455
from pushlab.rfc6455 import Frame, Opcode
from pushlab.servers.keys import FEED, METER
from pushlab.servers.rfc6455_rules import ClientFrames, ConnectionFailure
from pushlab.servers.websocket_connection import WebSocketConnection
from tests.conftest import until
from tests.rawpush import RawClient, open_websocket, read_frame


def masked(frame: Frame) -> bytes:
    return rfc6455.encode_frame(frame, mask=True)


def chat(text: str) -> Frame:
    return Frame.text(json.dumps({"text": text}))


async def next_frame(client: RawClient, opcode: int) -> bytes:
    """The payload of the next server frame with ``opcode`` (pushed messages skipped)."""
    while True:
        got, payload = await asyncio.wait_for(read_frame(client), timeout=10)
        if got == opcode:
            return payload


def aiohttp_handlers() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if "RequestHandler" in repr(t.get_coro())]


async def test_a_held_client_keeps_no_aiohttp_handler_and_still_gets_pushes(start_server):
    server = await start_server("websocket", publish_rate=0)
    clients = [await open_websocket(server.port) for _ in range(5)]
    await until(lambda: server.app[METER].clients_connected == 5)
    await until(lambda: not server.runner.server.connections and not aiohttp_handlers())
    await server.app[FEED].publish("still here")
    for client in clients:
        payload = await next_frame(client, Opcode.TEXT)
        assert json.loads(payload)["text"] == "still here"
        client.close()
    await until(lambda: server.app[METER].clients_connected == 0)


async def test_a_client_that_offers_compression_sends_plain_frames_that_are_published(
    start_server,
):
    server = await start_server("websocket", publish_rate=0)
    offer = [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]
    request = rfc6455.build_upgrade_request(f"127.0.0.1:{server.port}", "/ws", extra_headers=offer)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request)  # as a browser does
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    assert head.startswith(b"HTTP/1.1 101 ") and b"permessage-deflate" not in head
    writer.write(masked(chat("plain")))
    await until(lambda: server.app[FEED].last_id == 1)
    writer.close()


async def test_a_ping_gets_a_pong_with_its_payload(start_server):
    server = await start_server("websocket", publish_rate=0)
    client = await open_websocket(server.port)
    client.writer.write(masked(Frame(Opcode.PING, b"are you there")))
    assert await next_frame(client, Opcode.PONG) == b"are you there"
    client.close()


async def test_a_text_frame_is_published_and_a_fragmented_one_joined(start_server):
    server = await start_server("websocket", publish_rate=0)
    client = await open_websocket(server.port)
    whole = chat("hello").payload
    client.writer.write(masked(chat("first")))
    client.writer.write(masked(Frame(Opcode.TEXT, whole[:5], fin=False)))
    client.writer.write(masked(Frame(Opcode.PING, b"between")))  # §5.4: control frames may
    client.writer.write(masked(Frame(Opcode.CONT, whole[5:])))  # come amid the fragments
    await until(lambda: server.app[FEED].last_id == 2)
    assert [m.text for m in server.app[FEED].history] == ["first", "hello"]
    client.close()


async def test_a_frame_that_breaks_the_chat_rules_gets_an_error_as_json(start_server):
    server = await start_server("websocket", publish_rate=0)
    client = await open_websocket(server.port)
    client.writer.write(masked(Frame.text('{"text": ""}')))
    assert "must not be empty" in json.loads(await next_frame(client, Opcode.TEXT))["error"]
    client.writer.write(masked(Frame(Opcode.BINARY, b"\x00")))
    assert "binary" in json.loads(await next_frame(client, Opcode.TEXT))["error"]
    client.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (Frame(Opcode.TEXT, b"\xff\xfe"), 1007),
        (Frame(Opcode.TEXT, b"x", rsv1=True), 1002),
        (Frame(Opcode.CONT, b"x"), 1002),
        (Frame(Opcode.TEXT, b"x" * 200_000), 1009),
    ],
    ids=["invalid-utf8", "reserved-bit", "nothing-to-continue", "too-big"],
)
async def test_a_broken_frame_closes_with_its_code_and_publishes_nothing(start_server, frame, code):
    server = await start_server("websocket", publish_rate=0)
    client = await open_websocket(server.port)
    client.writer.write(masked(frame))
    payload = await next_frame(client, Opcode.CLOSE)
    assert rfc6455.parse_close_payload(payload)[0] == code
    assert server.app[FEED].last_id == 0
    client.close()


async def test_a_close_is_answered_then_the_server_hangs_up(start_server):
    server = await start_server("websocket", publish_rate=0)
    client = await open_websocket(server.port)
    client.writer.write(masked(Frame.close(1000, "bye")))
    assert rfc6455.parse_close_payload(await next_frame(client, Opcode.CLOSE))[0] == 1000
    assert await asyncio.wait_for(client.reader.read(), timeout=10) == b""  # §7.1.1
    await until(lambda: server.app[METER].clients_connected == 0)


async def test_a_silent_client_is_pinged_and_dropped_when_it_stays_silent(start_server):
    server = await start_server("websocket", publish_rate=0, ws_heartbeat_s=0.05)
    client = await open_websocket(server.port)
    await next_frame(client, Opcode.PING)
    await asyncio.wait_for(client.reader.read(), timeout=10)  # no pong: the server hangs up
    await until(lambda: server.app[METER].clients_connected == 0)


async def test_the_shutdown_closes_every_client_with_1001(start_server):
    server = await start_server("websocket", publish_rate=0)
    clients = [await open_websocket(server.port) for _ in range(3)]
    await until(lambda: server.app[METER].clients_connected == 3)

    async def reply_to_close(client: RawClient) -> int:
        payload = await next_frame(client, Opcode.CLOSE)
        client.writer.write(masked(Frame(Opcode.CLOSE, payload)))
        return rfc6455.parse_close_payload(payload)[0]

    replies = asyncio.gather(*(reply_to_close(c) for c in clients))
    await server.stop()
    assert await replies == [1001, 1001, 1001]


async def test_with_compression_on_aiohttp_keeps_the_connection_and_the_rules(start_server):
    server = await start_server("websocket", publish_rate=0, ws_compress=True)
    client = await open_websocket(server.port)
    await until(lambda: server.app[METER].clients_connected == 1)
    assert aiohttp_handlers()  # its WebSocketResponse reads this client's frames
    client.writer.write(masked(chat("fine")) + rfc6455.encode_frame(chat("sneaky")))
    assert rfc6455.parse_close_payload(await next_frame(client, Opcode.CLOSE))[0] == 1002
    assert [m.text for m in server.app[FEED].history] == ["fine"]
    client.close()


def test_the_reader_joins_fragments_fed_one_byte_at_a_time():
    frames = ClientFrames(max_size=100)
    data = masked(Frame(Opcode.TEXT, b"he", fin=False)) + masked(Frame(Opcode.CONT, b"llo"))
    got = [frame for byte in data for frame in frames.feed(bytes([byte]))]
    assert got == [Frame(Opcode.TEXT, b"hello")]


def test_the_reader_yields_the_good_frames_before_the_broken_one():
    frames = ClientFrames(max_size=100)
    data = masked(Frame(Opcode.PING)) + rfc6455.encode_frame(Frame(Opcode.PING))  # unmasked
    got = []
    with pytest.raises(ConnectionFailure) as failure:
        got.extend(frames.feed(data))
    assert got == [Frame(Opcode.PING)]
    assert failure.value.code == 1002


def test_a_connection_is_an_asyncio_protocol_of_slots_only():
    assert issubclass(WebSocketConnection, asyncio.Protocol)
    assert not hasattr(WebSocketConnection.__new__(WebSocketConnection), "__dict__")
