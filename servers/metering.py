"""Exact, TCP-level metering: every byte a server's sockets read or write, every connection.

aiohttp's request handler is an ``asyncio.Protocol``. We hand asyncio a thin protocol that
counts what ``data_received`` brings in and gives aiohttp a transport that counts what it writes
out, so the figures include request lines, headers, bodies, chunk framing and WebSocket frames —
exactly what crossed the socket, not an estimate. (Bytes still buffered when a peer aborts are
counted as written; the kernel may not have sent them.)

The push servers' broadcast loops write one message's bytes to many sockets at once: they write
to the raw transport (:func:`raw_transport`) and count ``bytes × subscribers`` once per message,
which is exact and spares a wrapper call per socket. Everything else goes through the wrapper.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Meter:
    """Counters of one server; ``/stats`` reports them."""

    technique: str
    started_monotonic: float = field(default_factory=time.monotonic)
    requests: int = 0
    other_requests: int = 0
    empty_responses: int = 0
    messages_delivered: int = 0
    clients_connected: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    tcp_connections_opened: int = 0
    tcp_connections_open: int = 0
    fanout_s: float = 0.0
    """Push servers: publish → the loop's last write, summed over the messages broadcast."""
    fanouts: int = 0
    """Push servers: messages the broadcast loop wrote to at least one subscriber."""

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.started_monotonic


class CountingTransport:
    """Stands in for the real transport so that every byte aiohttp writes is counted."""

    __slots__ = ("_meter", "_transport", "client_address")

    def __init__(self, transport: asyncio.Transport, meter: Meter) -> None:
        self._transport = transport
        self._meter = meter
        self.client_address: tuple[str, int] | None = None  # named by a trusted proxy

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The socket's, except ``peername`` when a trusted proxy named the real client."""
        if name == "peername" and self.client_address is not None:
            return self.client_address
        return self._transport.get_extra_info(name, default)

    @property
    def raw(self) -> asyncio.Transport:
        """The socket's own transport: whoever writes to it counts the bytes itself."""
        return self._transport

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._meter.bytes_out += data.nbytes if isinstance(data, memoryview) else len(data)
        self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        chunks = list(chunks)
        self._meter.bytes_out += sum(
            c.nbytes if isinstance(c, memoryview) else len(c) for c in chunks
        )
        self._transport.writelines(chunks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def raw_transport(transport: asyncio.BaseTransport) -> asyncio.Transport:
    """The uncounted transport under ``transport`` (itself when it is not wrapped)."""
    if isinstance(transport, CountingTransport):
        return transport.raw
    return transport  # type: ignore[return-value]


class MeteredProtocol(asyncio.Protocol):
    """Wraps aiohttp's per-connection protocol and counts the connection and its bytes."""

    __slots__ = ("_counting", "_inner", "_meter")

    def __init__(self, inner: asyncio.Protocol, meter: Meter) -> None:
        self._inner = inner
        self._meter = meter
        self._counting: CountingTransport | None = None

    @property
    def client_address(self) -> tuple[str, int] | None:
        return None if self._counting is None else self._counting.client_address

    @client_address.setter
    def client_address(self, address: tuple[str, int]) -> None:
        """The real client's address (from a trusted proxy), before the first request."""
        assert self._counting is not None, "after connection_made"
        self._counting.client_address = address

    def hand_over(self, inner: asyncio.Protocol) -> None:
        """From now on the connection's events go to ``inner``: an upgraded connection's own
        protocol (``servers/websocket_connection.py``) takes it from aiohttp's."""
        self._inner = inner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._meter.tcp_connections_opened += 1
        self._meter.tcp_connections_open += 1
        self._counting = CountingTransport(transport, self._meter)  # type: ignore[arg-type]
        self._inner.connection_made(self._counting)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        self._meter.bytes_in += len(data)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._meter.tcp_connections_open -= 1
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()
