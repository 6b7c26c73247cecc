"""Writes only from where they should come (issue 16): Content-Type, Origin, Host, version."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from pushlab.servers.guard import HOST_VERDICTS_KEPT, bound_names
from pushlab.servers.keys import FEED
from pushlab.techniques import NAMES as TECHNIQUES

WRITES = [("/messages", b'{"text": "hi"}'), ("/publisher", b'{"publish_rate": 999}')]


@pytest.mark.parametrize("technique", TECHNIQUES)
@pytest.mark.parametrize(("path", "body"), WRITES)
@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a_write_without_a_json_content_type_is_415(
    start_server, technique, path, body, content_type
):
    server = await start_server(technique)
    headers = {} if content_type is None else {"Content-Type": content_type}
    async with aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as session:
        async with session.post(f"{server.url}{path}", data=body, headers=headers) as response:
            assert response.status == 415
            assert "application/json" in (await response.json())["error"]
        async with session.get(f"{server.url}/publisher") as response:
            assert (await response.json())["publish_rate"] == 0
    assert server.app[FEED].last_id == 0


@pytest.mark.parametrize("technique", TECHNIQUES)
async def test_a_write_from_a_foreign_origin_is_403(start_server, technique):
    server = await start_server(technique)
    async with aiohttp.ClientSession() as session:
        headers = {"Origin": "http://evil.example"}
        async with session.post(
            f"{server.url}/messages", json={"text": "hi"}, headers=headers
        ) as response:
            assert response.status == 403
            assert "evil.example" in (await response.json())["error"]
        async with session.post(
            f"{server.url}/publisher", json={"publish_rate": 999}, headers=headers
        ) as response:
            assert response.status == 403


async def test_a_write_from_the_same_origin_or_no_origin_is_served(start_server):
    server = await start_server("polling")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{server.url}/messages", json={"text": "hi"}, headers={"Origin": server.url}
        ) as response:
            assert response.status == 201
        async with session.post(f"{server.url}/messages", json={"text": "again"}) as response:
            assert response.status == 201


async def raw_exchange(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    return answer


@pytest.mark.parametrize("technique", TECHNIQUES)
async def test_a_host_that_is_not_ours_is_421(start_server, technique):
    """DNS rebinding: evil.example resolved to 127.0.0.1 still says ``Host: evil.example``."""
    server = await start_server(technique)
    answer = await raw_exchange(
        server.port,
        b"GET /stats HTTP/1.1\r\nHost: evil.example:18003\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 421 ")
    assert b'"error"' in answer


@pytest.mark.parametrize("host", [b"127.0.0.1", b"localhost:1", b"[::1]:8001"])
async def test_the_loopback_names_are_ours(start_server, host):
    server = await start_server("polling")
    answer = await raw_exchange(
        server.port, b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 200 ")


async def test_an_extra_host_name_can_be_allowed(start_server):
    server = await start_server("polling", allowed_hosts=("class-laptop.local",))
    answer = await raw_exchange(
        server.port,
        b"GET /healthz HTTP/1.1\r\nHost: Class-Laptop.local\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 200 ")


async def test_http_2_over_http_1_framing_is_505(start_server):
    server = await start_server("polling")
    answer = await raw_exchange(server.port, b"GET /x HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 505 ")
    assert not answer.startswith(b"HTTP/2.0")


def test_a_wildcard_bind_answers_to_the_interfaces_and_loopback():
    names = bound_names("0.0.0.0")
    assert {"127.0.0.1", "localhost", "::1"} <= names
    assert "evil.example" not in names


async def test_a_host_verdict_is_the_same_every_time_it_is_asked(start_server):
    """The check remembers each Host value's verdict: asked again, it answers as before."""
    server = await start_server("polling")
    for _ in range(3):
        for host, status in ((b"evil.example", b"421"), (b"localhost", b"200")):
            answer = await raw_exchange(
                server.port,
                b"GET /poll HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n",
            )
            assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:80]


async def test_hosts_beyond_the_remembered_ones_are_still_judged(start_server):
    server = await start_server("polling")
    for number in range(HOST_VERDICTS_KEPT + 8):
        host = f"evil{number}.example".encode()
        answer = await raw_exchange(
            server.port, b"GET /poll HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
        )
        assert answer.startswith(b"HTTP/1.1 421 ")
    answer = await raw_exchange(
        server.port, b"GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 200 ")
