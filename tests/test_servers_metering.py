"""Metering is exact at the TCP level: what crossed the socket, byte for byte."""

import asyncio
import json
import os
import socket

import aiohttp
import pytest

from pushlab.servers.app import FEED, METER
from tests.conftest import server_process, until
from tests.rawpush import open_event_stream, open_websocket, read_event, read_frame


async def read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head + await reader.readexactly(length)


async def test_a_request_of_known_length_moves_bytes_in_and_out_exactly(start_server):
    server = await start_server("polling")
    meter = server.app[METER]
    request = (
        b"GET /poll?since=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"p" * 123 + b"\r\n\r\n"
    )
    before_in, before_out = meter.bytes_in, meter.bytes_out
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request)
    response = await read_response(reader)
    writer.close()
    assert meter.bytes_in - before_in == len(request)
    assert meter.bytes_out - before_out == len(response)


async def test_keep_alive_reuses_one_tcp_connection_and_close_opens_new_ones(start_server):
    server = await start_server("polling")
    meter = server.app[METER]
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for _ in range(5):
        writer.write(b"GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await read_response(reader)
    writer.close()
    assert meter.tcp_connections_opened == 1
    for _ in range(3):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await read_response(reader)
        writer.close()
    assert meter.tcp_connections_opened == 4
    assert meter.requests == 8


async def test_websocket_frames_are_counted_byte_for_byte(start_server):
    server = await start_server("websocket")
    meter = server.app[METER]
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{server.url}/ws") as ws:
        await until(lambda: meter.clients_connected == 1)
        before_in, before_out = meter.bytes_in, meter.bytes_out
        payload = json.dumps({"text": "x" * 40})  # 53 bytes: 7-bit length form
        await ws.send_str(payload)
        pushed = await ws.receive()
        # client → server: 2-byte header + 4-byte mask + payload
        assert meter.bytes_in - before_in == 2 + 4 + len(payload)
        # server → client: 2-byte header (unmasked) + the message JSON
        assert meter.bytes_out - before_out == 2 + len(pushed.data.encode())


def raw_stats(url: str) -> dict:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b"".join(iter(lambda: sock.recv(65536), b""))
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def test_stats_of_a_real_server_process_report_every_counter():
    with server_process("sse") as url:
        stats = raw_stats(url)
    for key in (
        "technique",
        "uptime_s",
        "clients_connected",
        "requests",
        "empty_responses",
        "messages_published",
        "messages_delivered",
        "bytes_in",
        "bytes_out",
        "tcp_connections_opened",
    ):
        assert key in stats
    assert stats["technique"] == "sse"
    assert stats["pid"] != os.getpid()
    assert stats["tcp_connections_opened"] == 1  # the /stats connection itself


async def test_stopping_the_runner_closes_the_metered_listening_socket(start_server):
    server = await start_server("polling")
    port = server.port
    socket.create_connection(("127.0.0.1", port)).close()
    assert server.runner.sites == {server.site}  # the runner owns the site

    await server.stop()

    assert server.runner.sites == set()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # free again: nothing listens there any more


@pytest.mark.parametrize(
    ("technique", "open_client", "read_one"),
    [("websocket", open_websocket, read_frame), ("sse", open_event_stream, read_event)],
)
async def test_broadcast_bytes_metered_equal_the_bytes_raw_socket_clients_read(
    start_server, technique, open_client, read_one
):
    """Replayed on connect (catch-up writes) then broadcast (bytes × subscribers counted once
    per message): the meter still equals what the clients read, byte for byte."""
    server = await start_server(technique)
    meter, feed = server.app[METER], server.app[FEED]
    for n in range(3):
        await feed.publish(f"before {n}")
    before_out = meter.bytes_out
    clients = [await open_client(server.port) for _ in range(5)]
    await until(lambda: meter.clients_connected == 5)
    for n in range(4):
        await feed.publish(f"message {n} " + "é" * n)
    for client in clients:
        for _ in range(7):
            await read_one(client)
    read = sum(client.bytes_read for client in clients)
    for client in clients:
        client.close()
    assert meter.bytes_out - before_out == read
