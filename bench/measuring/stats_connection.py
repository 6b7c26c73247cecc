"""The harness's own connection to a server: ``/stats`` snapshots and the publisher switch."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from dataclasses import dataclass
from typing import Any


class ServerConnection:
    """One kept-alive HTTP/1.1 connection for ``/stats`` and ``/publisher``.

    Hand-made so that the bytes it exchanges are known exactly: the server's meter counts
    them too, and the harness takes them out of the window's byte counts. One connection for
    the whole scenario adds nothing to ``tcp_connections_opened``.

    A server closes a connection that stays silent, in two ways: one that has not sent its
    first request within the header deadline (10 s, ``servers.connections.GuardedProtocol``)
    and a kept-alive one idle for aiohttp's ``keepalive_timeout`` (75 s). While 10,000 clients
    connect, the harness can be silent for longer than either. So the connection is opened at
    the first request, not before (nothing is sent on it until then), and one idle for more
    than ``IDLE_REFRESH_S`` is replaced before it is used, rather than found closed halfway
    through a request.
    """

    IDLE_REFRESH_S = 30.0

    def __init__(self, host: str, port: int) -> None:
        self.sock: socket.socket | None = None
        self.host = f"{host}:{port}"
        self.buffer = b""
        self.used_at = time.monotonic()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Exchange:
        if self.sock is None or time.monotonic() - self.used_at > self.IDLE_REFRESH_S:
            self.reconnect()
        assert self.sock is not None
        self.used_at = time.monotonic()
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        sent = head.encode() + b"\r\n" + payload
        self.sock.sendall(sent)
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        header_end = self.buffer.index(b"\r\n\r\n") + 4
        headers = self.buffer[:header_end].decode("latin-1").lower()
        length = int(headers.split("content-length:", 1)[1].split("\r\n", 1)[0])
        while len(self.buffer) < header_end + length:
            self._receive()
        response = self.buffer[: header_end + length]
        self.buffer = self.buffer[header_end + length :]
        return Exchange(json.loads(response[header_end:]), len(sent), len(response))

    def reconnect(self) -> None:
        """A new connection to the same address (the server there was restarted)."""
        self.close()
        host, port = self.host.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buffer = b""
        self.used_at = time.monotonic()

    def _receive(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the stats connection")
        self.buffer += chunk

    def stats(self) -> Exchange:
        return self.request("GET", "/stats")

    def set_publisher(
        self, publish_rate: float, arrivals: str, seed: int | None = None, text_bytes: int = 0
    ) -> None:
        body: dict[str, Any] = {"publish_rate": publish_rate, "arrivals": arrivals}
        if seed is not None:
            body["seed"] = seed
        if text_bytes:
            body["text_bytes"] = text_bytes
        self.request("POST", "/publisher", body)

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None


@dataclass(frozen=True)
class Exchange:
    """One request and its answer: the answer's JSON body, and the bytes each way."""

    body: dict[str, Any]
    bytes_sent: int
    bytes_received: int
