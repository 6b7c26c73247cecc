"""Locust users for pushlab's four techniques: read them aloud, or run them on their own.

    pushlab serve all                          # the four servers, on ports 8001–8004
    locust -f bench/measuring/locustfile.py    # Locust's web UI: pick a user class, start a swarm

Every user keeps a *cursor*: the id of the newest message it has. For every message it
receives it reports the *delivery latency* (receive time minus the message's ``ts``, the
server's publish time; valid because client and server share one clock): run on their own,
as a Locust request of type ``DELIVER``, beside Locust's ordinary HTTP statistics. Locust's
own socket.io user reports push latency as 0; these users measure it. A message whose id is
not ``cursor + 1`` is reported as a failed delivery: a gap (ids skipped) or one out of order (or
a duplicate).

After a break (a reset, a stalled link that timed out, a server that died) every user does the
same thing, whatever its technique: wait as every pushlab client waits
(``pushlab/reconnect_policy.py``: a random time under a doubling cap, so that clients cut
together do not return together), ask ``/stats`` where the feed is, and carry on from its
cursor — ``since=`` for polling, long polling and WebSocket, ``Last-Event-ID`` for SSE. If
``/stats`` names a new ``feed_id`` the server restarted: its feed lived in memory and is gone,
the new one counts from #1, so the user starts again from ``since=0``. What it never saw of the
old feed is lost, but not silently: the user knows it missed every message of the old feed after
its cursor, and records that gap with an open end (``OPEN_END``). A user with ``resume`` off
(``--no-resume``) starts from the feed's present instead, to show what the cursor buys. A gap
the server announces (``pushlab.protocol``) is recorded apart from silent ones.

No user ever busy-waits. Each one is a greenlet, and every wait (for the next poll, for a held
answer, for a pushed frame, for the next event on a stream) is a gevent-cooperative socket
read or sleep, so thousands of users fit in one Locust process.

``pushlab bench`` (the harness) drives these same classes through ``generator.py``, whose log
takes every delivery, exact and unrounded, straight from the user (``delivery_log``); only gaps
and messages out of order also go through Locust's events. A push user reads its connection in
one long task, not a task per message: at a thousand clients the generator's one core handles
tens of thousands of messages a second, and Locust's per-task and per-request bookkeeping cost
as much as reading them. The SSE user reads its stream with the
same decoder as ``pushlab client sse`` (``clients/eventstream.py``): one client per protocol.
Every user reads its messages from a raw socket (``wire_clients.py``) so that each also carries
the kernel's receive time: the bench reports wire latency apart from its own generator's delay.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import ssl
import time
from collections.abc import Callable
from typing import Any, ClassVar

import gevent
from locust import FastHttpUser, constant, events, task

from pushlab.bench.core.window import OPEN_END
from pushlab.bench.measuring.reconnecting import gap_in_answer, gap_in_close, gap_in_event
from pushlab.bench.measuring.tls import unverified_tls_context
from pushlab.bench.measuring.wire_clients import (
    Answer,
    WireEventStream,
    WireHTTP,
    WireWebSocket,
    address,
    is_tls,
)
from pushlab.protocol import Gap as AnnouncedGap
from pushlab.reconnect_policy import RECONNECT_POLICY, Backoff
from pushlab.rfc6455 import Opcode
from pushlab.techniques import (
    LONGPOLL,
    LONGPOLL_HOLD_S,
    NETWORK_TIMEOUT_MARGIN_S,
    POLLING,
    SSE,
    WEBSOCKET,
)

DELIVER = "DELIVER"
"""Request type of a delivered message in Locust's statistics."""

_user_numbers = itertools.count()


class Gap(Exception):
    """Ids were skipped: the messages between the cursor and this one never arrived."""


class OutOfOrder(Exception):
    """A message at or below the cursor: a duplicate, or one that arrived after a newer one."""


UNVERIFIED_TLS = {"cert_reqs": ssl.CERT_NONE}
"""Over ``https`` (nginx-h2 in the proxy sweep) the certificate is made at the proxy's start
for localhost and signed by nobody; the generator talks to loopback only. FastHttpUser already
skips the check (``insecure=True``); the WebSocket and SSE users are told to."""


class PushlabUser(FastHttpUser):
    """What the four users share: a cursor into the feed, and a report for every message."""

    abstract = True
    technique = ""
    resume = True  # after a reconnect: carry on from the cursor (False: from the present)
    ssl_context_factory = staticmethod(unverified_tls_context)  # https only
    reconnect_policy = RECONNECT_POLICY
    delivery_log: ClassVar[Callable[[int, int, int, float, float, float], None] | None] = None
    """Where the harness's generator keeps every delivery (``generator.DeliveryLog.add``:
    user, feed, id, ts, received_at, kernel_at). When it is set, a delivery in order goes
    straight there: at a thousand clients one generator core handles tens of thousands a
    second, and Locust's request event and statistics cost as much as reading the message.
    Unset (``locust -f`` on its own), every delivery is a Locust ``DELIVER`` request; a gap or
    a message out of order always is one, a failure in Locust's table."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.number = next(_user_numbers)
        self.cursor = 0
        self.connected_at: float | None = None  # when it first could hear news (epoch s)
        self.disconnects = 0
        self.feed_id = ""
        self.feed_starts = False
        self.feed = 0  # how many new feeds it has met (a server restart starts one)
        self.away = False  # broken, and not yet told where the feed is (``drain.py``)
        self.backoff = Backoff(self.reconnect_policy)
        self.reconnect_due_at = -math.inf  # time.monotonic() of its latest reconnect attempt
        self.reconnected_at: list[float] = []  # epoch s of every reconnect attempt
        self.gaps: list[tuple[int, AnnouncedGap]] = []  # (feed, gap) it was told of
        self.http: WireHTTP | None = None  # polling and long polling: a raw kept-alive socket

    def on_start(self) -> None:
        """Start from the feed's present, as a page that has just loaded would."""
        self.cursor = self.where_is_the_feed() or 0

    def where_is_the_feed(self) -> int | None:
        """Ask ``/stats`` for the feed's newest id (None if unreachable); notice a new feed."""
        response = self.client.get(
            "/stats", name="/stats (where the feed is)", headers={"Connection": "close"}
        )
        if response.status_code != 200:
            return None
        body = response.json()
        self.away = False
        if self.feed_id and body["feed_id"] != self.feed_id:
            # The server restarted: the old feed's messages after the cursor died with it.
            self.gaps.append((self.feed, AnnouncedGap(self.cursor + 1, OPEN_END)))
            self.feed += 1  # a new feed, numbered from #1 again
            self.cursor = 0
            self.feed_starts = True  # (or goes on past the old ids: an emptied Redis's does)
        self.feed_id = body["feed_id"]
        return body["last_id"]

    def after_a_break(self) -> None:
        """Back off, then find the feed again (resuming from the cursor, or from the present).

        Until ``/stats`` answers, the user is *away*: its cursor may belong to a feed that is
        gone (a restarted server's), so the drain counts it as holding nothing, and waits for
        its attempt (``drain.py``)."""
        self.disconnects += 1
        self.away = True
        wait_s = self.backoff.next_wait_s()
        self.reconnect_due_at = time.monotonic() + wait_s
        gevent.sleep(wait_s)
        self.reconnected_at.append(time.time())
        last_id = self.where_is_the_feed()
        if last_id is not None and not self.resume:
            self.cursor = last_id

    def on_stop(self) -> None:
        if self.http is not None:
            self.http.close()

    def announced(self, gap: AnnouncedGap | None) -> None:
        """The server said these ids are gone: record it, and move the cursor past them."""
        if gap is not None:
            self.gaps.append((self.feed, gap))
            self.cursor = max(self.cursor, gap.to_id)

    def deliver(
        self,
        message: dict[str, Any],
        received_at: float,
        size_bytes: int,
        kernel_at: float = math.nan,
    ) -> None:
        """Report one message: its delivery latency, and whether its id was the one expected.

        ``kernel_at`` is when the kernel received it (``wire_socket.py``; NaN if unknown):
        wire latency is ``kernel_at − ts``, the generator's delay ``received_at − kernel_at``.
        """
        message_id = message["id"]
        problem: Exception | None = None
        if self.feed_starts:  # a new feed's first message: its history starts where it starts
            self.feed_starts = False
        elif message_id <= self.cursor:
            problem = OutOfOrder(f"message {message_id} arrived after {self.cursor}")
        elif message_id > self.cursor + 1:
            problem = Gap(f"messages {self.cursor + 1}–{message_id - 1} never arrived")
        if problem is None and self.delivery_log is not None:
            self.delivery_log(
                self.number, self.feed, message_id, message["ts"], received_at, kernel_at
            )
            self.cursor = max(self.cursor, message_id)
            return
        self.environment.events.request.fire(
            request_type=DELIVER,
            name=self.technique,
            response_time=(received_at - message["ts"]) * 1000,
            response_length=size_bytes,
            exception=problem,
            context={
                "user": self.number,
                "feed": self.feed,
                "message_id": message_id,
                "ts": message["ts"],
                "received_at": received_at,
                "kernel_at": kernel_at,
            },
        )
        self.cursor = max(self.cursor, message_id)

    def deliver_answer(self, answer: Answer, received_at: float) -> None:
        """A poll's answer, ``{"messages": [...], "last_id": K}``: report each message in it."""
        body = json.loads(answer.body)
        self.announced(gap_in_answer(body))
        messages = body["messages"]
        self.backoff.reset()
        size_bytes = len(answer.body) // max(len(messages), 1)
        for message in messages:
            self.deliver(message, received_at, size_bytes, answer.kernel_at)

    def http_get(self, path: str, name: str) -> Answer | None:
        """A GET on this user's kept-alive raw connection (``wire_clients.WireHTTP``: its
        answer carries the kernel's receive time), reported to Locust as ``GET name``. None if
        the connection broke: reported as a failure, and why it closed is counted."""
        if self.http is None:
            host, port = address(self.host)
            self.http = WireHTTP(host, port, self.network_timeout)
        started = time.perf_counter()
        try:
            answer = self.http.get(path)
        except (OSError, ValueError) as error:
            self.report_failure("GET", name, error)
            return None
        self.environment.events.request.fire(
            request_type="GET",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=len(answer.body),
            exception=None if answer.status == 200 else RuntimeError(f"HTTP {answer.status}"),
            context={"user": self.number},
        )
        return answer

    def report_failure(self, request_type: str, name: str, error: Exception) -> None:
        """A broken connection, in Locust's failure table."""
        self.environment.events.request.fire(
            request_type=request_type,
            name=name,
            response_time=0,
            response_length=0,
            exception=error,
            context={"user": self.number},
        )


class PollingUser(PushlabUser):
    """Ajax polling: every ``poll_interval_s`` seconds, ask "anything newer than my cursor?".

    ``poll_interval_s = 0`` (``pushlab.techniques.CLOSED_LOOP_S``) is a closed loop: ask again
    the moment the answer arrives. The bench's saturation sweep uses it to find how many
    answers per second a server gives at a fixed number of clients.
    """

    technique = POLLING.name
    host = "http://127.0.0.1:8001"
    poll_interval_s = 1.0

    def on_start(self) -> None:
        super().on_start()
        # Pages load at random moments: put this user at a random point of the interval, so
        # that users spawned together do not poll in lockstep.
        self.next_poll_at = time.monotonic() - random.uniform(0, self.poll_interval_s)

    def wait_time(self) -> float:
        """One poll every interval on a fixed schedule, however long each poll took."""
        self.next_poll_at = max(self.next_poll_at + self.poll_interval_s, time.monotonic())
        return self.next_poll_at - time.monotonic()

    @task
    def poll(self) -> None:
        answer = self.http_get(f"/poll?since={self.cursor}", "/poll")
        received_at = time.time()
        if answer is None or answer.status != 200:  # already counted as a failure
            self.after_a_break()
            return
        if self.connected_at is None:
            self.connected_at = received_at
        self.deliver_answer(answer, received_at)


class LongPollUser(PushlabUser):
    """Long polling: ask, and the server holds the question until there is news."""

    technique = LONGPOLL.name
    host = "http://127.0.0.1:8002"
    wait_time = constant(0)  # ask again the moment an answer arrives
    hold_s = LONGPOLL_HOLD_S  # the harness sets the scenario's hold (``--hold``)

    @task
    def long_poll(self) -> None:
        if self.connected_at is None:
            self.connected_at = time.time()  # the first question is about to be held
        answer = self.http_get(f"/poll?since={self.cursor}&timeout={self.hold_s:g}", "/poll (held)")
        received_at = time.time()
        if answer is None or answer.status != 200:
            self.after_a_break()  # the server is in trouble: do not hammer it
            return
        self.deliver_answer(answer, received_at)


class PushedUser(PushlabUser):
    """What the two push users share: one Locust task for the connection's life."""

    abstract = True
    wait_time = constant(0)

    @task
    def receive(self) -> None:
        """Read until the connection breaks: a Locust task per message would cost the
        generator as much as the message."""
        while self.receive_one():
            gevent.sleep(0)  # the others' turn: a read with data waiting does not yield

    def receive_one(self) -> bool:
        """One message (or a gap, an error); False after a break: the next task reconnects."""
        raise NotImplementedError


class WebSocketUser(PushedUser):
    """WebSocket push: one upgrade, then the server sends each message as a text frame.

    Read over a raw socket with pushlab's own codec (``wire_clients.py``), so that every
    message carries the kernel's receive time beside the time this greenlet handled it.
    """

    technique = WEBSOCKET.name
    host = "http://127.0.0.1:8003"
    ws: WireWebSocket | None = None

    def connect(self) -> None:
        started = time.perf_counter()
        host, port = address(self.host)
        self.ws = WireWebSocket(
            host, port, f"/ws?since={self.cursor}", self.network_timeout, tls=is_tls(self.host)
        )
        self.environment.events.request.fire(
            request_type="WS",
            name="/ws (upgrade)",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=None,
            context={"user": self.number},
        )
        if self.connected_at is None:
            self.connected_at = time.time()

    def receive_one(self) -> bool:
        """One frame; False after a break (the next task reconnects, from the cursor)."""
        try:
            if self.ws is None:
                self.connect()
            assert self.ws is not None
            # This greenlet sleeps here until the server pushes.
            frame, kernel_at = self.ws.receive()
            if frame.opcode is Opcode.CLOSE:
                self.announced(gap_in_close(frame.payload))  # 4001: fell past the history
                raise ConnectionError("the server closed")
        except (OSError, ValueError) as error:  # ValueError: a frame that breaks RFC 6455
            self.report_failure("WS", "/ws", error)
            self.close()
            self.after_a_break()  # then reconnect, resuming from the cursor
            return False
        received_at = time.time()
        message = json.loads(frame.payload)
        if "error" in message:  # the server's answer to a bad frame (we send none)
            self.report_failure("WS", "/ws", RuntimeError(message["error"]))
        elif "gap" in message:
            self.announced(gap_in_answer(message))
        else:
            self.backoff.reset()
            self.deliver(message, received_at, len(frame.payload), kernel_at)
        return True

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def on_stop(self) -> None:
        self.close()


class SSEUser(PushedUser):
    """Server-Sent Events: one GET whose answer never ends; each event carries one message.

    Read over a raw socket (``wire_clients.py``) with the same decoder as ``pushlab client
    sse`` (``clients/eventstream.py``): each event carries the kernel's receive time.
    """

    technique = SSE.name
    host = "http://127.0.0.1:8004"
    stream: WireEventStream | None = None

    def connect(self) -> None:
        started = time.perf_counter()
        host, port = address(self.host)
        self.stream = WireEventStream(
            host,
            port,
            "/events",
            {"Last-Event-ID": str(self.cursor)},
            self.network_timeout,
            tls=is_tls(self.host),
        )
        self.stream_opened(started, self.stream.status)

    def stream_opened(self, started: float, status: int) -> None:
        """Report the ``/events`` answer's head (``started``: perf_counter at the request). An
        answer other than 200 is a break: ConnectionError, and ``receive`` closes the stream."""
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
        if self.connected_at is None:
            self.connected_at = time.time()

    def receive_one(self) -> bool:
        """One event; False after a break (the next task reconnects, from the cursor)."""
        try:
            if self.stream is None:
                self.connect()
            assert self.stream is not None
            event, size_bytes, kernel_at = self.stream.next_event()
        # ConnectionError is an OSError (the stream ended); ValueError: a malformed chunk.
        except (OSError, ValueError) as error:
            self.report_failure("GET", "/events", error)
            self.close()
            self.after_a_break()
            return False
        received_at = time.time()
        gap = gap_in_event(event.event_type, event.data)
        if gap is not None:
            self.announced(gap)
        else:
            self.backoff.reset()
            self.deliver(json.loads(event.data), received_at, size_bytes, kernel_at)
        return True

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None

    def on_stop(self) -> None:
        self.close()


@events.init_command_line_parser.add_listener
def add_pushlab_options(parser: Any) -> None:
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=1.0,
        help="PollingUser: seconds between polls (0: ask again as each answer arrives)",
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=LONGPOLL_HOLD_S,
        help="LongPollUser: seconds the server may hold a poll",
    )


@events.init.add_listener
def apply_pushlab_options(environment: Any, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is not None:  # run by the locust command, not as a library
        PollingUser.poll_interval_s = options.poll_interval
        LongPollUser.hold_s = options.hold
        LongPollUser.network_timeout = max(
            LongPollUser.network_timeout, options.hold + NETWORK_TIMEOUT_MARGIN_S
        )
