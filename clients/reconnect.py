"""Coming back after a break: capped exponential backoff with jitter, and the cursor.

A connection breaks (the server was killed, a phone changed networks, a proxy reset it). A
client that reconnects at once, in step with every other client, hits the restarting server
as a herd; one that waits a fixed time recovers slowly from a long outage. The usual answer
is **capped exponential backoff with jitter** (Marc Brooker, "Exponential Backoff and
Jitter", AWS Architecture Blog, 2015): wait ``first_s · 2^attempt`` seconds, at most
``cap_s``, and draw half of that wait at random so that clients spread out.

What the client resumes from is its **cursor**: the id of the last message it received.
``since=<cursor>`` for polling, long polling and WebSocket; the ``Last-Event-ID`` header for
SSE (WHATWG HTML §9.2.4: the browser's EventSource sends it by itself when it reconnects).
The server answers from its history, so nothing published during the break is lost, unless
the server itself restarted: its feed lived in memory, so a new ``feed_id`` in ``/stats`` (or a
cursor "ahead of the newest message", 400) means "start again from ``since=0``".
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from pushlab.clients.target import ClientFailure, connection_failure, server_stats
from pushlab.protocol import Gap

if TYPE_CHECKING:  # the conversation runs this loop; this module only reads its state
    from pushlab.clients.conversation import Conversation

Talker = Callable[["Conversation", float, float], Awaitable[str]]

DEFAULT_RETRIES = 5
"""Reconnect attempts in a row before a client gives up (a success starts the count again)."""


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait before reconnect attempt ``attempt`` (0, 1, 2, ...)."""

    first_s: float = 0.5
    cap_s: float = 10.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay_s(self, attempt: int) -> float:
        """ "Equal jitter": half of the capped exponential wait is fixed, half is random."""
        ceiling_s = min(self.cap_s, self.first_s * 2**attempt)
        return ceiling_s / 2 + self.rng.uniform(0, ceiling_s / 2)


class ConnectionBroken(Exception):
    """The connection ended without the server saying goodbye (no close frame, no end of
    the conversation): the client may come back and resume."""


class FeedRestarted(ConnectionBroken):
    """The server answered that our cursor is ahead of its newest message: a new feed."""


class GapClosed(Exception):
    """The WebSocket server closed us with ``GAP_CLOSE_CODE``: we fell past its history.
    Resume at once after the gap."""

    def __init__(self, gap: Gap) -> None:
        super().__init__(gap.describe())
        self.gap = gap


BREAKS = (ConnectionBroken, aiohttp.ClientError, ConnectionError, TimeoutError)
"""What a reconnect can mend. Anything else (a wrong answer, a refused upgrade) cannot."""


def break_reason(error: BaseException, base: str) -> str:
    """One line for what broke, never a traceback and never a close code nobody sent."""
    if isinstance(error, ConnectionBroken):
        return str(error)
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without an answer"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "the connection ended in the middle of the response"
    if isinstance(error, aiohttp.ClientConnectorError):
        return str(connection_failure(base, error))
    if isinstance(error, TimeoutError):
        return "no answer (timed out)"
    if isinstance(error, ConnectionResetError):
        return "the connection was reset"
    return f"{error.__class__.__name__}: {error}".rstrip(": ")


async def talk_with_reconnects(
    c: Conversation, talk: Talker, interval_s: float, hold_s: float, retries: int, backoff: Backoff
) -> str:
    """Run the talker; when its connection breaks, wait, reconnect and resume from the cursor.

    Up to ``retries`` attempts in a row (an attempt that got a real answer starts the count
    again); then the break is the conversation's one-line error. A WebSocket closed for a gap
    resumes at once after the gap: that is the server's instruction, not a fault."""
    attempt = 0
    while True:
        c.connected = False
        try:
            return await talk(c, interval_s, hold_s)
        except GapClosed as closed:
            c.gap(closed.gap)
            c.summary.reconnects += 1
            continue
        except BREAKS as error:
            reason = break_reason(error, c.base)
            restarted = isinstance(error, FeedRestarted)
        if c.connected:
            attempt = 0
        c.narrator.received(c.texts.connection_broken(reason), "empty", kind="break")
        stats = None
        while stats is None:
            if attempt >= retries:
                raise ClientFailure(c.texts.gave_up(reason, attempt))
            # An SSE server's ``retry:`` is the least a browser would wait: wait at least that.
            wait_s = max(backoff.delay_s(attempt), c.server_retry_s)
            attempt += 1
            c.narrator.sent(c.texts.reconnect_wait(wait_s, attempt, retries), kind="info")
            await asyncio.sleep(wait_s)  # the backoff is the point: a deliberate wait
            try:
                stats = await server_stats(c.session, c.base)
            except ClientFailure as failure:
                reason = str(failure)
                c.narrator.received(c.texts.reconnect_failed(reason), "empty", kind="break")
        c.summary.reconnects += 1
        resume(c, stats, restarted)


def resume(c: Conversation, stats: dict[str, Any], restarted: bool) -> None:
    """Set the cursor for the next attempt, and say where it is and why."""
    last_id = int(stats["last_id"])
    if restarted or stats.get("feed_id") != c.feed_id:
        c.narrator.received(c.texts.server_restarted(c.cursor), "empty", kind="resume")
        c.cursor, c.caught_up_to = 0, last_id
    elif not c.resumes:
        c.narrator.received(c.texts.not_resumed(c.cursor, last_id), "empty", kind="resume")
        c.cursor = c.caught_up_to = last_id
    else:
        c.narrator.received(c.texts.resumed(c.cursor, last_id), "info", kind="resume")
        c.caught_up_to = last_id
    c.learn_feed(stats)
