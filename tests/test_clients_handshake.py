"""clients.handshake: a WebSocket opened, used and closed over a raw socket, against the live
server; and the Accept check that needs no server."""

from __future__ import annotations

import asyncio
import io
import json
import socket

import pytest
from aiohttp import web

from pushlab.clients.__main__ import main
from pushlab.clients.handshake import DEFAULT_TEXT, handshake, verify
from pushlab.clients.target import ClientFailure
from pushlab.rfc6455 import CloseCode, Opcode, parse_close_payload
from pushlab.servers.app import FEED

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


async def run_handshake(url: str, **options: object) -> tuple[object, str]:
    """The explainer blocks on its socket: run it in a thread so the in-process server runs."""
    out = io.StringIO()
    result = await asyncio.to_thread(handshake, url, out=out, **options)
    return result, out.getvalue()


async def test_upgrade_prints_the_exact_request_and_checks_the_accept(start_server):
    server = await start_server("websocket")
    result, text = await run_handshake(f"ws://127.0.0.1:{server.port}/ws", key=RFC_KEY)

    assert result.upgraded and result.accept_matches
    for line in result.request.decode().split("\r\n")[:-1]:
        assert f"→ {line}\\r\\n" in text
    assert "← HTTP/1.1 101 Switching Protocols\\r\\n" in text
    assert "b37a4f2cc0624f1690f64606cf385945b2bec4ea" in text  # SHA-1 of key + GUID
    assert f"{RFC_ACCEPT}  ✓ matches" in text


async def test_our_masked_frame_comes_back_published_and_the_close_is_echoed(start_server):
    server = await start_server("websocket")
    result, text = await run_handshake(f"ws://127.0.0.1:{server.port}/ws")

    texts = [json.loads(f.payload) for f in result.frames_received if f.opcode is Opcode.TEXT]
    assert texts[-1]["text"] == DEFAULT_TEXT
    assert server.app[FEED].last_id == 1  # the server published what we sent
    assert result.close_reply is not None
    assert parse_close_payload(result.close_reply.payload)[0] == CloseCode.NORMAL_CLOSURE
    assert "masking key" in text and "payload (unmasked)" in text
    assert "MASK                  a" in text  # our frames have the MASK bit
    assert "close code 1000 (NORMAL_CLOSURE)" in text


async def test_replayed_history_is_shortened_but_our_message_is_shown_in_full(start_server):
    server = await start_server("websocket")
    for number in range(20):
        await server.app[FEED].publish(f"old {number}")
    result, text = await run_handshake(f"ws://127.0.0.1:{server.port}/ws?since=0")

    assert len(result.frames_received) == 22  # 20 replayed, ours, the close reply
    assert "more text frame(s) with other messages" in text
    assert "our own message, published and pushed back" in text


async def test_without_since_it_starts_from_the_present_so_our_echo_comes_first(start_server):
    server = await start_server("websocket")
    for number in range(35):
        await server.app[FEED].publish(f"old {number}")
    result, text = await run_handshake(f"ws://127.0.0.1:{server.port}/ws")

    assert b"GET /ws?since=35 HTTP/1.1" in result.request
    texts = [json.loads(f.payload) for f in result.frames_received if f.opcode is Opcode.TEXT]
    assert [t["text"] for t in texts] == [DEFAULT_TEXT]  # no history before our own echo
    assert "the newest message is #35; asking for since=35" in text


async def test_handshake_headings_speak_chinese_with_lang_zh(start_server):
    server = await start_server("websocket")
    _, text = await run_handshake(f"ws://127.0.0.1:{server.port}/ws", lang="zh")

    assert "== 1. 开始握手" in text
    assert "(§4.1): the client asks to switch protocols） ==" in text  # the English stays


async def test_a_plain_get_is_refused_and_explained(start_server):
    server = await start_server("websocket")
    result, text = await run_handshake(f"ws://127.0.0.1:{server.port}/ws", upgrade=False)

    assert not result.upgraded and result.response.status == 426
    assert "Upgrade" not in result.request.decode()
    assert "error" in json.loads(result.body)
    assert "the server says:" in text and "426 Upgrade Required" in text


async def test_a_wrong_version_gets_426_with_the_version_the_server_speaks(start_server):
    server = await start_server("websocket")
    result, text = await run_handshake(f"ws://127.0.0.1:{server.port}/ws", version=8)

    assert result.response.status == 426
    assert result.response.header("Sec-WebSocket-Version") == "13"
    assert "§4.4" in text


async def test_a_foreign_origin_is_refused_with_403(start_server):
    server = await start_server("websocket")
    result, text = await run_handshake(
        f"ws://127.0.0.1:{server.port}/ws", origin="http://elsewhere.example"
    )
    assert result.response.status == 403 and "§10.2" in text


async def test_a_refused_port_is_one_clear_failure():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ClientFailure, match="Connection refused"):
        await run_handshake(f"ws://127.0.0.1:{port}/ws")


def test_verify_accepts_the_rfc_pair():
    out = io.StringIO()
    assert verify(RFC_KEY, RFC_ACCEPT, out)
    assert "✓ matches" in out.getvalue()


def test_verify_rejects_a_wrong_pair_and_prints_the_real_accept():
    out = io.StringIO()
    assert not verify("K8o1cNIxO2pR6inTIDBSgg==", "GnoYH/ip/ZMh+a5rX5P/YR6e68g=", out)
    assert "that key produces guE/5GyBmwSZ7hEA9Lc6ubvN+Iw=" in out.getvalue()


def test_verify_on_the_command_line_exits_by_the_verdict(capsys):
    assert main(["handshake", "--verify", RFC_KEY, RFC_ACCEPT]) == 0
    assert main(["handshake", "--verify", RFC_KEY, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="]) == 1
    assert "that key produces " + RFC_ACCEPT in capsys.readouterr().out


async def test_a_refused_message_ends_the_wait_even_while_the_publisher_runs(start_server):
    # Frames keep arriving from the publisher, so only the error frame can end the wait.
    server = await start_server("websocket", publish_rate=50)
    result, text = await run_handshake(f"ws://127.0.0.1:{server.port}/ws", text=" ", timeout_s=60)

    assert result.refusal is not None and "empty" in result.refusal
    assert f"the server refused our message: {result.refusal}" in text
    assert result.close_reply is not None  # and then it closed as usual


async def test_a_message_that_never_comes_back_stops_the_wait_at_the_deadline(aiohttp_server):
    async def chatter_that_never_echoes(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        while not ws.closed:  # a frame every 10 ms keeps the socket timeout from firing
            await ws.send_str('{"id": 1, "ts": 0, "text": "somebody else"}')
            await asyncio.sleep(0.01)
        return ws

    app = web.Application()
    app.router.add_get("/ws", chatter_that_never_echoes)
    server = await aiohttp_server(app)
    result, text = await run_handshake(f"ws://127.0.0.1:{server.port}/ws", timeout_s=0.5)

    assert "our message did not come back within 0.5 s; closing anyway" in text
    assert result.refusal is None
