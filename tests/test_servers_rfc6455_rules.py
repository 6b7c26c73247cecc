"""Strict RFC 6455 on the server (issue 16): unmasked frames and forbidden close codes fail
the connection with 1002 and publish nothing; an upgrade over HTTP/1.0 is refused."""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import struct

import pytest

from pushlab import rfc6455
from pushlab.clients import handshake as explainer
from pushlab.rfc6455 import Frame, Opcode
from pushlab.servers.keys import FEED, METER, SOCKETS
from pushlab.servers.rfc6455_rules import FrameRules
from tests.conftest import until

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def upgrade(version: bytes = b"1.1") -> bytes:
    return (
        b"GET /ws HTTP/" + version + b"\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY.encode() + b"\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )


async def close_code_after(port: int, frames: bytes, *, pipelined: bool = False) -> int | None:
    """Upgrade, send ``frames``, return the code of the server's close frame (None: no close)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(upgrade() + frames if pipelined else upgrade())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        assert head.startswith(b"HTTP/1.1 101 ")
        if not pipelined:
            writer.write(frames)
        buffer = b""
        while True:
            decoded = rfc6455.decode_frame(buffer)
            if decoded is None:
                chunk = await asyncio.wait_for(reader.read(65536), timeout=10)
                if not chunk:
                    return None
                buffer += chunk
                continue
            frame, used = decoded
            buffer = buffer[used:]
            if frame.opcode is Opcode.CLOSE:
                return rfc6455.parse_close_payload(frame.payload)[0]
    finally:
        writer.close()


def text_frame(text: str, *, mask: bool) -> bytes:
    return rfc6455.encode_frame(Frame.text(f'{{"text": "{text}"}}'), mask=mask)


def close_frame(code: int) -> bytes:
    return rfc6455.encode_frame(Frame(Opcode.CLOSE, struct.pack("!H", code)), mask=True)


@pytest.mark.parametrize("pipelined", [False, True], ids=["after-101", "with-the-upgrade"])
async def test_an_unmasked_frame_fails_the_connection_with_1002(start_server, pipelined):
    server = await start_server("websocket")
    frames = text_frame("sneaky", mask=False)
    assert await close_code_after(server.port, frames, pipelined=pipelined) == 1002
    assert server.app[FEED].last_id == 0


async def test_masked_frames_before_an_unmasked_one_are_published(start_server):
    server = await start_server("websocket")
    frames = text_frame("fine", mask=True) + text_frame("sneaky", mask=False)
    assert await close_code_after(server.port, frames) == 1002
    assert [m.text for m in server.app[FEED].history] == ["fine"]


@pytest.mark.parametrize("code", [1005, 1006, 1015, 999, 1016, 2999, 5000, 65535])
async def test_a_close_code_that_must_not_be_sent_gets_1002(start_server, code):
    server = await start_server("websocket")
    assert await close_code_after(server.port, close_frame(code)) == 1002


@pytest.mark.parametrize("code", [1000, 1001, 3000, 4999])
async def test_a_valid_close_code_is_echoed(start_server, code):
    server = await start_server("websocket")
    assert await close_code_after(server.port, close_frame(code)) in (code, 1000)


async def test_an_upgrade_over_http_1_0_is_refused(start_server):
    server = await start_server("websocket")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(upgrade(b"1.0"))
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    assert b" 505 " in answer.split(b"\r\n")[0]
    assert b" 101 " not in answer


def test_the_rules_find_an_unmasked_frame_fed_one_byte_at_a_time():
    stream = text_frame("a" * 300, mask=True) + close_frame(1000) + text_frame("b", mask=False)
    rules = FrameRules()
    found = [rules.feed(stream[i : i + 1]) for i in range(len(stream))]
    problems = [(i, p) for i, p in enumerate(found) if p is not None]
    assert len(problems) == 1
    index, (_, reason) = problems[0]
    assert index == len(stream) - len(text_frame("b", mask=False)) + 1  # its second byte
    assert "§5.1" in reason


def test_the_rules_read_a_close_code_split_across_reads():
    frame = close_frame(1006)
    rules = FrameRules()
    assert rules.feed(text_frame("fine", mask=True) + frame[:7]) is None
    offset, reason = rules.feed(frame[7:])
    assert offset == 0  # the frame began in the earlier read
    assert "1006" in reason


async def test_the_handshake_explainer_shows_the_close_of_an_unmasked_frame(start_server):
    server = await start_server("websocket")
    out = io.StringIO()
    result = await asyncio.to_thread(
        explainer.handshake, f"ws://127.0.0.1:{server.port}/ws", out=out, masked=False
    )
    assert result.close_reply is not None
    assert rfc6455.parse_close_payload(result.close_reply.payload)[0] == 1002
    assert "close 1002" in out.getvalue()


async def test_a_dropped_connection_is_released_without_waiting_for_the_heartbeat(start_server):
    server = await start_server("websocket", ws_heartbeat_s=3600)
    for _ in range(20):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(upgrade())
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        writer.close()
        await writer.wait_closed()
    await until(lambda: server.app[METER].clients_connected == 0)
    gc.collect()
    assert len(server.app[SOCKETS]) == 0  # nothing (a ping timer) holds the responses


async def test_the_explainer_exits_0_when_the_server_enforces_the_mask(start_server):
    server = await start_server("websocket")
    commands = argparse.ArgumentParser().add_subparsers()
    explainer.add_parser(commands)
    args = commands.choices["handshake"].parse_args(
        [f"ws://127.0.0.1:{server.port}/ws", "--unmasked"]
    )
    assert await asyncio.to_thread(explainer.run_cli, args) == 0
