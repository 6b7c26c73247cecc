"""Timeouts and limits (issue 16): slow and idle clients are closed, the ceiling answers 503,
failed accepts and malformed requests log one line. Timeouts are set short here; each test
asserts that the close happens (bounded waits are failure guards, not timing claims)."""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import subprocess
import sys
import time

import pytest

from pushlab.servers.connections import BUDGET

SHORT = {"header_timeout_s": 0.2, "body_timeout_s": 0.2, "keepalive_timeout_s": 0.2}


async def answer_until_closed(port: int, sent: bytes) -> bytes:
    """Send ``sent``, then read until the server closes the connection (10 s guard)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(sent)
    try:
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


async def test_headers_that_never_end_are_closed_with_408(start_server):
    server = await start_server("polling", **SHORT)
    answer = await answer_until_closed(server.port, b"GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert server.app[BUDGET].header_timeouts == 1


async def test_slowloris_one_byte_at_a_time_is_closed(start_server):
    server = await start_server("polling", **SHORT)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    closed = asyncio.create_task(reader.read())
    for byte in b"GET /poll HTTP/1.1\r\nX-Slow: " + b"a" * 1000:
        if closed.done():
            break
        writer.write(bytes([byte]))
        await asyncio.sleep(0.02)  # the slow client's pace, not a synchronisation
    answer = await asyncio.wait_for(closed, timeout=10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")


async def test_a_connection_that_never_sends_is_closed_without_an_answer(start_server):
    server = await start_server("polling", **SHORT)
    healthz = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert (await answer_until_closed(server.port, healthz)).startswith(b"HTTP/1.1 200 ")
    assert await answer_until_closed(server.port, b"") == b""


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"text": ',
        b"POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"tex\r\n',
    ],
    ids=["short-content-length", "chunked-without-last-chunk"],
)
async def test_a_body_that_never_ends_is_408(start_server, request_bytes):
    server = await start_server("polling", **SHORT)
    answer = await answer_until_closed(server.port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"body" in answer


async def test_an_idle_kept_alive_connection_is_closed(start_server):
    server = await start_server("polling", **SHORT)
    answer = await answer_until_closed(
        server.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.count(b"HTTP/1.1") == 1


async def test_a_held_long_poll_outlives_the_header_timeout(start_server):
    server = await start_server("longpoll", **SHORT)
    answer = await answer_until_closed(
        server.port,
        b"GET /poll?timeout=0.5 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 200 ")


async def test_beyond_the_ceiling_a_connection_gets_503_and_the_server_recovers(start_server):
    server = await start_server("polling", max_connections=3)
    held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
    answer = await answer_until_closed(server.port, b"")
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert b"Retry-After: 1\r\n" in answer
    assert server.app[BUDGET].refused == 1
    held[0][1].close()
    await held[0][1].wait_closed()
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    for _ in range(100):  # until the server has seen the first client leave
        answer = await answer_until_closed(server.port, request)
        if answer.startswith(b"HTTP/1.1 200 "):
            break
    assert answer.startswith(b"HTTP/1.1 200 ")
    for _, writer in held[1:]:
        writer.close()


async def test_a_malformed_request_logs_one_warning_line(start_server, caplog):
    server = await start_server("polling")
    with caplog.at_level(logging.DEBUG, logger="aiohttp.server"):
        answer = await answer_until_closed(
            server.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n"
        )
    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [r.levelname for r in records] == ["WARNING"]
    assert records[0].exc_info is None
    assert "\n" not in records[0].getMessage()


FD_LIMIT = 200


def low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def start_limited(*args: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pushlab.servers", "polling", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=low_fd_limit,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "listening on" in line, process.stderr.read() if process.stderr else line
    return process, int(line.rsplit(":", 1)[1])


def healthz_status_line(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return b"".join(iter(lambda: sock.recv(65536), b"")).split(b"\r\n", 1)[0]


def hold_connections(port: int, count: int) -> list[socket.socket]:
    held = []
    for _ in range(count):
        held.append(socket.create_connection(("127.0.0.1", port)))
    return held


@pytest.mark.parametrize(
    ("args", "expected_while_held"),
    [
        ((), b"HTTP/1.1 503 Service Unavailable"),  # the ceiling below the limit
        (("--max-connections", "100000"), None),  # no ceiling: accept() itself fails
    ],
    ids=["ceiling", "accept-failures"],
)
def test_at_the_fd_limit_healthz_answers_and_the_log_stays_small(args, expected_while_held):
    process, port = start_limited("--header-timeout", "3600", *args)
    started_s = time.monotonic()
    try:
        held = hold_connections(port, FD_LIMIT + 30)
        if expected_while_held is not None:
            assert healthz_status_line(port) == expected_while_held
        for sock in held:
            sock.close()
        for _ in range(200):  # until the server has seen the held clients leave
            try:
                if healthz_status_line(port) == b"HTTP/1.1 200 OK":
                    break
            except OSError:
                pass
        assert healthz_status_line(port) == b"HTTP/1.1 200 OK"
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    elapsed_s = time.monotonic() - started_s
    lines = stderr.splitlines()
    assert "Traceback" not in stderr
    assert len(lines) <= elapsed_s / 1.0 + 2, stderr[-2000:]
