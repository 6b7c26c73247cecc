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
- **A Redis that restarts empty** (or another Redis on the same address) has lost the counter,
  so ``INCR`` would hand out ids the clients have already seen. The ``feed_id`` key is the
  marker: the publish script refuses to number a message unless the key still holds this
  process's ``feed_id``, and the reader checks the key whenever it is idle or reconnects. A
  process that finds the key gone *adopts* a new feed (:data:`ADOPT_SCRIPT`): a new
  ``feed_id`` whose counter starts after the newest id the process knows, so no id is given
  twice and every cursor keeps its meaning; ``/stats`` names the new ``feed_id``, and clients
  that check it start again from ``since=0``. (If another worker adopted first, knowing fewer
  ids, the ids may repeat: then this process drops its history and ends its streams, as a
  restarted server would — see ``Feed.start_anew``.)
- **A Redis that does not answer**: a publish fails at once with :class:`FeedUnavailableError`
  (the servers answer 503 with ``Retry-After``); reads keep answering from the process's own
  history; the reader reconnects with capped exponential backoff, and logs the outage once
  when it starts and once when it ends.

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
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from pushlab.servers.feed import (
    DEFAULT_HISTORY_SIZE,
    CursorAheadError,
    Feed,
    FeedUnavailableError,
    Message,
    encode_message,
)

log = logging.getLogger("pushlab.feed")

KEY_PREFIX = "pushlab:feed"
READ_BLOCK_MS = 1000  # how long one XREAD waits before the loop looks at ``closed`` again
PUBLISH_TIMEOUT_S = 10.0  # a publish whose message never comes back through the stream fails
REDIS_TIMEOUT_S = 5.0  # a call to a Redis that stopped answering (stalled) fails after this
READ_COUNT = 1000  # entries per read at most: a reader that fell behind catches up in steps
RECONNECT_FIRST_S = 0.1  # the reader's backoff after a failed read: doubled each time…
RECONNECT_CAP_S = 5.0  # …up to this
FEED_CHANGED = -1  # the publish script's answer when the feed_id key is not ours

PUBLISH_SCRIPT = """
if redis.call('GET', KEYS[3]) ~= ARGV[4] then return -1 end
local id = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], id .. '-1', 'ts', ARGV[2], 'text', ARGV[3])
return id
"""

ADOPT_SCRIPT = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then
    redis.call('SET', KEYS[2], ARGV[2])
  end
  redis.call('SET', KEYS[3], redis.call('GET', KEYS[2]) or '0')
end
return {redis.call('GET', KEYS[1]), tonumber(redis.call('GET', KEYS[3]) or '0')}
"""
"""Make the feed ``ARGV[1]`` unless one exists, its counter at least ``ARGV[2]`` (the newest id
the process knows) and its first id after ``KEYS[3]``; answer the feed's id and that floor."""


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
        self.id_key = f"{KEY_PREFIX}:id"
        self.floor_key = f"{KEY_PREFIX}:floor"  # the feed's ids start after this one
        # No retries inside redis-py: a publish fails at once (503), the reader backs off.
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        self._reader_client: aioredis.Redis = aioredis.Redis.from_url(  # its XREAD blocks
            url,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S + READ_BLOCK_MS / 1000,
            retry=Retry(NoBackoff(), 0),
        )
        self._publish = self._client.register_script(PUBLISH_SCRIPT)
        self._adopt = self._client.register_script(ADOPT_SCRIPT)
        self.reachable = True  # did the last call to Redis succeed?
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
        self.feed_id, _ = await self._adopt_feed()
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
        """Number and store the message in Redis; return once the reader has brought it here.

        :class:`FeedUnavailableError` when Redis does not answer, or when the message was not
        seen stored in time: the caller must not report a message that nobody may get.
        """
        ts = time.time()
        limit = self.history.maxlen or DEFAULT_HISTORY_SIZE
        keys = [self.stream_key, self.counter_key, self.id_key]
        try:
            message_id = int(await self._publish(keys, [limit, ts, text, self.feed_id]))
            if message_id == FEED_CHANGED:  # the store was reset: adopt its feed, number there
                await self.check_identity()
                message_id = int(await self._publish(keys, [limit, ts, text, self.feed_id]))
        except RedisTimeoutError as error:
            self._lost(error)
            raise FeedUnavailableError(
                f"the feed's Redis did not answer in time ({error}): the message may or may not"
                " have been stored"
            ) from None
        except (RedisError, OSError) as error:
            self._lost(error)
            raise FeedUnavailableError(f"the feed's Redis does not answer: {error}") from None
        if message_id == FEED_CHANGED:
            raise FeedUnavailableError("the feed's Redis was reset while publishing")
        if message_id > self.last_id:
            arrived = self._arrived.setdefault(
                message_id, asyncio.get_running_loop().create_future()
            )
            try:
                async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                    await asyncio.shield(arrived)
            except TimeoutError:
                raise FeedUnavailableError(
                    f"message #{message_id} was stored but not read back from Redis in time:"
                    " it may still be delivered"
                ) from None
        return encode_message(message_id, ts, text)

    async def _adopt_feed(self) -> tuple[str, int]:
        """The feed Redis holds now (one is made if there is none): its id and its floor."""
        feed_id, floor = await self._adopt(
            [self.id_key, self.counter_key, self.floor_key], [secrets.token_hex(8), self.last_id]
        )
        return feed_id.decode(), int(floor)

    async def check_identity(self) -> None:
        """Adopt the feed Redis holds if it is not this one (see the module's docstring)."""
        feed_id, floor = await self._adopt_feed()
        if feed_id == self.feed_id:
            return
        continues = floor >= self.last_id
        log.warning(
            "redis feed: the feed in %s is %s, not %s (Redis was reset): adopting it; %s",
            self.url,
            feed_id,
            self.feed_id,
            "its ids continue ours" if continues else "its ids may repeat ours: streams end",
        )
        for future in self._arrived.values():
            if not future.done():
                future.set_exception(FeedUnavailableError("the feed's Redis was reset"))
                future.exception()  # retrieved: its publisher may have stopped waiting
        self._arrived.clear()
        self.start_anew(feed_id, floor, continues)

    def _lost(self, error: Exception) -> None:
        if self.reachable:
            log.warning(
                "redis feed: %s does not answer (%s); retrying with backoff", self.url, error
            )
        self.reachable = False

    def _found(self) -> None:
        if not self.reachable:
            log.warning("redis feed: %s answers again", self.url)
        self.reachable = True

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
        """Read the stream for ever; when idle or back after an outage, check the marker."""
        backoff_s = RECONNECT_FIRST_S
        while not self.closed:
            try:
                if not self.reachable:
                    await self.check_identity()
                answer: Any = await self._reader_client.xread(
                    {self.stream_key: f"{self.last_id}-1"}, count=READ_COUNT, block=READ_BLOCK_MS
                )
                if not answer:
                    await self.check_identity()
            except (RedisError, OSError) as error:
                self._lost(error)
                await asyncio.sleep(backoff_s)  # a back-off, not a synchronisation
                backoff_s = min(backoff_s * 2, RECONNECT_CAP_S)
                continue
            self._found()
            backoff_s = RECONNECT_FIRST_S
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
