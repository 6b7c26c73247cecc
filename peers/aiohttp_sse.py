"""Server-Sent Events with the aiohttp-sse package: the peer of pushlab's SSE server.

``aiohttp_sse.sse_response`` is what an aiohttp user reaches for: it writes the headers, frames
each ``send(data, id=…)`` as an event and sends its own keep-alive pings. Each stream follows
the same feed as pushlab's server does (one waiter per stream, woken on publish), so the two
rows differ by the event framing and the library's machinery, not by how news is found. It
does not resume from ``Last-Event-ID``: a stream starts at the feed's present.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp_sse import sse_response

from pushlab.servers.keys import FEED, METER


async def events(request: web.Request) -> web.StreamResponse:
    feed, meter = request.app[FEED], request.app[METER]
    async with sse_response(request) as stream:
        meter.clients_connected += 1
        try:
            async for batch in feed.follow(feed.last_id):
                for message in batch:
                    await stream.send(message.json, id=str(message.id))
                meter.messages_delivered += len(batch)
        finally:
            meter.clients_connected -= 1
    return stream


def setup(app: web.Application, name: str) -> None:
    app.router.add_get("/events", events)
