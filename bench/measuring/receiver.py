"""An independent receiver: a few push connections read by the least code that can read them.

    python -m pushlab.bench.measuring.receiver websocket --host http://127.0.0.1:8003 \
        --connections 10 --seconds 10          # on its own: prints p50/p99 and exits

A check on the bench, not a client to imitate: one asyncio process, one ``asyncio.Protocol``
per connection and no task per client, so a message is handled in the ``data_received`` call
that brought it, stamped with ``time.time()`` on entry. Nothing queues behind thousands of
greenlets; its latency is the server's and the wire's, plus one event-loop wake-up. It speaks
WebSocket (``pushlab/rfc6455.py``) and SSE (``clients/eventstream.py``, de-chunked by
``http_chunked.py``): the techniques whose latency is pure push.

The bench runs it beside the Locust users (``receiver_part.py``) with the generator's line
protocol: ``{"event": "ready"}`` once every connection is open, then ``stop B LIMIT_S`` on
stdin — wait until every connection holds message ``B`` (at most ``LIMIT_S``), write
``--out`` (``connection``, ``message_id``, ``ts``, ``received_at`` per delivery) and print
``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
import time
import urllib.request
from array import array
from pathlib import Path

import numpy as np

from pushlab import rfc6455
from pushlab.bench.measuring.http_chunked import ChunkedDecoder
from pushlab.bench.measuring.wire_clients import address, request_bytes
from pushlab.clients.eventstream import Event, EventStreamDecoder
from pushlab.command_line import CommandParser
from pushlab.rfc6455 import Frame, Opcode
from pushlab.techniques import SSE, WEBSOCKET

RECEIVER_TECHNIQUES = (WEBSOCKET.name, SSE.name)


class Deliveries:
    """Every message any connection received, as raw numbers."""

    def __init__(self) -> None:
        self.connection = array("l")
        self.message_id = array("q")
        self.ts = array("d")
        self.received_at = array("d")
        self.cursors: list[int] = []

    def add(self, connection: int, data: bytes | str, received_at: float) -> None:
        message = json.loads(data)
        if "id" not in message or "ts" not in message:  # a gap or an error: not a delivery
            return
        self.connection.append(connection)
        self.message_id.append(message["id"])
        self.ts.append(message["ts"])
        self.received_at.append(received_at)
        self.cursors[connection] = max(self.cursors[connection], message["id"])

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "connection": np.array(self.connection, dtype=np.int64),
            "message_id": np.array(self.message_id, dtype=np.int64),
            "ts": np.array(self.ts, dtype=np.float64),
            "received_at": np.array(self.received_at, dtype=np.float64),
        }


class PushProtocol(asyncio.Protocol):
    """One connection: send the request, split the response head off, then read messages."""

    def __init__(self, number: int, request: bytes, deliveries: Deliveries) -> None:
        self.number, self.request, self.deliveries = number, request, deliveries
        self.transport: asyncio.Transport | None = None
        self.head: rfc6455.ResponseHead | None = None
        self.buffer = bytearray()
        self.opened = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        received_at = time.time()
        self.buffer += data
        if self.head is None:
            parsed = rfc6455.parse_response_head(self.buffer)
            if parsed is None:
                return
            self.head, consumed = parsed
            del self.buffer[:consumed]
            if not self.opened.done():
                self.opened.set_result(self.head.status)
        self.messages(received_at)

    def messages(self, received_at: float) -> None:
        raise NotImplementedError

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before answering"))
        if not self.closed.done():
            self.closed.set_result(None)


class WebSocketProtocol(PushProtocol):
    def messages(self, received_at: float) -> None:
        while (decoded := rfc6455.decode_frame(self.buffer)) is not None:
            frame, consumed = decoded
            del self.buffer[:consumed]
            if frame.opcode is Opcode.PING:
                pong = rfc6455.encode_frame(Frame(Opcode.PONG, frame.payload), mask=True)
                assert self.transport is not None
                self.transport.write(pong)
            elif frame.opcode is Opcode.TEXT:  # the servers send whole text messages
                self.deliveries.add(self.number, frame.payload, received_at)


class EventStreamProtocol(PushProtocol):
    def __init__(self, number: int, request: bytes, deliveries: Deliveries) -> None:
        super().__init__(number, request, deliveries)
        self.dechunker = ChunkedDecoder()
        self.decoder = EventStreamDecoder()
        self.body = bytearray()

    def messages(self, received_at: float) -> None:
        self.body += self.dechunker.feed(bytes(self.buffer))
        self.buffer.clear()
        while (end := self.body.find(b"\n")) >= 0:
            line = bytes(self.body[: end + 1])
            del self.body[: end + 1]
            event = self.decoder.feed(line.decode())
            if isinstance(event, Event) and event.event_type == "message":
                self.deliveries.add(self.number, event.data, received_at)


def feed_cursor(url: str) -> int:
    """Where the feed is now (``/stats``): the receiver hears only what comes next."""
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as answer:
        return int(json.load(answer)["last_id"])


async def open_connections(
    technique: str, url: str, count: int, since: int, deliveries: Deliveries
) -> list[PushProtocol]:
    host, port = address(url)
    loop = asyncio.get_running_loop()
    protocols: list[PushProtocol] = []
    for number in range(count):
        deliveries.cursors.append(since)
        if technique == WEBSOCKET.name:
            request = rfc6455.build_upgrade_request(f"{host}:{port}", f"/ws?since={since}")
            make: type[PushProtocol] = WebSocketProtocol
        else:
            headers = {"Accept": "text/event-stream", "Last-Event-ID": str(since)}
            request = request_bytes(f"{host}:{port}", "/events", headers)
            make = EventStreamProtocol
        _, protocol = await loop.create_connection(
            functools.partial(make, number, request, deliveries), host, port
        )
        status = await protocol.opened
        if status not in (101, 200):
            raise ConnectionError(f"the server answered HTTP {status}")
        protocols.append(protocol)
    return protocols


async def wait_for_cursor(deliveries: Deliveries, last_id: int, limit_s: float) -> bool:
    """Until every connection holds ``last_id`` (True), or the limit passed (False)."""
    deadline = time.monotonic() + limit_s
    while min(deliveries.cursors, default=last_id) < last_id:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def run(args: argparse.Namespace) -> int:
    since = feed_cursor(args.host) if args.since is None else args.since
    deliveries = Deliveries()
    protocols = await open_connections(
        args.technique, args.host, args.connections, since, deliveries
    )
    emit("ready", connected=len(protocols))
    if args.seconds is not None:
        await asyncio.sleep(args.seconds)
        last_id, drained = max(deliveries.cursors, default=0), True
    else:
        command = (await asyncio.to_thread(sys.stdin.readline)).split()
        last_id = int(command[1]) if len(command) >= 2 and command[0] == "stop" else 0
        limit_s = float(command[2]) if len(command) >= 3 else 0.0
        drained = await wait_for_cursor(deliveries, last_id, limit_s)
    for protocol in protocols:
        assert protocol.transport is not None
        protocol.transport.close()
    arrays = deliveries.arrays()
    if args.out is not None:
        np.savez(args.out, **arrays)
    latency_ms = (arrays["received_at"] - arrays["ts"]) * 1e3
    p50, p99 = np.percentile(latency_ms, [50, 99]) if latency_ms.size else (np.nan, np.nan)
    emit(
        "done",
        deliveries=int(latency_ms.size),
        drained=drained,
        last_id=last_id,
        p50_ms=float(p50),
        p99_ms=float(p99),
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="python -m pushlab.bench.measuring.receiver", description=__doc__)
    parser.add_argument("technique", choices=RECEIVER_TECHNIQUES)
    parser.add_argument("--host", required=True, help="the server, e.g. http://127.0.0.1:8003")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--since", type=int, help="start after this id (default: the feed's now)")
    parser.add_argument("--seconds", type=float, help="on its own: listen this long, then stop")
    parser.add_argument("--out", type=Path, help="where to write the .npz")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.connections < 1:
        build_parser().error("--connections must be at least 1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
