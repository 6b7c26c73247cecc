"""Connections a server can afford: a header deadline, a ceiling, and quiet failure logs.

Every accepted connection costs a file descriptor until it closes, and a server without limits
lets clients hold them for free: a request whose headers never end (slowloris), a connection
that never sends anything, or simply more clients than the process may open files. At the
file-descriptor limit ``accept()`` fails, nobody new gets in (not even ``/healthz``), and
asyncio logs one traceback per failed accept. So:

- ``GuardedProtocol`` closes a connection whose first request line and headers have not
  arrived within ``header_timeout_s`` (408 if some bytes came, silence if none did). The body
  has its own deadline where it is read (``common.read_json_object``), and an idle kept-alive
  connection is aiohttp's ``keepalive_timeout``.
- ``ConnectionBudget`` keeps the process's open connections below its descriptor limit: one
  beyond the ceiling is answered ``503`` with ``Retry-After`` and closed at once, so the
  listening socket stays healthy and the next client (or ``/healthz``) is served.
- ``quiet_accept_failures`` logs failed accepts at most once a second, with a count, and
  ``OneLineBadRequests`` turns aiohttp's traceback for a malformed request into one WARNING.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from pushlab.servers.metering import Meter, MeteredProtocol

log = logging.getLogger("pushlab")

RESERVED_FDS = 64  # descriptors kept free for files, the listening sockets and the log
RETRY_AFTER_S = 1
REFUSED_LINGER_S = 1.0
ACCEPT_LOG_INTERVAL_S = 1.0
END_OF_HEADERS = b"\r\n\r\n"


def default_max_connections() -> int:
    """Below the soft ``RLIMIT_NOFILE``, leaving ``RESERVED_FDS`` for everything else."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(1, soft - max(RESERVED_FDS, soft // 16))


@dataclass
class ConnectionBudget:
    """The open connections of the whole process (the demo runs five servers in one)."""

    max_connections: int
    open: int = 0
    refused: int = 0
    header_timeouts: int = 0


BUDGET = web.AppKey("connection_budget", ConnectionBudget)


def canned_answer(status_line: bytes, message: str, extra_headers: bytes = b"") -> bytes:
    """A whole HTTP/1.1 answer that closes the connection, written straight to the socket."""
    body = b'{"error": "%s"}' % message.encode()
    return (
        b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n%s"
    ) % (status_line, extra_headers, len(body), body)


REFUSAL = canned_answer(
    b"503 Service Unavailable",
    "too many connections: try again shortly",
    b"Retry-After: %d\r\n" % RETRY_AFTER_S,
)
HEADER_TIMEOUT_ANSWER = canned_answer(
    b"408 Request Timeout", "the request line and headers did not arrive in time"
)


class GuardedProtocol(MeteredProtocol):
    """``MeteredProtocol`` plus the ceiling and the header deadline."""

    def __init__(
        self,
        inner: asyncio.Protocol,
        meter: Meter,
        budget: ConnectionBudget,
        header_timeout_s: float,
    ) -> None:
        super().__init__(inner, meter)
        self._budget = budget
        self._header_timeout_s = header_timeout_s
        self._transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._head = b""  # the bytes so far of the first request's head, until it ends
        self._received_any = False
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, though uvloop's (``--loop uvloop``) is no asyncio.Transport subclass.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        if self._budget.open >= self._budget.max_connections:
            self._refuse(transport)
            return
        self._admitted = True
        self._budget.open += 1
        self._deadline = asyncio.get_running_loop().call_later(
            self._header_timeout_s, self._headers_too_slow
        )
        super().connection_made(transport)

    def _refuse(self, transport: asyncio.Transport) -> None:
        """503, then a half close: a close with the client's request still unread would be a
        reset that may destroy the 503 before it is read. The client's FIN (or, at the latest,
        ``REFUSED_LINGER_S``) ends it."""
        self._budget.refused += 1
        transport.write(REFUSAL)
        if transport.can_write_eof():
            transport.write_eof()
        asyncio.get_running_loop().call_later(REFUSED_LINGER_S, transport.close)

    def eof_received(self) -> bool | None:
        if not self._admitted:
            return False  # the refused client read its 503 and left: close now
        return super().eof_received()

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return  # a refused client's request: read and dropped
        if self._deadline is not None:
            self._received_any = True
            self._head = (self._head + data)[-(len(data) + 3) :]
            if END_OF_HEADERS in self._head:
                self._deadline.cancel()
                self._deadline, self._head = None, b""
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        self._budget.open -= 1
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._deadline = None
        self._budget.header_timeouts += 1
        if self._transport is not None and not self._transport.is_closing():
            if self._received_any:  # a client that never spoke gets no answer to misread
                self._transport.write(HEADER_TIMEOUT_ANSWER)
            self._transport.close()


class AcceptFailureLog:
    """A loop exception handler that reports failed accepts once a second, with a count.

    asyncio tries ``accept()`` up to ``backlog`` times per wake-up and reports every failure
    (at the descriptor limit: thousands a second); everything else goes to the default handler.
    """

    def __init__(self) -> None:
        self.failures = 0
        self._unreported = 0
        self._last_report_s = float("-inf")

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if is_stale_accept_retry(context):
            return
        if context.get("message") != "socket.accept() out of system resource":
            loop.default_exception_handler(context)
            return
        self.failures += 1
        self._unreported += 1
        now = time.monotonic()
        if now - self._last_report_s >= ACCEPT_LOG_INTERVAL_S:
            log.warning(
                "accept() failed %d time(s) in the last second: %s",
                self._unreported,
                context.get("exception"),
            )
            self._unreported, self._last_report_s = 0, now


def is_stale_accept_retry(context: dict[str, Any]) -> bool:
    """After each failed accept asyncio schedules a retry in 1 s; a retry that finds the
    listening socket closed (the server stopped meanwhile) fails on its fd of -1 (ValueError)
    or EBADF (OSError): nothing to report."""
    return isinstance(context.get("exception"), OSError | ValueError) and "_start_serving" in repr(
        context.get("handle")
    )


def quiet_accept_failures(loop: asyncio.AbstractEventLoop) -> AcceptFailureLog:
    """Install the handler on ``loop`` once; return it (its ``failures`` count the total)."""
    handler = loop.get_exception_handler()
    if isinstance(handler, AcceptFailureLog):
        return handler
    handler = AcceptFailureLog()
    loop.set_exception_handler(handler)
    return handler


class OneLineBadRequests(logging.Filter):
    """aiohttp logs a malformed request with its traceback at ERROR; make it one WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            detail = " ".join(str(error.message or error).split())  # aiohttp's is multi-line
            record.msg = f"malformed request: {record.getMessage()}: {detail}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install_log_filter() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, OneLineBadRequests) for f in server_log.filters):
        server_log.addFilter(OneLineBadRequests())
