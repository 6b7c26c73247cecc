"""Server-Sent Events (WHATWG HTML, "Server-sent events"): one response that never ends.

The client sends one ordinary GET; the server answers ``200 text/event-stream`` and keeps
writing events into that same response:

    retry: 2000            ← how long the browser waits before reconnecting

    id: 42                 ← the browser remembers it and sends it back as Last-Event-ID
    data: {"id":42,"ts":1764293352.1,"text":"hi"}

    : keep-alive           ← a comment line: ignored by clients, keeps proxies from timing out

A reconnecting ``EventSource`` sends the ``Last-Event-ID`` header, so the stream resumes
exactly where it broke. Push is one-way (server → client); a chat message goes up with an
ordinary ``POST /messages``.
"""

from __future__ import annotations

from aiohttp import web

from pushlab.servers.common import parse_cursor
from pushlab.servers.feed import Message
from pushlab.servers.keys import CONFIG, FEED, METER
from pushlab.techniques import technique

TECHNIQUE = technique("sse")
PATH = TECHNIQUE.path


def sse_event(message: Message) -> bytes:
    return b"id: %d\ndata: %s\n\n" % (message.id, message.json_bytes)


async def events(request: web.Request) -> web.StreamResponse:
    config, feed, meter = request.app[CONFIG], request.app[FEED], request.app[METER]
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
    await response.write(b"retry: %d\n\n" % config.sse_retry_ms)
    meter.clients_connected += 1
    try:
        async for batch in feed.follow(cursor, idle_timeout_s=config.sse_keepalive_s):
            if not batch:
                await response.write(b": keep-alive\n\n")
                continue
            await response.write(b"".join(sse_event(m) for m in batch))
            meter.messages_delivered += len(batch)
    finally:
        meter.clients_connected -= 1
    return response


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, events)
