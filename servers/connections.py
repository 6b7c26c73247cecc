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

Two more, for servers shared by a class:

- an address may hold at most ``max_per_address`` connections (a share of the ceiling), so one
  client cannot take the ceiling from everyone else; connections from a trusted proxy are
  counted by the proxy against the client's address, not here against the proxy's;
- from a trusted proxy (``trusted_proxies``), a PROXY protocol v1 line before the request names
  the real client (:mod:`pushlab.proxy_protocol`): ``request.remote``, the per-address publish
  limit and the logs see it.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from pushlab.proxy_protocol import MAX_V1_BYTES, SIGNATURE, ProxyHeaderError, parse_v1
from pushlab.servers.metering import Meter, MeteredProtocol

log = logging.getLogger("pushlab")

RESERVED_FDS = 64  # descriptors kept free for files, the listening sockets and the log
RETRY_AFTER_S = 1
REFUSED_LINGER_S = 1.0
ACCEPT_LOG_INTERVAL_S = 1.0
END_OF_HEADERS = b"\r\n\r\n"


ADDRESS_SHARE = 0.25  # of the ceiling, per client address, on a server bound beyond loopback


def address_share(host: str, max_connections: int, configured: int | None) -> int | None:
    """Connections one address may hold: ``configured``, else a quarter of the ceiling for a
    server others reach (``host`` beyond loopback), else no share (loopback: one user)."""
    from pushlab.servers.teacher import is_loopback

    if configured is not None:
        return configured
    return None if is_loopback(host) else max(1, int(max_connections * ADDRESS_SHARE))


def default_max_connections() -> int:
    """Below the soft ``RLIMIT_NOFILE``, leaving ``RESERVED_FDS`` for everything else."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(1, soft - max(RESERVED_FDS, soft // 16))


@dataclass
class ConnectionBudget:
    """The open connections of the whole process (the demo runs five servers in one), and of
    each client address.

    ``open`` counts descriptors: a connection the server accepted is one, one through the
    demo's emulator two more (its sockets to the client and to the server).
    """

    max_connections: int
    max_per_address: int | None = None  # None: no share per address
    open: int = 0
    refused: int = 0
    refused_per_address: int = 0
    header_timeouts: int = 0
    per_address: Counter[str] = field(default_factory=Counter)

    def admit(self, address: str, descriptors: int = 1) -> bool:
        """Count a new connection from ``address`` ("": not counted per address), or refuse it."""
        if self.open + descriptors > self.max_connections:
            self.refused += 1
            return False
        if address and self.max_per_address is not None:
            if self.per_address[address] >= self.max_per_address:
                self.refused += 1
                self.refused_per_address += 1
                return False
            self.per_address[address] += 1
        self.open += descriptors
        return True

    def release(self, address: str, descriptors: int = 1) -> None:
        self.open -= descriptors
        if address and self.max_per_address is not None:
            self.per_address[address] -= 1
            if self.per_address[address] <= 0:
                del self.per_address[address]


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
        trusted_proxies: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(inner, meter)
        self._budget = budget
        self._header_timeout_s = header_timeout_s
        self._trusted_proxies = trusted_proxies
        self._transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._head = b""  # the bytes so far of the first request's head, until it ends
        self._proxy_line: bytes | None = None  # a trusted proxy's PROXY line so far, if any
        self._address = ""  # the address counted against its share ("" if none)
        self._received_any = False
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, though uvloop's (``--loop uvloop``) is no asyncio.Transport subclass.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else ""
        if address in self._trusted_proxies:
            self._proxy_line, address = b"", ""  # the proxy counts its clients' shares
        if not self._budget.admit(address):
            self._refuse(transport)
            return
        self._admitted = True
        self._address = address
        self._deadline = asyncio.get_running_loop().call_later(
            self._header_timeout_s, self._headers_too_slow
        )
        super().connection_made(transport)

    def _refuse(self, transport: asyncio.Transport) -> None:
        """503, then a half close: a close with the client's request still unread would be a
        reset that may destroy the 503 before it is read. The client's FIN (or, at the latest,
        ``REFUSED_LINGER_S``) ends it."""
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
        if self._proxy_line is not None:
            data = self._take_proxy_line(data)
            if not data:
                return
        if self._deadline is not None:
            self._received_any = True
            # Empty lines before a request line may be ignored (RFC 9112 §2.2), but they do not
            # end its head: a client that sends only CRLFs is still timed.
            tracked = data if self._head else data.lstrip(b"\r\n")
            if tracked:
                self._head = (self._head + tracked)[-(len(tracked) + 3) :]
            if END_OF_HEADERS in self._head:
                self._deadline.cancel()
                self._deadline, self._head = None, b""
        super().data_received(data)

    def _take_proxy_line(self, data: bytes) -> bytes:
        """From a trusted proxy: consume a PROXY v1 line, if one comes first, and make its
        client address this connection's; return the bytes after it (b"" until it ends)."""
        assert self._proxy_line is not None
        line = self._proxy_line + data
        if not line.startswith(SIGNATURE[: len(line)]):  # no PROXY line: plain HTTP
            self._proxy_line = None
            return line
        end = line.find(b"\r\n")
        if end < 0 and len(line) < MAX_V1_BYTES:
            self._proxy_line = line
            return b""
        self._proxy_line = None
        try:
            client = parse_v1(line[: end + 2] if end >= 0 else line)
        except ProxyHeaderError as error:
            log.warning("malformed PROXY line from a trusted proxy: %s", error)
            if self._transport is not None:
                self._transport.close()
            return b""
        if client is not None:
            self.client_address = client
        return line[end + 2 :]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        self._budget.release(self._address)
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
