"""The WebSocket opening handshake, checked with a raw socket (RFC 6455 §4)."""

import asyncio
import json

import aiohttp
import pytest

RFC_SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_SAMPLE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


async def raw_exchange(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes; return the status line, the headers and whatever body came first."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    body = b""
    if "Content-Length" in headers:
        body = await reader.readexactly(int(headers["Content-Length"]))
    writer.close()
    return lines[0], headers, body


def upgrade_request(**overrides: str | None) -> bytes:
    headers = {
        "Host": "127.0.0.1",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": RFC_SAMPLE_KEY,
        "Sec-WebSocket-Version": "13",
    }
    headers.update(overrides)
    lines = ["GET /ws HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items() if v is not None)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_rfc_6455_sample_key_gets_the_sample_accept(start_server):
    server = await start_server("websocket")
    status, headers, _ = await raw_exchange(server.port, upgrade_request())
    assert status == "HTTP/1.1 101 Switching Protocols"
    assert headers["Sec-WebSocket-Accept"] == RFC_SAMPLE_ACCEPT
    assert headers["Upgrade"].lower() == "websocket"
    assert "Sec-WebSocket-Extensions" not in headers  # no permessage-deflate unless asked


async def test_plain_http_get_is_told_a_websocket_client_is_required(start_server):
    server = await start_server("websocket")
    async with aiohttp.ClientSession() as session, session.get(f"{server.url}/ws") as response:
        body = await response.json()
    assert response.status == 426
    assert response.headers["Upgrade"] == "websocket"
    assert "WebSocket client" in body["error"]


async def test_wrong_version_gets_426_naming_version_13(start_server):
    server = await start_server("websocket")
    status, headers, body = await raw_exchange(
        server.port, upgrade_request(**{"Sec-WebSocket-Version": "8"})
    )
    assert status.startswith("HTTP/1.1 426")
    assert headers["Sec-WebSocket-Version"] == "13"
    assert headers["Upgrade"] == "websocket"  # a 426 names the protocol to upgrade to
    assert headers["Connection"] == "Upgrade"
    assert "version" in json.loads(body)["error"].lower()


@pytest.mark.parametrize("key", [None, "", "not base64!", "c2hvcnQ=", "dGhlIHNhbXBsZSBub25jZQ==é"])
async def test_missing_empty_or_malformed_key_is_refused(start_server, key):
    server = await start_server("websocket")
    status, _, body = await raw_exchange(server.port, upgrade_request(**{"Sec-WebSocket-Key": key}))
    assert status.startswith("HTTP/1.1 400")
    assert "Sec-WebSocket-Key" in json.loads(body)["error"]


async def test_missing_connection_upgrade_is_refused(start_server):
    server = await start_server("websocket")
    status, _, body = await raw_exchange(server.port, upgrade_request(Connection="keep-alive"))
    assert status.startswith("HTTP/1.1 400")
    assert "Connection: Upgrade" in json.loads(body)["error"]


async def test_foreign_origin_is_refused_unless_allowed(start_server):
    refusing = await start_server("websocket")
    status, _, body = await raw_exchange(
        refusing.port, upgrade_request(Origin="http://evil.example")
    )
    assert status.startswith("HTTP/1.1 403")
    assert "Origin" in json.loads(body)["error"]

    allowing = await start_server("websocket", allowed_origins=("http://evil.example",))
    status, _, _ = await raw_exchange(allowing.port, upgrade_request(Origin="http://evil.example"))
    assert status == "HTTP/1.1 101 Switching Protocols"


async def test_same_origin_is_allowed(start_server):
    server = await start_server("websocket")
    status, _, _ = await raw_exchange(
        server.port,
        upgrade_request(Host=f"127.0.0.1:{server.port}", Origin=f"http://127.0.0.1:{server.port}"),
    )
    assert status == "HTTP/1.1 101 Switching Protocols"


async def test_same_host_rule_allows_another_port_of_this_host_only(start_server):
    server = await start_server("websocket", allowed_origins=("same-host",))
    host = f"127.0.0.1:{server.port}"
    status, _, _ = await raw_exchange(
        server.port, upgrade_request(Host=host, Origin="http://127.0.0.1:8000")
    )
    assert status == "HTTP/1.1 101 Switching Protocols"
    status, _, _ = await raw_exchange(
        server.port, upgrade_request(Host=host, Origin="http://localhost.evil:8000")
    )
    assert status.startswith("HTTP/1.1 403")


async def test_the_upgrade_headers_are_recorded_for_the_classroom_page(start_server):
    from pushlab.servers.websocket import HANDSHAKES

    server = await start_server("websocket")
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{server.url}/ws?client=tab-1"):
            pass
    recorded = server.app[HANDSHAKES]["tab-1"]
    assert recorded["status"] == 101
    assert recorded["request_line"] == "GET /ws?client=tab-1 HTTP/1.1"
    assert any(name == "Sec-WebSocket-Accept" for name, _ in recorded["response_headers"])


async def test_a_malformed_origin_is_refused_not_a_server_error(start_server):
    server = await start_server("websocket", allowed_origins=("same-host",))
    status, _, body = await raw_exchange(server.port, upgrade_request(Origin="http://[::1"))
    assert status.startswith("HTTP/1.1 403")
    assert "Origin" in json.loads(body)["error"]
