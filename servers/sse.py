"""Server-Sent Events (WHATWG HTML, "Server-sent events"): one response that never ends.

The client sends one ordinary GET; the server answers ``200 text/event-stream`` and keeps
writing events into that same response:

    retry: 2000            ← how long the browser waits before reconnecting

    id: 42                 ← the browser remembers it and sends it back as Last-Event-ID
    data: {"id":42,"ts":1764293352.1,"text":"hi"}

    : keep-alive           ← a comment line: ignored by clients, keeps proxies from timing out

A reconnecting ``EventSource`` sends the ``Last-Event-ID`` header, so the stream resumes
exactly where it broke; if the history no longer reaches back that far, the first event is
``event: gap`` (:mod:`pushlab.protocol`). Push is one-way (server → client); a chat message goes
up with an ordinary ``POST /messages``.

An event is the same text on every stream, and so is its HTTP/1.1 chunk (RFC 9112 §7.1: the
size in hex, CRLF, the data, CRLF): :mod:`pushlab.servers.broadcast` builds those bytes once per
message and writes them to every stream in one loop. (An HTTP/1.0 client gets no chunking: it
has a broadcast of its own, of unframed events.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from aiohttp import web

from pushlab.protocol import GAP_EVENT, Gap
from pushlab.servers.broadcast import Broadcast, Subscriber
from pushlab.servers.common import parse_cursor
from pushlab.servers.feed import Message
from pushlab.servers.keys import CONFIG, FEED, METER
from pushlab.techniques import technique

TECHNIQUE = technique("sse")
PATH = TECHNIQUE.path
KEEP_ALIVE = b": keep-alive\n\n"
Item = TypeVar("Item", Message, Gap)


def sse_event(message: Message) -> bytes:
    return b"id: %d\ndata: %s\n\n" % (message.id, message.json_bytes)


def sse_gap_event(gap: Gap) -> bytes:
    """``id:`` is the gap's last id, so a reconnecting browser resumes after it."""
    data = json.dumps(gap.as_json(), separators=(",", ":"))
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (gap.to_id, GAP_EVENT.encode(), data.encode())


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def chunked(encode: Callable[[Item], bytes]) -> Callable[[Item], bytes]:
    return lambda item: chunk(encode(item))


class StreamSubscriber(Subscriber):
    __slots__ = ("ended",)

    def __init__(self, request: web.Request) -> None:
        super().__init__(request.transport, request.writer)  # type: ignore[arg-type]
        self.ended: asyncio.Future[Gap | None] = asyncio.get_running_loop().create_future()

    async def fell_behind(self, gap: Gap) -> None:
        if not self.ended.done():
            self.ended.set_result(gap)  # the handler writes the gap event and ends the stream

    def end(self) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


BROADCASTS = web.AppKey("sse_broadcasts", dict[bool, Broadcast])  # chunked?: its broadcast
STREAMS = web.AppKey("sse_streams", set[StreamSubscriber])


async def events(request: web.Request) -> web.StreamResponse:
    config, meter = request.app[CONFIG], request.app[METER]
    last_event_id = request.headers.get("Last-Event-ID")
    cursor = parse_cursor(request, last_event_id if last_event_id else None)

    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # ask reverse proxies not to buffer the stream
        }
    )
    await response.prepare(request)
    if request.method == "HEAD":  # the headers a GET would get, and no never-ending body
        return response
    await response.write(b"retry: %d\n\n" % config.sse_retry_ms)  # sends the headers too
    broadcast = request.app[BROADCASTS][request.writer.chunked]  # type: ignore[attr-defined]
    subscriber, streams = StreamSubscriber(request), request.app[STREAMS]
    streams.add(subscriber)
    meter.clients_connected += 1
    try:
        await broadcast.join(subscriber, cursor)
        gap = await subscriber.ended
        if gap is not None:  # a slow consumer the history has passed: say so, then end
            await response.write(sse_gap_event(gap))
    finally:
        meter.clients_connected -= 1
        streams.discard(subscriber)
        broadcast.leave(subscriber)
    return response


async def run_broadcasts(app: web.Application) -> AsyncIterator[None]:
    """The two broadcasts, and one keep-alive timer for all streams (not one per stream)."""
    feed, meter, config = app[FEED], app[METER], app[CONFIG]
    high_water = config.push_high_water_bytes
    app[BROADCASTS] = {
        True: Broadcast(feed, meter, chunked(sse_event), chunked(sse_gap_event), high_water),
        False: Broadcast(feed, meter, sse_event, sse_gap_event, high_water),
    }

    async def keep_alive() -> None:
        while True:  # a comment only after a period without messages
            seen = feed.last_id
            await asyncio.sleep(config.sse_keepalive_s)
            if feed.last_id != seen:
                continue
            app[BROADCASTS][True].write_to_all(chunk(KEEP_ALIVE))
            app[BROADCASTS][False].write_to_all(KEEP_ALIVE)

    timer = asyncio.create_task(keep_alive())
    yield
    timer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await timer
    for broadcast in app[BROADCASTS].values():
        broadcast.close()


async def end_streams(app: web.Application) -> None:
    for subscriber in list(app[STREAMS]):
        subscriber.end()


def setup(app: web.Application) -> None:
    app[STREAMS] = set()
    app.router.add_get(PATH, events)
    app.cleanup_ctx.append(run_broadcasts)
    app.on_shutdown.append(end_streams)
