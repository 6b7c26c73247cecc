"""The network emulator: bytes arrive whole and in order, delays are added, faults act as said."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import pytest

from pushlab.netem import LinkSettings, NetworkEmulator


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with_errors_ignored = (ConnectionError, asyncio.IncompleteReadError)
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.write_eof()
    except with_errors_ignored:
        pass
    finally:
        writer.close()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def through(emulator: NetworkEmulator) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", emulator.port)


async def test_a_byte_stream_arrives_complete_and_in_order_under_jitter(echo_port: int) -> None:
    emulator = await NetworkEmulator(
        "127.0.0.1", echo_port, LinkSettings(rtt_ms=4, jitter_ms=30), seed=7
    ).start()
    payload = os.urandom(600_000)
    reader, writer = await through(emulator)

    async def send() -> None:
        for start in range(0, len(payload), 1000):  # many small chunks, each with its own jitter
            writer.write(payload[start : start + 1000])
            await writer.drain()
        writer.write_eof()

    sending = asyncio.create_task(send())
    received = await reader.read(-1)  # until the echo's end of stream
    await sending
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()
    assert emulator.counters.bytes_up == emulator.counters.bytes_down == len(payload)
    writer.close()
    await emulator.stop()


async def test_a_round_trip_takes_at_least_the_rtt(echo_port: int) -> None:
    emulator = await NetworkEmulator("127.0.0.1", echo_port, LinkSettings(rtt_ms=100)).start()
    reader, writer = await through(emulator)
    started = time.monotonic()
    writer.write(b"ping")
    assert await reader.readexactly(4) == b"ping"
    assert time.monotonic() - started >= 0.100  # two one-way delays of 50 ms, by construction
    writer.close()
    await emulator.stop()


async def test_drop_resets_every_connection(echo_port: int) -> None:
    emulator = await NetworkEmulator("127.0.0.1", echo_port).start()
    connections = [await through(emulator) for _ in range(3)]
    for reader, writer in connections:  # each connection is through before the drop
        writer.write(b"x")
        assert await reader.readexactly(1) == b"x"
    assert emulator.counters.connections_open == 3
    emulator.drop()
    for reader, _writer in connections:
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            await reader.readexactly(1)
    assert emulator.counters.connections_reset == 6  # both sides of three connections
    await emulator.stop()


async def test_stall_holds_traffic_with_the_connection_open_until_release(echo_port: int) -> None:
    emulator = await NetworkEmulator("127.0.0.1", echo_port).start()
    reader, writer = await through(emulator)
    writer.write(b"a")
    assert await reader.readexactly(1) == b"a"
    emulator.stall()
    writer.write(b"held")
    await writer.drain()
    answer = asyncio.create_task(reader.readexactly(4))
    done, _ = await asyncio.wait({answer}, timeout=0.3)  # nothing may arrive while stalled
    assert not done
    assert emulator.counters.connections_open == 1
    emulator.release()
    assert await answer == b"held"
    writer.close()
    await emulator.stop()


def test_settings_refuse_negative_or_nan_delays() -> None:
    for bad in ({"rtt_ms": -1}, {"jitter_ms": float("nan")}, {"bandwidth_bps": 0}):
        with pytest.raises(ValueError):
            LinkSettings(**bad)  # type: ignore[arg-type]


# --- As a process of its own (python -m pushlab.netem) ----------------------------------------


async def test_the_emulator_process_forwards_and_obeys_its_commands(echo_port: int) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pushlab.netem",
        "--target",
        f"127.0.0.1:{echo_port}",
        "--rtt-ms",
        "10",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = (await process.stdout.readline()).decode()
        assert line.startswith("pushlab netem listening on http://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello")
        assert await reader.readexactly(5) == b"hello"

        async def ask(command: str) -> dict:
            process.stdin.write(f"{command}\n".encode())  # type: ignore[union-attr]
            return json.loads(await process.stdout.readline())  # type: ignore[union-attr]

        counters = await ask("counters")
        assert counters["connections_open"] == 1 and counters["bytes_up"] == 5
        dropped = await ask("drop")
        assert dropped["event"] == "drop" and dropped["connections_reset"] == 2
        with pytest.raises(ConnectionResetError):  # an RST, as when a phone changes networks
            await reader.read()
        assert (await ask("bogus"))["event"] == "error"
        writer.close()
    finally:
        process.stdin.close()
        await process.wait()
    assert process.returncode == 0


def test_the_emulator_process_refuses_bad_settings_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pushlab.netem", "--target", "127.0.0.1:1", "--rtt-ms", "-5"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "rtt_ms and jitter_ms must be at least 0" in result.stderr
    assert "Traceback" not in result.stderr
