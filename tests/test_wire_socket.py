"""The kernel receive time of a read (SO_TIMESTAMPNS), and the raw clients the Locust users
read with: real loopback TCP sockets, the peer played by the test."""

from __future__ import annotations

import math
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from pushlab import rfc6455
from pushlab.bench.measuring import wire_socket
from pushlab.bench.measuring.wire_clients import WireEventStream, WireHTTP, WireWebSocket, address
from pushlab.rfc6455 import Frame, Opcode

STAMP_WAIT_S = 10.0
"""A bound, not a claim: the kernel switches timestamping on in deferred work after the first
ask, so the first reads may come unstamped; the test sends until one is stamped."""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    yield server
    server.close()


def pair(listener: socket.socket) -> tuple[socket.socket, socket.socket]:
    client = socket.create_connection(listener.getsockname())
    peer, _ = listener.accept()
    return client, peer


def test_kernel_time_is_read_from_the_ancillary_timespec() -> None:
    timespec = struct.pack("@qq", 1_700_000_000, 250_000_000)
    ancillary = [(socket.SOL_SOCKET, wire_socket.SO_TIMESTAMPNS, timespec)]
    assert wire_socket.kernel_time_s(ancillary) == pytest.approx(1_700_000_000.25)


def test_a_read_without_a_timestamp_gives_nan_never_a_guess() -> None:
    assert math.isnan(wire_socket.kernel_time_s([]))


def test_a_loopback_read_carries_the_kernel_time_between_send_and_read(
    listener: socket.socket,
) -> None:
    client, peer = pair(listener)
    wire_socket.enable_receive_timestamps(client)
    stamped = []
    deadline = time.monotonic() + STAMP_WAIT_S
    while len(stamped) < 3 and time.monotonic() < deadline:
        sent_at = time.time()
        peer.sendall(b"x")
        data, kernel_at = wire_socket.read_stamped(client)
        read_at = time.time()
        assert data == b"x"
        if not math.isnan(kernel_at):
            stamped.append((sent_at, kernel_at, read_at))
        else:
            time.sleep(0.01)  # let the kernel's deferred work run
    client.close(), peer.close()
    assert stamped, "no read came with a kernel timestamp"
    for sent_at, kernel_at, read_at in stamped:
        assert sent_at <= kernel_at <= read_at


def test_a_stream_stamps_what_it_takes_with_the_read_that_completed_it(
    listener: socket.socket,
) -> None:
    client, peer = pair(listener)
    stream = wire_socket.StampedStream(client)
    peer.sendall(b"hello\n")
    assert stream.read_until(b"\n") == b"hello\n"
    assert stream.reads == 1
    assert stream.stamped_reads in (0, 1)
    peer.close()
    with pytest.raises(ConnectionError):
        stream.read_exactly(1)
    client.close()


def serve_once(listener: socket.socket, script: object) -> threading.Thread:
    """Accept one connection in a thread and let ``script(peer)`` play the server."""

    def run() -> None:
        peer, _ = listener.accept()
        with peer:
            script(peer)  # type: ignore[operator]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def read_request(peer: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += peer.recv(4096)
    return data


def answer_upgrade(peer: socket.socket) -> None:
    """Read a WebSocket upgrade request and answer it ``101`` with its accept key."""
    request = read_request(peer).decode()
    key = next(
        line.split(":", 1)[1].strip()
        for line in request.split("\r\n")
        if line.lower().startswith("sec-websocket-key")
    )
    peer.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + f"Sec-WebSocket-Accept: {rfc6455.accept_key(key)}\r\n\r\n".encode()
    )


def test_the_websocket_client_joins_fragments_and_answers_pings(listener: socket.socket) -> None:
    pongs: list[Frame] = []

    def server(peer: socket.socket) -> None:
        answer_upgrade(peer)
        peer.sendall(rfc6455.encode_frame(Frame(Opcode.PING, b"beat")))
        peer.sendall(rfc6455.encode_frame(Frame(Opcode.TEXT, b'{"id": ', fin=False)))
        peer.sendall(rfc6455.encode_frame(Frame(Opcode.CONT, b"1}")))
        buffer = b""
        while (decoded := rfc6455.decode_frame(buffer)) is None:
            buffer += peer.recv(4096)
        pongs.append(decoded[0])

    thread = serve_once(listener, server)
    host, port = listener.getsockname()
    ws = WireWebSocket(host, port, "/ws?since=0", timeout_s=5)
    frame, kernel_at = ws.receive()
    thread.join(timeout=5)
    ws.close()
    assert frame == Frame(Opcode.TEXT, b'{"id": 1}')
    assert isinstance(kernel_at, float)
    assert pongs == [Frame(Opcode.PONG, b"beat")]


def test_a_refused_upgrade_is_a_connection_error(listener: socket.socket) -> None:
    def server(peer: socket.socket) -> None:
        read_request(peer)
        peer.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    serve_once(listener, server)
    host, port = listener.getsockname()
    with pytest.raises(ConnectionError, match="HTTP 400"):
        WireWebSocket(host, port, "/ws", timeout_s=5)


def test_the_event_stream_reads_events_across_chunk_boundaries(listener: socket.socket) -> None:
    def server(peer: socket.socket) -> None:
        read_request(peer)
        peer.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        body = b': hello\n\nid: 1\ndata: {"id": 1}\n\ndata: {"id": 2}\n\n'
        for piece in (body[:10], body[10:23], body[23:]):  # chunks that split lines
            peer.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        peer.sendall(b"0\r\n\r\n")

    serve_once(listener, server)
    host, port = listener.getsockname()
    stream = WireEventStream(host, port, "/events", {"Last-Event-ID": "0"}, timeout_s=5)
    assert stream.status == 200
    first, size_bytes, _ = stream.next_event()
    second, _, _ = stream.next_event()
    assert (first.data, first.last_event_id) == ('{"id": 1}', "1")
    assert size_bytes == len(b': hello\n\nid: 1\ndata: {"id": 1}\n\n')
    assert second.data == '{"id": 2}'
    with pytest.raises(ConnectionError, match="ended"):
        stream.next_event()
    stream.close()


def test_http_answers_are_read_whole_on_one_kept_alive_connection(
    listener: socket.socket,
) -> None:
    def server(peer: socket.socket) -> None:
        for body in (b'{"messages": []}', b'{"messages": [1]}'):
            read_request(peer)
            peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    serve_once(listener, server)
    host, port = listener.getsockname()
    http = WireHTTP(host, port, timeout_s=5)
    answers = [http.get("/poll?since=0"), http.get("/poll?since=0")]
    http.close()
    assert [a.body for a in answers] == [b'{"messages": []}', b'{"messages": [1]}']
    assert http.connections_opened == 1


def test_an_address_is_read_from_the_users_host_url() -> None:
    assert address("http://127.0.0.1:8003") == ("127.0.0.1", 8003)
    with pytest.raises(ValueError, match="not a host and port"):
        address("http://127.0.0.1")


def test_every_close_of_an_http_connection_is_counted_by_who_closed_it(
    listener: socket.socket,
) -> None:
    def server(peer: socket.socket) -> None:
        read_request(peer)
        peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        read_request(peer)  # the next request is read, never answered: the server hangs up

    serve_once(listener, server)
    host, port = listener.getsockname()
    http = WireHTTP(host, port, timeout_s=5)
    assert http.get("/poll").body == b"{}"
    with pytest.raises(ConnectionError):
        http.get("/poll")

    def closing_server(peer: socket.socket) -> None:
        read_request(peer)
        peer.sendall(b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")

    serve_once(listener, closing_server)
    assert http.get("/poll").status == 503
    assert dict(http.closes) == {
        "the server closed it (end of stream)": 1,
        "the server answered Connection: close (HTTP 503)": 1,
    }
    assert http.connections_opened == 2


def test_the_websocket_client_follows_a_redirect_to_another_listener(
    listener: socket.socket,
) -> None:
    other = socket.create_server(("127.0.0.1", 0))
    other_port = other.getsockname()[1]

    def redirecting(peer: socket.socket) -> None:
        read_request(peer)
        peer.sendall(
            b"HTTP/1.1 307 Temporary Redirect\r\nContent-Length: 0\r\n"
            + f"Location: ws://127.0.0.1:{other_port}/\r\n\r\n".encode()
        )

    def upgrading(peer: socket.socket) -> None:
        answer_upgrade(peer)
        peer.sendall(rfc6455.encode_frame(Frame.text('{"id": 1}')))

    serve_once(listener, redirecting)
    serve_once(other, upgrading)
    host, port = listener.getsockname()
    ws = WireWebSocket(host, port, "/ws?since=0", timeout_s=5)
    frame, _ = ws.receive()
    ws.close()
    other.close()
    assert frame.payload == b'{"id": 1}'
