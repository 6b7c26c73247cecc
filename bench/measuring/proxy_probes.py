"""What a proxy does to one request of each technique, measured by one client of our own.

The load generator's rows say what a proxied technique costs; these probes say what broke, each
with one connection through the proxy, before the clients arrive (the publisher is still off, so
nothing but the probe's own message is published):

- :func:`sse_first_event`: publish one message straight to the server, and time its arrival on
  an event stream through the proxy (a buffering proxy holds it until its buffer fills);
- :func:`held_poll`: a long poll asking for a long hold: how it ended (status) and when;
- :func:`upgrade_status`: the status a WebSocket handshake gets (101, or a refusal);
- :func:`poll_header_bytes`: what a repeated poll's headers weigh on the wire, each way, over
  HTTP/1.1 or HTTP/2 (HPACK sends a header it has sent before as an index of a byte or two).

Plain sockets (TLS where the proxy speaks it), so the bytes counted are the bytes sent.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
import urllib.request
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.events

from pushlab.rfc6455 import build_upgrade_request
from pushlab.techniques import LONGPOLL, POLLING, SSE, WEBSOCKET

HEADER_END = b"\r\n\r\n"
FRAME_HEADER_BYTES = 9  # RFC 9113 §4.1
HEADER_FRAME_TYPES = (0x1, 0x9)  # HEADERS, CONTINUATION
BROWSER_HEADERS = (
    (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
    ),
    ("accept", "application/json"),
    ("accept-language", "en-GB,en;q=0.9"),
    ("accept-encoding", "gzip, deflate, br"),
    ("referer", "http://localhost/"),
)
"""What a browser's ``fetch()`` adds to every poll (no cookies): the probes send them too, so
the bytes are a page's bytes, not a bare client's."""

POLLS_PER_PROBE = 6
"""The first poll of a connection carries the HTTP/2 preface and fills HPACK's table: the
figures are the mean of the polls after it."""


def connect(url: str, timeout_s: float, alpn: str = "http/1.1") -> socket.socket:
    """A TCP connection to ``url``'s host, inside TLS for ``https`` (any certificate: the
    proxy's is made at start for localhost and signed by nobody)."""
    scheme, host_port = url.split("://", 1)
    host, port = host_port.rstrip("/").rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=timeout_s)
    if scheme != "https":
        return raw
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_alpn_protocols([alpn])
    return context.wrap_socket(raw, server_hostname="localhost")


def request_text(url: str, path: str, extra: str = "") -> bytes:
    host = url.split("://", 1)[1].rstrip("/")
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def browser_request(url: str, path: str) -> bytes:
    return request_text(
        url, path, "".join(f"{name}: {value}\r\n" for name, value in BROWSER_HEADERS)
    )


def read_until(connection: socket.socket, marker: bytes, deadline: float) -> bytes | None:
    """Bytes up to and including ``marker``; None if the deadline or the end came first."""
    data = b""
    while marker not in data:
        connection.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            chunk = connection.recv(65536)
        except (TimeoutError, ssl.SSLError, OSError):
            return None
        if not chunk:
            return None
        data += chunk
    return data


def publish(server_url: str, text: str, timeout_s: float) -> None:
    request = urllib.request.Request(
        f"{server_url}/messages",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=timeout_s).close()


def sse_first_event(proxy_url: str, server_url: str, wait_s: float) -> float | None:
    """Milliseconds from a message's publication to its event on a stream through the proxy;
    None if it had not come ``wait_s`` seconds later."""
    marker = f"proxy probe {time.time_ns()}"
    with connect(proxy_url, wait_s) as connection:
        connection.sendall(request_text(proxy_url, SSE.path))
        published_at = time.monotonic()
        publish(server_url, marker, wait_s)
        seen = read_until(connection, marker.encode(), published_at + wait_s)
        return None if seen is None else (time.monotonic() - published_at) * 1000


@dataclass(frozen=True)
class HeldPoll:
    status: int  # 0: no answer at all (the connection ended, or the probe's own limit)
    ended_after_s: float


def held_poll(proxy_url: str, hold_s: float, margin_s: float) -> HeldPoll:
    """One long poll asking to be held ``hold_s`` (nothing is published meanwhile)."""
    path = f"{LONGPOLL.path}?since=0&timeout={hold_s:g}"
    started = time.monotonic()
    with connect(proxy_url, hold_s + margin_s) as connection:
        connection.sendall(request_text(proxy_url, path, "Connection: close\r\n"))
        head = read_until(connection, b"\r\n", started + hold_s + margin_s)
    status = int(head.split(b" ", 2)[1]) if head else 0
    return HeldPoll(status, time.monotonic() - started)


def upgrade_status(proxy_url: str, timeout_s: float) -> int:
    """The status a WebSocket handshake through the proxy gets (0: no answer)."""
    with connect(proxy_url, timeout_s) as connection:
        host = proxy_url.split("://", 1)[1].rstrip("/")
        connection.sendall(build_upgrade_request(host, WEBSOCKET.path))
        head = read_until(connection, b"\r\n", time.monotonic() + timeout_s)
    return int(head.split(b" ", 2)[1]) if head else 0


@dataclass(frozen=True)
class HeaderBytes:
    protocol: str  # "http/1.1" or "h2"
    request_bytes: float  # per poll, after the first
    response_bytes: float


def poll_header_bytes(url: str, http2: bool, timeout_s: float) -> HeaderBytes:
    """Polls on one connection: the mean header bytes each way of every poll after the first."""
    path = f"{POLLING.path}?since=0"
    sizes = (poll_h2 if http2 else poll_h1)(url, path, timeout_s)[1:]
    return HeaderBytes(
        "h2" if http2 else "http/1.1",
        sum(sent for sent, _ in sizes) / len(sizes),
        sum(received for _, received in sizes) / len(sizes),
    )


def poll_h1(url: str, path: str, timeout_s: float) -> list[tuple[int, int]]:
    sizes = []
    with connect(url, timeout_s) as connection:
        for _ in range(POLLS_PER_PROBE):
            request = browser_request(url, path)
            connection.sendall(request)
            data = read_until(connection, HEADER_END, time.monotonic() + timeout_s)
            if data is None:
                raise RuntimeError("the poll got no answer")
            head, body = data.split(HEADER_END, 1)
            fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:])
            length = int({name.lower(): value for name, value in fields.items()}[b"content-length"])
            while len(body) < length:
                body += connection.recv(65536)
            sizes.append((len(request), len(head) + len(HEADER_END)))
    return sizes


def poll_h2(url: str, path: str, timeout_s: float) -> list[tuple[int, int]]:
    """The same polls as HTTP/2 streams of one connection: HEADERS frames counted each way."""
    authority = url.split("://", 1)[1].rstrip("/")
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sizes = []
    with connect(url, timeout_s, alpn="h2") as connection:
        connection.sendall(conn.data_to_send())
        for _ in range(POLLS_PER_PROBE):
            stream = conn.get_next_available_stream_id()
            headers = [(":method", "GET"), (":scheme", "https"), (":authority", authority)]
            conn.send_headers(
                stream, [*headers, (":path", path), *BROWSER_HEADERS], end_stream=True
            )
            request = conn.data_to_send()
            connection.sendall(request)
            frames, ended = FrameCounter(), False
            while not ended:
                data = connection.recv(65536)
                if not data:
                    raise RuntimeError("the HTTP/2 connection ended")
                frames.feed(data)
                for event in conn.receive_data(data):
                    ended = ended or (
                        isinstance(event, h2.events.StreamEnded) and event.stream_id == stream
                    )
                connection.sendall(conn.data_to_send())
            sizes.append((len(request), frames.header_bytes))
    return sizes


class FrameCounter:
    """Counts the bytes of the HEADERS and CONTINUATION frames in a received byte stream
    (frames may be cut across reads: the rest waits for the next one)."""

    def __init__(self) -> None:
        self.header_bytes = 0
        self.pending = b""

    def feed(self, data: bytes) -> None:
        self.pending += data
        while len(self.pending) >= FRAME_HEADER_BYTES:
            size = FRAME_HEADER_BYTES + int.from_bytes(self.pending[:3], "big")
            if len(self.pending) < size:
                return
            if self.pending[3] in HEADER_FRAME_TYPES:
                self.header_bytes += size
            self.pending = self.pending[size:]
