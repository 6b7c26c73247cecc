"""Server-Sent Events with sse-starlette on uvicorn: what a FastAPI user reaches for.

``EventSourceResponse`` takes an async generator of events and writes them as
``text/event-stream`` (with its own keep-alive pings); each stream follows the feed (one waiter
per stream, woken on publish), as the aiohttp-sse peer does, so the rows differ by the framing
and the frameworks' machinery, not by how news is found. Like that peer, a stream starts at the
feed's present (no ``Last-Event-ID`` resume). uvicorn runs with its default choices
(``peers/uvicorn_server.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.routing import Route

from pushlab.peers import uvicorn_server
from pushlab.peers.control import Control
from pushlab.techniques import SSE

LOOP = "uvicorn"  # uvicorn's default loop (uvloop when installed)


def events_endpoint(control: Control) -> Route:
    feed, meter = control.feed, control.meter

    async def stream() -> AsyncIterator[ServerSentEvent]:
        meter.clients_connected += 1
        try:
            async for batch in feed.follow(feed.last_id):
                for message in batch:
                    yield ServerSentEvent(data=message.json, id=str(message.id))
                meter.messages_delivered += len(batch)
        finally:
            meter.clients_connected -= 1

    async def events(request: Request) -> EventSourceResponse:
        meter.requests += 1
        return EventSourceResponse(stream())

    return Route("/events", events)


@contextlib.asynccontextmanager
async def framework_server(control: Control) -> AsyncIterator[str]:
    async with uvicorn_server.serve(control, [events_endpoint(control)]) as url:
        control.stack[SSE.name] = f"sse-starlette {uvicorn_server.version('sse-starlette')}"
        yield url
