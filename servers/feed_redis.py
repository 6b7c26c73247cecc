"""A feed shared through Redis: many server processes, one numbered history that outlives them.

Each process keeps an ordinary in-memory :class:`~pushlab.servers.feed.Feed` (its waiters, its
history for ``since``) and feeds it from one Redis Stream, so a thousand local waiters cost one
Redis read, not a thousand:

- **Publishing** runs one Lua script (atomic in Redis): ``INCR`` a counter for pushlab's id,
  then ``XADD`` the message with the stream entry id ``<id>-1`` and ``MAXLEN ~ history``
  (approximate trimming is cheap: whole nodes are dropped). Because numbering and appending are
  one atomic step, ids are dense and the stream holds them in order whichever worker published
  them; the stream id *is* the pushlab id, so resuming from a cursor needs no mapping table.
  The publish time ``ts`` is stamped by the publishing process before the script runs.
- **Reading**: one task per process loops on ``XREAD BLOCK`` from the last entry id seen (never
  ``$``, which would lose what arrives between two reads) on a connection of its own (a
  blocking read holds its connection), and calls ``Feed.append`` for each entry: the memory
  feed's fan-out then wakes the local waiters. ``publish`` returns once its own message has come
  back through the stream, so a client that hears of id N from this process can ask this
  process for ``since=N`` at once.
- **Restart**: the stream, the counter and the ``feed_id`` live in Redis (no persistence is
  needed for a server restart, only for a Redis restart). On start the reader loads the last
  ``history`` entries, so a client resuming from its cursor after the server restarted loses
  nothing, and sees the same ``feed_id``: the feed did not change.

``redis://HOST:PORT/DB`` names the Redis; the keys are ``pushlab:feed:*`` in that database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from pushlab.servers.feed import (
    DEFAULT_HISTORY_SIZE,
    CursorAheadError,
    Feed,
    Message,
    encode_message,
)

log = logging.getLogger("pushlab.feed")

KEY_PREFIX = "pushlab:feed"
READ_BLOCK_MS = 1000  # how long one XREAD waits before the loop looks at ``closed`` again
PUBLISH_TIMEOUT_S = 10.0  # a publish whose message never comes back through the stream fails
READ_COUNT = 1000  # entries per read at most: a reader that fell behind catches up in steps

PUBLISH_SCRIPT = """
local id = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], id .. '-1', 'ts', ARGV[2], 'text', ARGV[3])
return id
"""


def entry_message(entry_id: bytes, fields: dict[bytes, bytes]) -> Message:
    """A stream entry ``<id>-1 {ts, text}`` as the message every client is sent."""
    message_id = int(entry_id.split(b"-", 1)[0])
    return encode_message(message_id, float(fields[b"ts"]), fields[b"text"].decode())


class RedisFeed(Feed):
    """A :class:`Feed` whose messages are numbered and stored in a Redis Stream.

    ``start()`` connects and loads the history; ``aclose()`` stops the reader and disconnects
    (the application's cleanup context calls both).
    """

    def __init__(self, url: str, history_size: int = DEFAULT_HISTORY_SIZE) -> None:
        super().__init__(history_size)
        self.url = url
        self.stream_key = f"{KEY_PREFIX}:stream"
        self.counter_key = f"{KEY_PREFIX}:last_id"
        self._client: aioredis.Redis = aioredis.Redis.from_url(url)
        self._reader_client: aioredis.Redis = aioredis.Redis.from_url(url)
        self._publish = self._client.register_script(PUBLISH_SCRIPT)
        self._reader: asyncio.Task[None] | None = None
        self._arrived: dict[int, asyncio.Future[None]] = {}
        self.redis_reads = 0  # XREAD calls that returned entries: one per batch, not per waiter

    async def start(self) -> None:
        """Adopt the shared ``feed_id``, load the newest history, and start the one reader."""
        try:
            await self._load()
        except (RedisError, OSError) as error:  # not there, or not a Redis
            await self.aclose()
            raise ConnectionError(f"cannot reach the feed at {self.url}: {error}") from None
        self._reader = asyncio.create_task(self._read_stream(), name="redis feed reader")

    async def _load(self) -> None:
        await self._client.set(f"{KEY_PREFIX}:id", secrets.token_hex(8), nx=True)
        self.feed_id = (await self._client.get(f"{KEY_PREFIX}:id")).decode()
        newest = await self._client.xrevrange(self.stream_key, count=self.history.maxlen)
        for entry_id, fields in reversed(newest):
            self._take(entry_message(entry_id, fields))
        if not newest:  # an empty stream: start after the counter (0 for a new feed)
            self.last_id = int(await self._client.get(self.counter_key) or 0)

    async def aclose(self) -> None:
        self.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._reader_client.aclose()
        await self._client.aclose()

    async def publish(self, text: str) -> Message:
        """Number and store the message in Redis; return once the reader has brought it here."""
        ts = time.time()
        limit = self.history.maxlen or DEFAULT_HISTORY_SIZE
        message_id = int(
            await self._publish([self.stream_key, self.counter_key], [limit, ts, text])
        )
        if message_id > self.last_id:
            arrived = self._arrived.setdefault(
                message_id, asyncio.get_running_loop().create_future()
            )
            await arrived
        return encode_message(message_id, ts, text)

    def check_cursor(self, cursor: int) -> None:
        """A cursor a little ahead of this process is normal here: another worker numbered the
        message and the stream has not brought it yet (the wait just waits for it). Only a
        cursor more than a history ahead is refused: that is a different feed."""
        limit = self.history.maxlen or DEFAULT_HISTORY_SIZE
        if cursor > self.last_id + limit:
            raise CursorAheadError(
                f"since={cursor} is ahead of the newest message id {self.last_id}"
                " (was the feed reset? start again from since=0)"
            )

    def _take(self, message: Message) -> None:
        """Append an entry; after a jump (the stream was trimmed past us) start the history anew,
        as a client that fell behind the history would see it."""
        if message.id <= self.last_id:
            return
        if message.id != self.last_id + 1:
            self.history.clear()
            self.last_id = message.id - 1
        self.append(message)

    async def _read_stream(self) -> None:
        while not self.closed:
            try:
                answer: Any = await self._reader_client.xread(
                    {self.stream_key: f"{self.last_id}-1"}, count=READ_COUNT, block=READ_BLOCK_MS
                )
            except (RedisConnectionError, RedisTimeoutError) as error:
                log.warning("redis feed: %s; reading again in 1 s", error)
                await asyncio.sleep(1.0)  # a back-off, not a synchronisation
                continue
            for _key, entries in answer or ():
                self.redis_reads += 1
                for entry_id, fields in entries:
                    self._take(entry_message(entry_id, fields))
            self._release_publishers()

    def _release_publishers(self) -> None:
        for message_id in [i for i in self._arrived if i <= self.last_id]:
            future = self._arrived.pop(message_id)
            if not future.done():
                future.set_result(None)
