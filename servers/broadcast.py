"""Broadcast: one message, encoded once, written to every live subscriber in one loop.

A push server's natural first version gives each client a task that waits for news and sends
it (``async for batch in feed.follow(cursor): await ws.send_...``). Every publish then wakes a
thousand tasks, and each builds the same bytes again. But a server's WebSocket frames are not
masked (RFC 6455 §5.1), and an SSE event is the same text for every stream: the bytes on the
wire are *identical* for every subscriber. So the feed calls :meth:`Broadcast.send` once per
message (:meth:`Feed.add_listener`), which builds the bytes once and hands them to each socket's
transport, in one synchronous loop: no task wakes, nothing waits. (The ``websockets`` library's
guide "Broadcasting messages" walks the same road, from a naive loop to ``broadcast()``.)

A loop that never waits must not be held up by a client that does not read. asyncio buffers what
the kernel will not take yet; a subscriber whose buffer passes ``high_water_bytes`` *leaves* the
loop (the loop skips it from then on). A task of its own (:meth:`Broadcast.catch_up`) waits for
its buffer to drain, writes what it missed from the feed's history, from its own cursor, and
puts it back in the loop once it is level with the feed. Memory per slow client is therefore
bounded by the high-water mark (plus one message). If the history has moved past its cursor
meanwhile, it cannot be given every message: the technique says so (:meth:`Subscriber.fell_behind`:
a WebSocket close 4001, an SSE ``event: gap``) rather than skip ids silently.

aiohttp keeps everything else: the handshake, the reading side, pings, close.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pushlab.protocol import Gap
from pushlab.servers.feed import Feed, Message
from pushlab.servers.metering import Meter, raw_transport

if TYPE_CHECKING:  # a hint only: the load generator imports this module's constants
    from aiohttp.abc import AbstractStreamWriter

DEFAULT_HIGH_WATER_BYTES = 64 * 1024
"""asyncio's own default write-buffer high-water mark: past it, a subscriber leaves the loop."""


class Subscriber:
    """One push client, as the broadcast loop sees it: a transport, and how to drain it."""

    __slots__ = ("catching_up", "transport", "writer")

    def __init__(self, transport: asyncio.BaseTransport, writer: AbstractStreamWriter) -> None:
        self.transport = raw_transport(transport)
        self.writer = writer  # its drain() waits until the kernel has taken the backlog
        self.catching_up: asyncio.Task[None] | None = None

    async def fell_behind(self, gap: Gap) -> None:
        """The history no longer holds ``gap``: tell the client and end (per technique)."""
        raise NotImplementedError


class Broadcast:
    """The live subscribers of one push server, and the loop that writes to them."""

    def __init__(
        self,
        feed: Feed,
        meter: Meter,
        wire_bytes: Callable[[Message], bytes],
        gap_bytes: Callable[[Gap], bytes],
        high_water_bytes: int = DEFAULT_HIGH_WATER_BYTES,
    ) -> None:
        self.feed, self.meter = feed, meter
        self.wire_bytes, self.gap_bytes = wire_bytes, gap_bytes
        self.high_water_bytes = high_water_bytes
        self.live: set[Subscriber] = set()
        self.joined: set[Subscriber] = set()  # live or catching up: every open subscriber
        self.tasks: set[asyncio.Task[None]] = set()  # catch-ups that are ending a subscriber
        feed.add_listener(self.send)
        feed.add_reset_listener(self.end_all)

    def close(self) -> None:
        self.feed.remove_listener(self.send)
        self.feed.remove_reset_listener(self.end_all)

    def end_all(self) -> None:
        """The feed started anew and its ids may repeat old ones: close every subscriber's
        connection, as a restarted server would; each client reconnects, reads the new
        ``feed_id`` and starts again from 0 (``Feed.start_anew``)."""
        for subscriber in list(self.joined):
            subscriber.transport.close()

    def send(self, message: Message) -> None:
        """Write ``message`` to every live subscriber: the one loop of this module."""
        if not self.live:
            return
        data = self.wire_bytes(message)
        high_water, written, behind = self.high_water_bytes, 0, []
        for subscriber in self.live:
            transport = subscriber.transport
            if transport.get_write_buffer_size() > high_water or transport.is_closing():
                behind.append(subscriber)
                continue
            transport.write(data)
            written += 1
        self.meter.bytes_out += len(data) * written  # exact: every write above was this size
        self.meter.messages_delivered += written
        if written:  # the server's share of this message's latency: publish → the last write
            self.meter.fanout_s += time.time() - message.ts
            self.meter.fanouts += 1
        for subscriber in behind:
            self.live.discard(subscriber)
            if not subscriber.transport.is_closing():
                self.start_catching_up(subscriber, message.id - 1)

    def write_to_all(self, data: bytes) -> None:
        """Write bytes that are no message (an SSE keep-alive) to every subscriber with room."""
        written = 0
        for subscriber in self.live:
            if subscriber.transport.get_write_buffer_size() <= self.high_water_bytes:
                subscriber.transport.write(data)
                written += 1
        self.meter.bytes_out += len(data) * written

    def start_catching_up(self, subscriber: Subscriber, cursor: int) -> None:
        subscriber.catching_up = asyncio.create_task(self.catch_up(subscriber, cursor))

    async def join(self, subscriber: Subscriber, cursor: int) -> None:
        """A new subscriber that has seen ``cursor``: announce a gap (a late resume; ``since=0``
        is a fresh start, never late), replay the history, then join the loop."""
        subscriber.transport.set_write_buffer_limits(high=self.high_water_bytes)
        self.joined.add(subscriber)
        gap = self.feed.gap_before(cursor)
        if gap is not None:
            if cursor > 0:
                self.write(subscriber, self.gap_bytes(gap))
            cursor = gap.to_id
        await self.catch_up(subscriber, cursor)

    async def catch_up(self, subscriber: Subscriber, cursor: int) -> None:
        """Drain, write what is missed since ``cursor``, repeat until level, then rejoin."""
        transport = subscriber.transport
        while not transport.is_closing() and not self.feed.closed:
            await subscriber.writer.drain()
            gap = self.feed.gap_before(cursor)
            if gap is not None:
                ending, subscriber.catching_up = subscriber.catching_up, None  # leave() spares it
                if ending is not None:
                    self.tasks.add(ending)
                    ending.add_done_callback(self.tasks.discard)
                await subscriber.fell_behind(gap)
                return
            missed = self.feed.since(cursor)
            if not missed:
                self.live.add(subscriber)  # level with the feed: no await since the check
                subscriber.catching_up = None
                return
            for message in missed:
                self.write(subscriber, self.wire_bytes(message))
                self.meter.messages_delivered += 1
                cursor = message.id
                if transport.get_write_buffer_size() > self.high_water_bytes:
                    break

    def write(self, subscriber: Subscriber, data: bytes) -> None:
        subscriber.transport.write(data)
        self.meter.bytes_out += len(data)

    def leave(self, subscriber: Subscriber) -> None:
        """The subscriber is gone (its handler ends): out of the loop, its catch-up stopped."""
        self.live.discard(subscriber)
        self.joined.discard(subscriber)
        if subscriber.catching_up is not None:
            subscriber.catching_up.cancel()
            subscriber.catching_up = None
