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

import math
import time
from typing import Any

import httpx

from pushlab.bench.measuring.locustfile import (
    LongPollUser,
    PollingUser,
    PushlabUser,
    SSEUser,
)
from pushlab.bench.measuring.wire_clients import Answer
from pushlab.clients.eventstream import Event, EventStreamDecoder, read_event
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


class H2Polls:
    """Polls over the user's HTTP/2 connection, answered as the raw users' ``http_get`` answers
    (no kernel receive time: the bytes came through TLS and the h2 framing — NaN, never a
    guess). Mixed in before a polling user class."""

    client: Any

    def on_start(self) -> None:
        self.client = H2Session(self)  # type: ignore[arg-type]
        super().on_start()  # type: ignore[misc]

    def http_get(self, path: str, name: str) -> Answer | None:
        """None if the request failed (already reported)."""
        response = self.client.get(path, name=name)
        if response.status_code == 0:
            return None
        return Answer(response.status_code, response.content, math.nan)

    def on_stop(self) -> None:
        self.client.close()


class H2PollingUser(H2Polls, PollingUser):
    pass


class H2LongPollUser(H2Polls, LongPollUser):
    pass


class H2EventStream:
    """One ``text/event-stream`` answer on an HTTP/2 stream, read as the raw users' streams are
    (``next_event``: the event, its bytes, and the kernel time — NaN here, through TLS)."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status = response.status_code
        self.lines = response.iter_lines()
        self.decoder = EventStreamDecoder()

    def next_event(self) -> tuple[Event, int, float]:
        event, size_bytes = read_event(self.decoder, self.next_line)
        return event, size_bytes, math.nan

    def next_line(self) -> bytes:
        try:
            return (next(self.lines) + "\n").encode()  # iter_lines strips the line's end
        except (StopIteration, httpx.HTTPError) as ended:
            raise ConnectionError("the event stream ended") from ended

    def close(self) -> None:
        self.response.close()


class H2SSEUser(SSEUser):
    """The event stream as one HTTP/2 stream; ``/stats`` on another stream of the same
    connection."""

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
            response = http.send(request, stream=True)
        except httpx.HTTPError as error:  # the receive task handles an OSError
            raise ConnectionError(f"/events: {error}") from error
        self.stream = H2EventStream(response)  # type: ignore[assignment]
        self.stream_opened(started, response.status_code)

    def on_stop(self) -> None:
        self.close()
        self.client.close()  # type: ignore[attr-defined]


H2_USERS: dict[str, type[PushlabUser]] = {
    POLLING.name: H2PollingUser,
    LONGPOLL.name: H2LongPollUser,
    SSE.name: H2SSEUser,
}
