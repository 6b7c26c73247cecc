"""One WebSocket client after its handshake: only what a held connection needs (issue 26).

After the ``101`` a push client mostly sits there: the broadcast loop writes to its socket, and
now and then it sends a frame. Left in aiohttp, it would keep for its whole life what served one
HTTP request: the request handler's two tasks, the request with its parsed headers, the
middlewares' frames, a ``WebSocketResponse`` with its reader, writer and queue (16 KB a client,
two thirds of it aiohttp's, by ``bench/measuring/connection_memory.py``).

So aiohttp answers the handshake (:class:`UpgradeOnly`: its checks, its ``101``, nothing after)
and :func:`take_over` gives the socket to :class:`WebSocketConnection`, an ``asyncio.Protocol``
of a few slots: asyncio calls ``data_received`` with the client's bytes, the sans-I/O
:class:`~pushlab.servers.rfc6455_rules.ClientFrames` turns them into frames by every rule of
RFC 6455, and the connection answers each one: a text frame is a chat message, a ping gets its
pong (§5.5.2), a Close its Close (§5.5.1). No task waits per client; one timer pings a silent
client. :func:`let_go` then tells aiohttp the connection has ended, as if the client had left:
it ends its handler and forgets the socket, which lives on under pushlab's metering.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from pushlab.protocol import GAP_CLOSE_CODE, Gap
from pushlab.rfc6455 import (
    FIN,
    CloseCode,
    Frame,
    Opcode,
    encode_close_payload,
    frame_bytes,
    parse_close_payload,
)
from pushlab.servers.broadcast import Broadcast, Subscriber
from pushlab.servers.common import ClientError, parse_json_object, validate_text
from pushlab.servers.config import ServerConfig
from pushlab.servers.feeds import FeedUnavailableError
from pushlab.servers.keys import CONFIG, FEED, METER, SOCKETS
from pushlab.servers.metering import MeteredProtocol, raw_transport
from pushlab.servers.ratelimit import LIMITER, refusal
from pushlab.servers.rfc6455_rules import ClientFrames, ConnectionFailure

CLOSE_TIMEOUT_S = 10.0  # aiohttp's: how long a Close waits for the client's (§7.1.1)
INBOX_LIMIT = 64  # client messages waiting to be published; more, and reading pauses
PUBLISHING: set[asyncio.Task[None]] = set()  # the running inboxes (asyncio keeps weak refs)


async def publish_client_frame(
    app: web.Application, address: str, data: str | bytes
) -> dict[str, Any] | None:
    """A text frame from a client is a chat message, ``{"text": "..."}``: publish it, or return
    the error to send back (rate limit, malformed JSON, the chat rules, a feed that is down)."""
    limiter = app.get(LIMITER)
    refused = None if limiter is None else limiter.take(address)
    if limiter is not None and refused is not None:
        return {"error": refusal(limiter), "retry_after_s": refused}
    try:
        payload = parse_json_object(data, what="a frame")
        await app[FEED].publish(validate_text(payload, app[CONFIG]))
    except (ClientError, FeedUnavailableError) as error:
        return {"error": str(error)}
    return None


class UpgradeOnly(web.WebSocketResponse):
    """aiohttp's opening handshake and its ``101``, then nothing of aiohttp's: no reader, no
    writer, no heartbeat, and no Close when the handler returns (the socket is not its own).
    No extension either: permessage-deflate (aiohttp's default) is left unanswered, so the
    client sends plain frames (RFC 7692 §5; a browser offers it on every upgrade)."""

    def __init__(self) -> None:
        super().__init__(compress=False)

    def _post_start(self, request: web.BaseRequest, protocol: str | None, *args: Any) -> None:
        self._ws_protocol = protocol

    async def write_eof(self) -> None:  # type: ignore[override]
        self._eof_sent = True


class WebSocketConnection(Subscriber, asyncio.Protocol):
    """A client of the broadcast whose frames pushlab reads itself, after the handshake."""

    __slots__ = ("__weakref__", "_address", "_app", "_broadcast", "_frames", "_heard", "_inbox")
    __slots__ += ("_metered", "_paused", "_pinged", "_state", "_timer", "_waiter")

    OPEN, CLOSING, CLOSED = 1, 2, 3  # §4.1 and §7: OPEN after the 101, CLOSING after a Close

    def __init__(self, request: web.Request, broadcast: Broadcast) -> None:
        super().__init__(request.transport, self)  # type: ignore[arg-type]  # it drains itself
        self._app, self._broadcast = request.app, broadcast
        self._address = request.remote or ""
        self._metered = request.transport  # writes other than the broadcast's are counted
        self._frames = ClientFrames(self.config.max_message_bytes)
        self._paused = request.protocol.writing_paused
        self._state, self._heard, self._pinged = self.OPEN, time.monotonic(), False
        self._inbox: list[bytes] | None = None
        self._waiter: asyncio.Future[None] | None = None  # drain() or close() waiting
        self._timer: asyncio.TimerHandle | None = None
        self._arm(self.config.ws_heartbeat_s)
        self._app[SOCKETS].add(self)
        self._app[METER].clients_connected += 1

    async def join(self, cursor: int) -> None:
        """Join the broadcast from ``cursor``; a Close that came meanwhile keeps it out."""
        if self._state is self.OPEN:
            await self._broadcast.join(self, cursor)
        if self._state is not self.OPEN:
            self._broadcast.leave(self)

    @property
    def config(self) -> ServerConfig:
        return self._app[CONFIG]

    def data_received(self, data: bytes) -> None:
        self._heard = time.monotonic()
        try:
            for frame in self._frames.feed(data):
                self._answer(frame)
        except ConnectionFailure as failure:
            self.start_closing(failure.code, str(failure).encode())

    def _answer(self, frame: Frame) -> None:
        if frame.opcode is Opcode.CLOSE:  # §5.5.1: answer a Close with a Close, then hang up
            code, _ = parse_close_payload(frame.payload)
            self.start_closing(
                code if code != CloseCode.NO_STATUS_RCVD else CloseCode.NORMAL_CLOSURE
            )
            self.transport.close()  # §7.1.1: the server closes the TCP connection first
        elif self._state is not self.OPEN:
            return  # closing: only the client's Close matters now
        elif frame.opcode is Opcode.PING:
            self._send(frame_bytes(frame.payload, FIN | Opcode.PONG))  # §5.5.2
        elif frame.opcode is Opcode.TEXT:
            self._publish(frame.payload)
        elif frame.opcode is Opcode.BINARY:
            self._send_json({"error": "binary frames are not used here; send text"})

    def _publish(self, payload: bytes) -> None:
        """Publish the client's messages in order, one at a time (a shared feed's publish waits
        on Redis), in a task that lives while there is something to publish."""
        if self._inbox is None:
            self._inbox = []
            task = asyncio.create_task(self._publish_inbox(self._inbox))
            PUBLISHING.add(task)
            task.add_done_callback(PUBLISHING.discard)
        self._inbox.append(payload)
        if len(self._inbox) >= INBOX_LIMIT:
            self.transport.pause_reading()

    async def _publish_inbox(self, inbox: list[bytes]) -> None:
        while inbox:
            error = await publish_client_frame(self._app, self._address, inbox.pop(0))
            if error is not None and self._state is self.OPEN:
                self._send_json(error)
        self._inbox = None
        if not self.transport.is_closing():
            self.transport.resume_reading()  # if a full inbox paused it

    def _send(self, frame: bytes) -> None:
        if not self.transport.is_closing():
            self._metered.write(frame)

    def _send_json(self, data: dict[str, Any]) -> None:
        self._send(frame_bytes(json.dumps(data).encode()))

    def _arm(self, delay_s: float) -> None:
        if self.config.ws_heartbeat_s:
            self._timer = asyncio.get_running_loop().call_later(delay_s, self._heartbeat)

    def _heartbeat(self) -> None:
        """Silent for ``ws_heartbeat_s``: ping (§5.5.2). Still silent half that later: the
        client is gone; hang up without a Close (1006, §7.1.5), as aiohttp does."""
        period_s = self.config.ws_heartbeat_s
        silent_s = time.monotonic() - self._heard
        if silent_s < period_s:
            self._pinged = False
            self._arm(period_s - silent_s)
        elif self._pinged:
            self.transport.abort()  # what it has not read is for no one
        else:
            self._pinged = True
            self._send(frame_bytes(b"", FIN | Opcode.PING))
            self._arm(period_s / 2)

    def start_closing(self, code: int, message: bytes = b"") -> None:
        """Send a Close (§5.5.1) and leave the broadcast: no data frame may follow it. The
        connection ends when the client's Close comes; after ``CLOSE_TIMEOUT_S`` without it, it
        is aborted (a close() would wait for a client that does not read to take its backlog)."""
        if self._state is not self.OPEN:
            return
        self._state = self.CLOSING
        reason = message[:123].decode(errors="ignore")  # §5.5: 125 bytes, the code's 2 included
        self._send(frame_bytes(encode_close_payload(code, reason), FIN | Opcode.CLOSE))
        self._broadcast.leave(self)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, self.transport.abort)

    async def close(self, *, code: int = CloseCode.NORMAL_CLOSURE, message: bytes = b"") -> None:
        """Close and wait until the connection has ended (the shutdown's 1001 uses this)."""
        self.start_closing(code, message)
        while self._state is not self.CLOSED:
            await self._wait()

    async def fell_behind(self, gap: Gap) -> None:
        """Close with 4001 and the gap as the reason: the client resumes with since=to_id."""
        await self.close(code=GAP_CLOSE_CODE, message=gap.frame_text().encode())

    async def drain(self) -> None:
        """What the broadcast's catch-up awaits: until the transport takes writes again."""
        if self._paused:
            await self._wait()

    async def _wait(self) -> None:
        if self._state is not self.CLOSED:
            if self._waiter is None:
                self._waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._waiter)

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._state = self.CLOSED
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._app[METER].clients_connected -= 1
        self._broadcast.leave(self)
        self._wake()


def take_over(request: web.Request, connection: WebSocketConnection) -> None:
    """From now on the socket's bytes and events go to ``connection``, with the bytes that came
    after the handshake while aiohttp held it (its ``_message_tail``)."""
    transport = raw_transport(request.transport)  # type: ignore[arg-type]
    metered = transport.get_protocol()
    if isinstance(metered, MeteredProtocol):
        metered.hand_over(connection)  # pushlab's metering stays around it
    else:
        transport.set_protocol(connection)
    handler = request.protocol
    tail, handler._message_tail = handler._message_tail, b""
    if not transport.is_closing():
        transport.resume_reading()  # aiohttp pauses reading while that tail grows
    if tail:
        connection.data_received(tail)


def let_go(request: web.Request) -> None:
    """Tell aiohttp the connection has ended, as if the client had left, without the socket it
    no longer owns: it cancels its handler (which must return without awaiting anything more)
    and forgets the connection."""
    handler = request.protocol
    handler.transport = None
    handler.connection_lost(None)
