"""HTTP/2 clients for the load generator: polling, long polling and SSE as a browser speaks
them to a proxy that offers HTTP/2 (the proxy sweep's ``nginx-h2``).

Each user is its technique's ordinary user (``locustfile.py``: the same cursor, the same
reports) whose requests go through ``httpx`` with ``http2=True`` instead of Locust's HTTP/1.1
client: one TLS connection per user, every request a stream on it, headers compressed with
HPACK. ``generator.py --http2`` picks these users. WebSocket stays HTTP/1.1: nginx 1.22 does not
carry WebSockets over HTTP/2 (RFC 8441), so a browser opens a connection of its own for one.

The proxy's certificate is made at its start and signed by nobody; the users talk to loopback
only and do not check it (``verify=False``), as ``locustfile.UNVERIFIED_TLS`` says.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from pushlab.bench.measuring.locustfile import (
    LongPollUser,
    PollingUser,
    PushlabUser,
    SSEUser,
)
from pushlab.clients.eventstream import Event, EventStreamDecoder
from pushlab.techniques import LONGPOLL, POLLING, SSE

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade"})
"""Headers HTTP/2 forbids (RFC 9113 §8.2.2): the users' HTTP/1.1 habits drop them."""


class H2Session:
    """What the users call ``self.client``: ``get`` over one HTTP/2 connection, reported to
    Locust like its own client's requests."""

    def __init__(self, user: PushlabUser) -> None:
        self.user = user
        self.http = httpx.Client(
            base_url=user.host, http2=True, verify=False, timeout=user.network_timeout
        )

    def get(self, path: str, *, name: str, params: Any = None, headers: Any = None) -> Any:
        kept = {k: v for k, v in (headers or {}).items() if k.lower() not in HOP_BY_HOP}
        started = time.perf_counter()
        error: Exception | None = None
        try:
            response = self.http.get(path, params=params, headers=kept)
        except httpx.HTTPError as failure:
            error, response = failure, httpx.Response(0)
        if error is None and response.status_code >= 400:
            error = RuntimeError(f"HTTP {response.status_code}")
        self.user.environment.events.request.fire(
            request_type="GET",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=len(response.content) if error is None else 0,
            exception=error,
            context={"user": self.user.number, "http_version": response.http_version},
        )
        return response

    def close(self) -> None:
        self.http.close()


class H2PollingUser(PollingUser):
    def on_start(self) -> None:
        self.client = H2Session(self)  # type: ignore[assignment]
        super().on_start()

    def on_stop(self) -> None:
        self.client.close()


class H2LongPollUser(LongPollUser):
    def on_start(self) -> None:
        self.client = H2Session(self)  # type: ignore[assignment]
        super().on_start()

    def on_stop(self) -> None:
        self.client.close()


class H2SSEUser(SSEUser):
    """The event stream as one HTTP/2 stream; ``/stats`` on another stream of the same
    connection."""

    lines: Any = None

    def on_start(self) -> None:
        self.client = H2Session(self)  # type: ignore[assignment]
        super().on_start()

    def connect(self) -> None:
        http = self.client.http  # type: ignore[attr-defined]
        started = time.perf_counter()
        request = http.build_request(
            "GET",
            "/events",
            headers={"Accept": "text/event-stream", "Last-Event-ID": str(self.cursor)},
        )
        try:
            self.stream = http.send(request, stream=True)
        except httpx.HTTPError as error:  # the receive task handles an OSError
            raise ConnectionError(f"/events: {error}") from error
        status = self.stream.status_code
        self.environment.events.request.fire(
            request_type="GET",
            name="/events (stream open)",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=None if status == 200 else RuntimeError(f"HTTP {status}"),
            context={"user": self.number},
        )
        if status != 200:
            raise ConnectionError(f"/events answered HTTP {status}")
        self.lines = self.stream.iter_lines()
        self.decoder = EventStreamDecoder()
        if self.connected_at is None:
            self.connected_at = time.time()

    def next_event(self) -> tuple[Event, int]:
        assert self.decoder is not None
        size_bytes = 0
        while True:
            try:
                line = next(self.lines) + "\n"  # iter_lines strips the line's end
            except (StopIteration, httpx.HTTPError) as ended:
                raise ConnectionError("the event stream ended") from ended
            size_bytes += len(line.encode())
            decoded = self.decoder.feed(line)
            if isinstance(decoded, Event):
                return decoded, size_bytes

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        self.lines = None

    def on_stop(self) -> None:
        self.close()
        self.client.close()  # type: ignore[attr-defined]


H2_USERS: dict[str, type[PushlabUser]] = {
    POLLING.name: H2PollingUser,
    LONGPOLL.name: H2LongPollUser,
    SSE.name: H2SSEUser,
}
