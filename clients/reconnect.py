"""Coming back after a break: capped exponential backoff with jitter, and the cursor.

A connection breaks (the server was killed, a phone changed networks, a proxy reset it). A
client that reconnects at once, in step with every other client, hits the restarting server
as a herd; one that waits a fixed time recovers slowly from a long outage. The usual answer
is **capped exponential backoff with jitter**: the one policy every pushlab client runs, the
page and the bench's Locust users included (``pushlab/reconnect_policy.py`` says which
variant, with which numbers, and why).

What the client resumes from is its **cursor**: the id of the last message it received.
``since=<cursor>`` for polling, long polling and WebSocket; the ``Last-Event-ID`` header for
SSE (WHATWG HTML §9.2.4: the browser's EventSource sends it by itself when it reconnects).
The server answers from its history, so nothing published during the break is lost, unless
the server itself restarted: its feed lived in memory, so a new ``feed_id`` in ``/stats`` (or a
cursor "ahead of the newest message", 400) means "start again from ``since=0``".
"""

from __future__ import annotations

import asyncio
from typing import Any

from pushlab.clients.breaks import BREAKS, FeedRestarted, GapClosed, break_reason
from pushlab.clients.conversation_state import Conversation, Talker
from pushlab.clients.target import ClientFailure, server_stats
from pushlab.reconnect_policy import Backoff

DEFAULT_RETRIES = 5
"""Reconnect attempts in a row before a client gives up (a success starts the count again)."""


async def talk_with_reconnects(
    c: Conversation, talk: Talker, interval_s: float, hold_s: float, retries: int, backoff: Backoff
) -> str:
    """Run the talker; when its connection breaks, wait, reconnect and resume from the cursor.

    Up to ``retries`` attempts in a row (an attempt that got a real answer starts the count
    again); then the break is the conversation's one-line error. A WebSocket closed for a gap
    resumes at once after the gap: that is the server's instruction, not a fault."""
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
            backoff.reset()
        c.narrator.received(c.texts.connection_broken(reason), "empty", kind="break")
        stats = None
        while stats is None:
            if backoff.attempt >= retries:
                raise ClientFailure(c.texts.gave_up(reason, backoff.attempt))
            # An SSE server's ``retry:`` is the least a browser would wait: wait at least that.
            wait_s = max(backoff.next_wait_s(), c.server_retry_s)
            c.narrator.sent(c.texts.reconnect_wait(wait_s, backoff.attempt, retries), kind="info")
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
