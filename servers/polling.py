"""Ajax (short) polling: the client asks "anything new?" again and again.

The server answers every request at once — with the messages the client has not seen, or,
most of the time, with an empty list. Each of those empty answers is a full HTTP exchange
(request line, headers, response headers) that carried no news: that is the load the source
article means. Try it: ``curl 'http://127.0.0.1:8001/poll?since=0'``.
"""

from __future__ import annotations

from aiohttp import web

from pushlab.servers.common import parse_cursor, poll_response
from pushlab.servers.keys import FEED, METER
from pushlab.techniques import technique

TECHNIQUE = technique("polling")
PATH = TECHNIQUE.path


async def poll(request: web.Request) -> web.Response:
    cursor = parse_cursor(request)
    feed = request.app[FEED]
    return poll_response(feed.since(cursor), feed.last_id, request.app[METER])


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, poll)
