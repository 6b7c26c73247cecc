"""The Locust users' connections, read over a raw socket so that every message carries the
kernel's receive time (``wire_socket.py``), with pushlab's own sans-I/O codecs on top.

- :class:`WireWebSocket`: RFC 6455's opening handshake and frames (``pushlab/rfc6455.py``);
  it answers pings (§5.5.2) and joins fragments (§5.4), and hands over data and close frames.
- :class:`WireEventStream`: one ``GET /events`` (RFC 9112: a chunked body, §7.1, or one that
  ends with the connection) read by the same decoder as ``pushlab client sse``
  (``clients/eventstream.py``).
- :class:`WireHTTP`: HTTP/1.1 GETs on one kept-alive connection, for polling and long polling:
  each answer's body is read whole (``Content-Length``, RFC 9112 §6.3).

Each returns, beside what it read, ``kernel_at``: the kernel time of the read that completed
it (NaN when the kernel gave none). No gevent and no Locust here: under Locust the socket
module is gevent's, so every read is cooperative; the unit tests use plain sockets.
"""

from __future__ import annotations

import contextlib
import socket
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from pushlab import rfc6455
from pushlab.bench.measuring.http_chunked import ChunkedDecoder
from pushlab.bench.measuring.tls import unverified_tls_context
from pushlab.bench.measuring.wire_socket import StampedStream
from pushlab.clients.eventstream import Event, EventStreamDecoder, read_event
from pushlab.rfc6455 import Frame, Opcode, ProtocolError


def connect(host: str, port: int, timeout_s: float, tls: bool = False) -> StampedStream:
    """A TCP connection whose reads carry kernel receive times; over TLS (a proxy in front
    of the server) they cannot: the decrypted bytes come with NaN, never a guess."""
    sock = socket.create_connection((host, port), timeout=timeout_s)
    if tls:
        sock = unverified_tls_context().wrap_socket(sock, server_hostname=host)
    return StampedStream(sock)


def is_tls(url: str) -> bool:
    """``https://…`` (or ``wss://…``): the clients speak TLS to it."""
    return urlsplit(url).scheme in ("https", "wss")


def read_head(stream: StampedStream) -> rfc6455.ResponseHead:
    """An HTTP/1.1 response's status line and headers (RFC 9112 §2.1)."""
    parsed = rfc6455.parse_response_head(stream.read_until(b"\r\n\r\n"))
    assert parsed is not None  # read_until returned the blank line that ends it
    return parsed[0]


def read_chunked(stream: StampedStream) -> bytes:
    """A chunked body, whole: read until its last chunk (nothing is pipelined after it)."""
    dechunker, body = ChunkedDecoder(), bytearray()
    while not dechunker.ended:
        if not stream.buffer:
            stream.fill()
        body += dechunker.feed(stream.take(len(stream.buffer)))
    return bytes(body)


def request_bytes(host: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class WireWebSocket:
    """A WebSocket client connection (RFC 6455) whose messages carry kernel receive times.

    §4.1 lets a client follow a redirect before the upgrade (a peer server whose WebSocket
    listener is on another port answers ``307``): it follows up to ``MAX_REDIRECTS``.
    """

    MAX_REDIRECTS = 3

    def __init__(
        self, host: str, port: int, path: str, timeout_s: float, tls: bool = False
    ) -> None:
        for _ in range(self.MAX_REDIRECTS + 1):
            self.stream = connect(host, port, timeout_s, tls)
            key = rfc6455.generate_key()
            self.stream.send(rfc6455.build_upgrade_request(f"{host}:{port}", path, key))
            head = read_head(self.stream)
            location = head.header("Location")
            if head.status in REDIRECTS and location:
                self.stream.close()
                host, port, path = ws_target(location)
                continue
            accepted = head.header("Sec-WebSocket-Accept") == rfc6455.accept_key(key)
            if head.status == 101 and accepted:
                return
            self.stream.close()
            raise ConnectionError(f"the upgrade was refused: HTTP {head.status} {head.reason}")
        raise ConnectionError(f"more than {self.MAX_REDIRECTS} redirects")

    def receive(self) -> tuple[Frame, float]:
        """The next data message (fragments joined) or close frame, and its kernel time."""
        fragments: list[Frame] = []
        while True:
            frame = self.next_frame()
            if frame.opcode is Opcode.PING:  # §5.5.2: answer with the same application data
                self.send(Frame(Opcode.PONG, frame.payload))
            elif frame.opcode is Opcode.CLOSE:
                return frame, self.stream.kernel_at
            elif frame.opcode is not Opcode.PONG:
                fragments.append(frame)
                if frame.fin:
                    payload = b"".join(f.payload for f in fragments)
                    return Frame(fragments[0].opcode, payload), self.stream.kernel_at

    def next_frame(self) -> Frame:
        while (decoded := rfc6455.decode_frame(self.stream.buffer)) is None:
            self.stream.fill()
        frame, consumed = decoded
        self.stream.take(consumed)
        return frame

    def send(self, frame: Frame) -> None:
        self.stream.send(rfc6455.encode_frame(frame, mask=True))  # §5.3: clients mask

    def close(self) -> None:
        """Send a close frame (§5.5.1) and drop the connection without waiting for the echo."""
        with contextlib.suppress(OSError):
            self.send(Frame.close())
        self.stream.close()


class WireEventStream:
    """One ``text/event-stream`` response, read event by event with kernel receive times."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        headers: dict[str, str],
        timeout_s: float,
        tls: bool = False,
    ):
        self.stream = connect(host, port, timeout_s, tls)
        all_headers = {"Accept": "text/event-stream", **headers}
        self.stream.send(request_bytes(f"{host}:{port}", path, all_headers))
        self.head = read_head(self.stream)
        encoding = (self.head.header("Transfer-Encoding") or "").lower()
        self.dechunker = ChunkedDecoder() if "chunked" in encoding else None
        self.body = bytearray()  # de-chunked bytes not yet split into lines
        self.decoder = EventStreamDecoder()

    @property
    def status(self) -> int:
        return self.head.status

    def next_event(self) -> tuple[Event, int, float]:
        """The next event, the bytes its lines took, and the kernel time that completed it."""
        event, size_bytes = read_event(self.decoder, self.next_line)
        return event, size_bytes, self.stream.kernel_at

    def next_line(self) -> bytes:
        """The body's next line, with its end."""
        while (end := self.body.find(b"\n")) < 0:
            self.more_body()
        line = bytes(self.body[: end + 1])
        del self.body[: end + 1]
        return line

    def more_body(self) -> None:
        """Add what the next read brings to the body (de-chunked: RFC 9112 §7.1)."""
        if self.dechunker and self.dechunker.ended:
            raise ConnectionError("the event stream ended")
        if not self.stream.buffer:
            self.stream.fill()
        data = self.stream.take(len(self.stream.buffer))
        self.body += self.dechunker.feed(data) if self.dechunker else data

    def close(self) -> None:
        self.stream.close()


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, its body whole, and the kernel time of the read that completed it."""

    status: int
    body: bytes
    kernel_at: float


class WireHTTP:
    """HTTP/1.1 GETs on one kept-alive connection, reopened after it closes.

    Every close is counted by its reason (``closes``): the server said ``Connection: close``,
    the server closed it (end of stream), a read timed out, or another error. A client that
    opens new connections should be able to say which side ended the old ones, and how.
    """

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.stream: StampedStream | None = None
        self.connections_opened = 0
        self.closes: Counter[str] = Counter()

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        if self.stream is None:
            self.stream = connect(self.host, self.port, self.timeout_s)
            self.connections_opened += 1
        stream = self.stream
        try:
            stream.send(request_bytes(f"{self.host}:{self.port}", path, headers or {}))
            head = read_head(stream)
            length = head.header("Content-Length")
            if length is not None:
                body = stream.read_exactly(int(length))
            elif "chunked" in (head.header("Transfer-Encoding") or "").lower():
                body = read_chunked(stream)  # RFC 9112 §7.1 (a client reads both: §6.3)
            else:
                raise ProtocolError("an answer without Content-Length or chunked encoding")
        except BaseException as error:
            self.close(close_reason(error))
            raise
        if (head.header("Connection") or "").lower() == "close":
            self.close(f"the server answered Connection: close (HTTP {head.status})")
        return Answer(head.status, body, stream.kernel_at)

    def close(self, reason: str = "") -> None:
        """Close the connection; a ``reason`` counts it (the run's own end does not)."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None
            if reason:
                self.closes[reason] += 1


def close_reason(error: BaseException) -> str:
    """Why a connection ended, in words that tell the sides apart."""
    if isinstance(error, ConnectionError) and "closed the connection" in str(error):
        return "the server closed it (end of stream)"
    if isinstance(error, ConnectionResetError):
        return "the server reset it"
    if isinstance(error, TimeoutError | socket.timeout):
        return "a read timed out (the client gave up)"
    return f"error: {type(error).__name__}"


REDIRECTS = frozenset({301, 302, 303, 307, 308})


def ws_target(url: str) -> tuple[str, int, str]:
    """``ws://127.0.0.1:9001/feed?x=1`` → ``("127.0.0.1", 9001, "/feed?x=1")``."""
    parts = urlsplit(url)
    host, port = address(url)
    return host, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def address(url: str) -> tuple[str, int]:
    """``http://127.0.0.1:8003`` → ``("127.0.0.1", 8003)``."""
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"not a host and port: {url!r}")
    return parts.hostname, parts.port
