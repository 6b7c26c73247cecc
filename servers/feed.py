"""The message feed that every technique serves.

The feed knows nothing of HTTP: it numbers messages, keeps a bounded history so that a client
can resume from a cursor, and wakes everyone who waits for news the moment something is
published. Waking is event-driven: each publish sets the current ``asyncio.Event`` and installs a
fresh one, so thousands of waiters cost nothing until there is news, and no one polls.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from itertools import islice

from pushlab.protocol import Gap

DEFAULT_HISTORY_SIZE = 1000


class FeedUnavailableError(Exception):
    """The shared feed cannot be reached (Redis down, wrong URL): a one-line error, not a
    traceback. Defined with the feed, so that every feed may raise it."""


@dataclass(frozen=True, slots=True)
class Message:
    """One published message; ``ts`` is the server's publish time (epoch seconds)."""

    id: int
    ts: float
    text: str
    json: str = field(repr=False)  # encoded once at publish, sent as-is to every client
    json_bytes: bytes = field(repr=False)


def encode_message(message_id: int, ts: float, text: str) -> Message:
    encoded = json.dumps(
        {"id": message_id, "ts": ts, "text": text}, separators=(",", ":"), ensure_ascii=False
    )
    return Message(message_id, ts, text, encoded, encoded.encode())


class CursorAheadError(ValueError):
    """A client claims to have seen a message this server never published (it restarted?)."""


class Feed:
    """Numbered messages, a bounded history, and an event that fires on every publish.

    ``feed_id`` names this feed: a random token made when the feed is created. Ids count from #1
    in every feed, so a client that sees a new ``feed_id`` (in ``/stats``) knows the server
    restarted even when the new feed has already passed the client's cursor.
    """

    def __init__(self, history_size: int = DEFAULT_HISTORY_SIZE) -> None:
        if history_size < 1:
            raise ValueError("history_size must be at least 1")
        self.feed_id = secrets.token_hex(8)
        self.history: deque[Message] = deque(maxlen=history_size)
        self.last_id = 0
        self.closed = False
        self.resets = 0  # times this feed started anew in place (its store was reset)
        self._news = asyncio.Event()
        self._listeners: list[Callable[[Message], None]] = []
        self._reset_listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[Message], None]) -> None:
        """Call ``listener(message)`` on every append, synchronously (the push servers' broadcast
        loops hang here: no task is woken to deliver a message)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Message], None]) -> None:
        """Stop calling ``listener``; removing one already gone is a no-op (an application
        may be cleaned up twice)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def add_reset_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` when the feed starts anew and its ids no longer continue the old
        ones (:meth:`start_anew`): a push server ends its streams, as a restarted server would."""
        self._reset_listeners.append(listener)

    def remove_reset_listener(self, listener: Callable[[], None]) -> None:
        if listener in self._reset_listeners:
            self._reset_listeners.remove(listener)

    def start_anew(self, feed_id: str, last_id: int, continues: bool) -> None:
        """Become feed ``feed_id``, whose newest id is ``last_id``.

        A feed whose store was reset under it (a Redis that restarted empty) cannot pretend to
        be the old one. If the new feed's ids ``continues`` after this one's, the history stays
        valid and every cursor keeps its meaning: only ``feed_id`` changes, so a client that
        checks it starts again from ``since=0`` and loses nothing. Otherwise ids may repeat:
        the history is dropped, the waiters are woken and the reset listeners end their streams,
        so every client reconnects, reads the new ``feed_id`` and starts again from 0.
        """
        self.feed_id = feed_id
        self.resets += 1
        if continues:
            return  # the store's next ids follow ours (a jump is a gap, as after trimming)
        self.history.clear()
        self.last_id = last_id
        self._wake_waiters()
        for listener in list(self._reset_listeners):
            listener()

    async def publish(self, text: str) -> Message:
        """Number, stamp and store a message, and wake everyone waiting for news.

        A coroutine although this feed needs no I/O: a feed shared by several processes
        (through a broker) must wait for the broker to number the message, and every caller
        is written for either.
        """
        message = encode_message(self.last_id + 1, time.time(), text)
        self.append(message)
        return message

    def append(self, message: Message) -> None:
        """Store a message numbered ``last_id + 1`` and wake the waiters (publish's second half,
        also what a feed fed from elsewhere calls)."""
        if message.id != self.last_id + 1:
            raise ValueError(f"message #{message.id} does not follow #{self.last_id}")
        self.last_id = message.id
        self.history.append(message)
        self._wake_waiters()
        for listener in self._listeners:
            listener(message)

    def close(self) -> None:
        """Release every waiter (used at shutdown so held requests end at once)."""
        self.closed = True
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        news, self._news = self._news, asyncio.Event()
        news.set()

    def check_cursor(self, cursor: int) -> None:
        if cursor > self.last_id:
            raise CursorAheadError(
                f"since={cursor} is ahead of the newest message id {self.last_id}"
                " (did the server restart? start again from since=0)"
            )

    def gap_before(self, cursor: int) -> Gap | None:
        """The ids after ``cursor`` that the history no longer holds, or None if none is lost.

        A client at ``cursor`` is owed ``cursor + 1`` onwards; the oldest id held is
        ``last_id - len(history) + 1``: anything between the two is gone.
        """
        oldest_held = self.last_id - len(self.history) + 1
        if cursor + 1 >= oldest_held:
            return None
        return Gap(cursor + 1, oldest_held - 1)

    def since(self, cursor: int) -> list[Message]:
        """Messages with id > cursor still held; ``since(0)`` is the whole history."""
        newer = min(self.last_id - cursor, len(self.history))
        if newer <= 0:
            return []
        # Walk from the newest end: a client near the head costs a few steps, not the history.
        return list(islice(reversed(self.history), newer))[::-1]

    async def wait_for_news(self, cursor: int, timeout_s: float) -> list[Message]:
        """Long-poll primitive: messages newer than ``cursor``, or [] after ``timeout_s``."""
        resets = self.resets
        try:
            async with asyncio.timeout(timeout_s):
                while self.last_id <= cursor and not self.closed and self.resets == resets:
                    await self._news.wait()
        except TimeoutError:
            return []
        return self.since(cursor)

    async def follow(
        self, cursor: int, idle_timeout_s: float | None = None
    ) -> AsyncIterator[list[Message]]:
        """Push primitive: yield each batch of new messages; yield [] after an idle period.

        The empty batch lets a push handler send a keep-alive without a timer of its own.
        Ends when the feed is closed.
        """
        while not self.closed:
            batch = self.since(cursor)
            if batch:
                cursor = batch[-1].id
                yield batch
                continue
            try:
                async with asyncio.timeout(idle_timeout_s):
                    await self._news.wait()
            except TimeoutError:
                yield []
