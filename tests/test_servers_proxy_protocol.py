"""Behind a trusted proxy the server sees each client's own address (PROXY protocol v1);
from anyone else a PROXY line is not believed."""

from __future__ import annotations

import asyncio

from pushlab.proxy_protocol import header_v1
from pushlab.servers.__main__ import config_from, parse_args
from tests.conftest import StartServer

POST = (
    b"POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b'Content-Length: 13\r\nConnection: close\r\n\r\n{"text":"hi"}'
)


async def post_as(port: int, client: str | None) -> bytes:
    """A POST /messages on a connection that starts with a PROXY line naming ``client``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    proxy_line = b"" if client is None else header_v1((client, 40000), ("127.0.0.1", port))
    writer.write(proxy_line + POST)
    try:
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()


async def test_the_publish_limit_counts_each_named_client_apart(start_server: StartServer) -> None:
    server = await start_server(
        "polling", publish_burst=1, publish_limit_per_s=0.001, trusted_proxies=("127.0.0.1",)
    )
    assert (await post_as(server.port, "192.0.2.1")).startswith(b"HTTP/1.1 201 ")
    assert (await post_as(server.port, "192.0.2.1")).startswith(b"HTTP/1.1 429 ")
    assert (await post_as(server.port, "192.0.2.2")).startswith(b"HTTP/1.1 201 ")
    assert (await post_as(server.port, None)).startswith(b"HTTP/1.1 201 ")  # the proxy itself


async def test_a_proxy_line_from_an_untrusted_peer_is_not_believed(
    start_server: StartServer,
) -> None:
    server = await start_server("polling")
    assert (await post_as(server.port, "192.0.2.1")).split(b" ", 2)[1] == b"400"


async def test_a_malformed_proxy_line_from_a_trusted_peer_closes_the_connection(
    start_server: StartServer,
) -> None:
    server = await start_server("polling", trusted_proxies=("127.0.0.1",))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n" + POST)
    async with asyncio.timeout(10):
        assert await reader.read() == b""
    writer.close()


def test_the_cli_names_the_trusted_proxies() -> None:
    args = parse_args(["sse", "--trust-proxy", "127.0.0.1", "--trust-proxy", "::1"])
    assert config_from(args).trusted_proxies == ("127.0.0.1", "::1")
