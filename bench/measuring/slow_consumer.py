"""A slow consumer: one push client that stops reading for a while, and what it is then given.

A broadcast loop that never waits must not wait for a client that does not read either
(``servers/broadcast.py``): the server keeps writing until the client's transport buffer passes
the high-water mark, takes it out of the loop, and lets it catch up from the history once it
drains. Whether that works shows only with a real socket that really stops reading, so this
module is one: a raw socket (not a Locust user, whose gevent loop would keep reading in the
background), with a small receive buffer so that the kernel holds little and the server's own
buffer fills soon. It speaks just enough WebSocket (``pushlab.rfc6455``) and SSE
(``http.client`` undoes the chunking, ``pushlab.clients.eventstream`` reads the events).

After its pause it reads on. Whatever the server does, every message must be accounted for:
received, or named by a gap signal (a WebSocket close 4001, an SSE ``event: gap``, both with the
ids that are gone; ``pushlab.protocol``). After a gap the consumer does what a client should,
reconnects from the gap's end (``since=to_id``), and reads on; after any other hang-up (a
WebSocket server closes a client that has not answered its ping for a while: a paused reader
cannot) it reconnects from its own cursor. :meth:`SlowConsumer.finish` returns the account;
ids that are neither received nor signalled are *silent losses*.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable

from pushlab import rfc6455
from pushlab.bench.analysis.slow_window import Account
from pushlab.clients.eventstream import Event, EventStreamDecoder
from pushlab.protocol import GAP_CLOSE_CODE, GAP_EVENT, Gap, gap_from_json
from pushlab.techniques import SSE, WEBSOCKET, technique

RECEIVE_BUFFER_BYTES = 16 * 1024  # SO_RCVBUF: the kernel's share of the backlog stays small
READ_BYTES = 64 * 1024
CONNECT_TIMEOUT_S = 10.0
MAX_FAILED_CONNECTS = 5  # in a row: then the consumer gives up and says why
RECONNECT_DELAY_S = 0.2


class SlowConsumer:
    """One WebSocket or SSE client on its own thread; :meth:`pause` stops its reading."""

    def __init__(self, technique_name: str, host: str, port: int, cursor: int) -> None:
        if technique_name not in SLOW_TECHNIQUES:
            raise ValueError(f"a slow consumer is a push client: one of {SLOW_TECHNIQUES}")
        self.technique, self.host, self.port = technique_name, host, port
        self.path = technique(technique_name).path
        self.account = Account(first_id=cursor + 1)
        self.cursor = cursor
        self.reading = threading.Event()
        self.reading.set()
        self.level = threading.Condition()
        self.stopped = threading.Event()
        self.sock: socket.socket | None = None
        self.connected = threading.Event()
        self.thread = threading.Thread(target=self._run, name="slow-consumer", daemon=True)
        self.thread.start()
        if not self.connected.wait(CONNECT_TIMEOUT_S) or self.account.error:
            raise RuntimeError(f"the slow consumer could not connect: {self.account.error}")

    def pause(self) -> float:
        """Stop reading (the socket stays open); the wall-clock time it stopped."""
        self.reading.clear()
        return time.time()

    def resume(self) -> float:
        self.reading.set()
        return time.time()

    def finish(self, last_id: int, timeout_s: float) -> Account:
        """Wait until every id up to ``last_id`` is received or signalled; then hang up."""
        deadline = time.monotonic() + timeout_s
        with self.level:
            self.level.wait_for(
                lambda: self.cursor >= last_id or self.account.error != "" or self.stopped.is_set(),
                timeout=max(deadline - time.monotonic(), 0),
            )
        self.stopped.set()
        self.reading.set()
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(CONNECT_TIMEOUT_S)
        return self.account

    # --- the reading thread ---------------------------------------------------------------

    def _run(self) -> None:
        """Sessions, one after another, each from the cursor: until :meth:`finish`."""
        failed = 0
        try:
            while not self.stopped.is_set():
                try:
                    self._session()
                    failed = 0
                except (OSError, http.client.HTTPException):
                    failed += 1
                    if self.stopped.is_set() or failed >= MAX_FAILED_CONNECTS:
                        raise
                    time.sleep(RECONNECT_DELAY_S)
                if not self.stopped.is_set():
                    self.account.reconnects += 1
        except (OSError, ValueError, http.client.HTTPException) as error:
            if not self.stopped.is_set():
                self.account.error = f"{type(error).__name__}: {error}"
        finally:
            self.connected.set()
            with self.level:
                self.level.notify_all()

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        sock.settimeout(CONNECT_TIMEOUT_S)
        sock.connect((self.host, self.port))
        sock.settimeout(None)
        self.sock = sock
        return sock

    def _session(self) -> None:
        """One connection from ``self.cursor``, read until the server ends it."""
        SESSIONS[self.technique](self)

    def _wait_to_read(self) -> bool:
        self.reading.wait()
        return not self.stopped.is_set()

    def _received(self, message_id: int) -> None:
        self.account.received.append(message_id)
        self._advance(message_id)

    def _told_of(self, gap: Gap | None) -> None:
        """A gap signal: those ids are gone; the next connection resumes after them."""
        if gap is not None:
            self.account.gaps.append(gap)
            self._advance(gap.to_id)

    def _advance(self, message_id: int) -> None:
        with self.level:
            self.cursor = max(self.cursor, message_id)
            self.level.notify_all()

    def _websocket_session(self) -> None:
        sock = self._connect()
        host = f"{self.host}:{self.port}"
        sock.sendall(rfc6455.build_upgrade_request(host, f"{self.path}?since={self.cursor}"))
        buffer = bytearray()
        head = None
        while head is None:
            chunk = sock.recv(READ_BYTES)
            if not chunk:
                raise ConnectionError("the server closed the connection during the handshake")
            buffer += chunk
            head = rfc6455.parse_response_head(bytes(buffer))
        answer, consumed = head
        if answer.status != 101:
            raise ConnectionError(f"the WebSocket handshake was answered {answer.status}")
        del buffer[:consumed]
        self.connected.set()
        with contextlib.closing(sock):
            while self._wait_to_read():
                while (decoded := rfc6455.decode_frame(buffer)) is not None:
                    frame, used = decoded
                    del buffer[:used]
                    if frame.opcode == rfc6455.Opcode.CLOSE:
                        code, reason = rfc6455.parse_close_payload(frame.payload)
                        if code == GAP_CLOSE_CODE:  # fell past the history: the reason says
                            self._told_of(gap_from_json(json.loads(reason)["gap"]))
                        return
                    if frame.opcode == rfc6455.Opcode.PING:
                        pong = rfc6455.Frame(rfc6455.Opcode.PONG, frame.payload)
                        sock.sendall(rfc6455.encode_frame(pong, mask=True))
                    elif frame.opcode == rfc6455.Opcode.TEXT:
                        body = json.loads(frame.payload)
                        if "gap" in body:  # a late resume: the gap first, then the messages
                            self._told_of(gap_from_json(body["gap"]))
                        else:
                            self._received(int(body["id"]))
                chunk = sock.recv(READ_BYTES)
                if not chunk:
                    return
                buffer += chunk

    def _sse_session(self) -> None:
        sock = self._connect()
        connection = http.client.HTTPConnection(self.host, self.port)
        connection.sock = sock  # ours, with its small receive buffer
        with contextlib.closing(connection):
            connection.request("GET", f"{self.path}?since={self.cursor}")
            response = connection.getresponse()
            if response.status != 200:
                raise ConnectionError(f"the event stream was answered {response.status}")
            self.connected.set()
            decoder = EventStreamDecoder()
            while self._wait_to_read():
                line = response.readline()
                if not line:
                    return
                item = decoder.feed(line.decode())
                if isinstance(item, Event):
                    if item.event_type == GAP_EVENT:  # a late resume's, or a slow one's last
                        self._told_of(gap_from_json(json.loads(item.data)))
                    else:
                        self._received(int(json.loads(item.data)["id"]))


SESSIONS: dict[str, Callable[[SlowConsumer], None]] = {
    WEBSOCKET.name: SlowConsumer._websocket_session,
    SSE.name: SlowConsumer._sse_session,
}
"""How the slow consumer reads each push technique: RFC 6455 frames, or an event stream
(tests/test_techniques_registries.py: one for every technique that pushes)."""

SLOW_TECHNIQUES: tuple[str, ...] = tuple(SESSIONS)
"""The techniques a slow consumer can be: those that push."""
