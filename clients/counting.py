"""Count a client's bytes where they really cross: at the socket.

aiohttp's tracing hooks see requests and chunks, not the bytes on the wire (headers, chunk
framing and WebSocket frame heads are missing). So we hand aiohttp sockets that count every
byte the operating system accepted from us (``send``) or gave us (``recv``). asyncio's
selector transports call exactly these methods; ``TCPConnector(socket_factory=...)`` is the
public hook that lets us supply the socket.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

WHERE_COUNTED = "counted at this client's socket"


@dataclass
class ByteMeter:
    """Bytes and TCP connections of one client, as its sockets saw them."""

    bytes_sent: int = 0
    bytes_received: int = 0
    connections_opened: int = 0


class CountingSocket(socket.socket):
    """A TCP socket that adds every byte it sends or receives to a ``ByteMeter``."""

    meter: ByteMeter

    def send(self, data: Any, flags: int = 0) -> int:
        sent = super().send(data, flags)
        self.meter.bytes_sent += sent
        return sent

    def sendall(self, data: Any, flags: int = 0) -> None:
        super().sendall(data, flags)
        self.meter.bytes_sent += memoryview(data).nbytes

    def sendmsg(self, buffers: Any, *args: Any) -> int:
        sent = super().sendmsg(buffers, *args)
        self.meter.bytes_sent += sent
        return sent

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        self.meter.bytes_received += len(data)
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        received = super().recv_into(buffer, nbytes, flags)
        self.meter.bytes_received += received
        return received


def counting_socket_factory(meter: ByteMeter) -> Callable[[Any], socket.socket]:
    """A ``socket_factory`` for aiohttp's TCPConnector whose sockets report to ``meter``."""

    def make_socket(addr_info: Any) -> socket.socket:
        family, type_, proto, _, _ = addr_info
        sock = CountingSocket(family, type_, proto)
        sock.meter = meter
        meter.connections_opened += 1
        return sock

    return make_socket


def counting_session(meter: ByteMeter, **connector_options: Any) -> aiohttp.ClientSession:
    """An aiohttp session whose every byte is counted in ``meter``."""
    connector = aiohttp.TCPConnector(
        socket_factory=counting_socket_factory(meter), **connector_options
    )
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)  # streams are long-lived
    return aiohttp.ClientSession(connector=connector, timeout=timeout)
