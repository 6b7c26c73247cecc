"""Long polling on Tornado, the way Tornado's chat demo made famous (``demos/chat``).

The demo keeps a ``MessageBuffer``: a bounded cache of message dicts and a
``tornado.locks.Condition``. A client asks for everything after its cursor; if there is
nothing, its handler waits on the condition, and each new message ``notify_all()``s every
waiting handler, which reads the cache again and ``write``s its answer as JSON (encoded per
request, as ``RequestHandler.write(dict)`` does). A client that hangs up cancels its wait
(``on_connection_close``). Here the cache is filled from pushlab's feed, and the route speaks
pushlab's long-polling protocol (``GET /poll?since=N&timeout=S`` → ``{"messages": [...],
"last_id": K}``) so that pushlab's long-polling user measures it; like the demo, a cursor older
than the cache gets what the cache holds (no gap signal).

Tornado serves pushlab's control routes too (``peers/control.py``). Its ``IOStream`` reads and
writes the socket itself, so bytes are counted by :class:`MeteredHTTPServer`, which wraps each
stream's ``read_from_fd`` and ``write_to_fd`` (every byte that crossed the socket).
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import tornado
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream
from tornado.locks import Condition
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from pushlab.peers.control import CONTROL_PATHS, Control
from pushlab.servers.feed import Message
from pushlab.servers.loops import loop_name
from pushlab.servers.metering import Meter


class MessageBuffer:
    """The chat demo's cache of recent messages and the condition its waiters sleep on."""

    def __init__(self, size: int) -> None:
        self.cond = Condition()
        self.cache: deque[dict[str, Any]] = deque(maxlen=size)
        self.last_id = 0

    def get_messages_since(self, cursor: int) -> list[dict[str, Any]]:
        """Messages newer than ``cursor``, walking back from the newest as the demo does."""
        results: list[dict[str, Any]] = []
        for message in reversed(self.cache):
            if message["id"] <= cursor:
                break
            results.append(message)
        results.reverse()
        return results

    def add_message(self, message: Message) -> None:
        self.cache.append({"id": message.id, "ts": message.ts, "text": message.text})
        self.last_id = message.id
        self.cond.notify_all()


class MessageUpdatesHandler(RequestHandler):
    """``GET /poll?since=N&timeout=S``: answer now if there is news, else wait for it."""

    def initialize(self, buffer: MessageBuffer, control: Control) -> None:
        self.buffer, self.control, self.waiting = buffer, control, None

    async def get(self) -> None:
        meter, config = self.control.meter, self.control.config
        meter.requests += 1
        try:
            cursor = int(self.get_argument("since", "0"))
            # The hold travels as ``timeout`` on the wire (RFC 6202 §5.5), ``hold_s`` in code.
            hold_s = float(self.get_argument("timeout", str(config.hold_s)))
        except ValueError:
            self.set_status(400)
            self.finish({"error": "since must be an integer and timeout a number of seconds"})
            return
        hold_s = min(max(hold_s, 0.0), config.max_hold_s)
        messages = self.buffer.get_messages_since(cursor)
        if not messages:
            meter.clients_connected += 1
            try:
                self.waiting = self.buffer.cond.wait(timeout=datetime.timedelta(seconds=hold_s))
                await self.waiting
            finally:
                meter.clients_connected -= 1
            if self.request.connection.stream.closed():  # type: ignore[union-attr]
                return
            messages = self.buffer.get_messages_since(cursor)
        meter.messages_delivered += len(messages)
        if not messages:
            meter.empty_responses += 1
        self.set_header("Cache-Control", "no-store")
        self.finish({"messages": messages, "last_id": self.buffer.last_id})

    def on_connection_close(self) -> None:
        if self.waiting is not None:
            self.waiting.cancel()


class ControlHandler(RequestHandler):
    """pushlab's ``/healthz``, ``/stats``, ``/publisher`` and ``POST /messages``."""

    def initialize(self, control: Control) -> None:
        self.control = control

    async def answer(self) -> None:
        request = self.request
        status, body = await self.control.answer(request.method or "", request.path, request.body)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    get = post = answer


class NotFoundHandler(ControlHandler):
    """Every other path: pushlab's JSON 404."""


class MeteredHTTPServer(HTTPServer):
    """Tornado's HTTP server, counting every connection and every byte its streams move."""

    def initialize(self, *args: Any, meter: Meter, **kwargs: Any) -> None:  # type: ignore[override]
        super().initialize(*args, **kwargs)
        self.meter = meter

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        meter = self.meter
        meter.tcp_connections_opened += 1
        meter.tcp_connections_open += 1
        read, write, close = stream.read_from_fd, stream.write_to_fd, stream.close_fd

        def read_counted(buf: bytearray | memoryview) -> int | None:
            count = read(buf)
            meter.bytes_in += count or 0
            return count

        def write_counted(data: memoryview) -> int:
            count = write(data)
            meter.bytes_out += count
            return count

        def close_counted() -> None:
            meter.tcp_connections_open -= 1
            close()

        stream.read_from_fd, stream.write_to_fd = read_counted, write_counted  # type: ignore[method-assign]
        stream.close_fd = close_counted  # type: ignore[method-assign]
        super().handle_stream(stream, address)


@contextlib.asynccontextmanager
async def framework_server(control: Control) -> AsyncIterator[str]:
    buffer = MessageBuffer(control.config.history_size)
    control.feed.add_listener(buffer.add_message)
    app = Application(
        [
            ("/poll", MessageUpdatesHandler, {"buffer": buffer, "control": control}),
            *((path, ControlHandler, {"control": control}) for path in CONTROL_PATHS),
        ],
        default_handler_class=NotFoundHandler,
        default_handler_args={"control": control},
    )
    server = MeteredHTTPServer(app, meter=control.meter)
    sockets = bind_sockets(control.config.port or 0, control.config.host, backlog=4096)
    server.add_sockets(sockets)
    control.start()
    control.stack.update({"server": f"tornado {tornado.version}", "loop": loop_name()})
    try:
        host, port = sockets[0].getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        await control.aclose()
        await server.close_all_connections()
