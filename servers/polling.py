"""Ajax (short) polling: the client asks "anything new?" again and again.

The server answers every request at once — with the messages the client has not seen, or,
most of the time, with an empty list. Each of those empty answers is a full HTTP exchange
(request line, headers, response headers) that carried no news: that is the load the source
article means (the answer, the same for every poll at the same cursor until the next publish,
is encoded once: :mod:`pushlab.servers.answers`). Try it: ``curl 'http://127.0.0.1:8001/poll?since=0'``.
"""

from __future__ import annotations

from aiohttp import web

from pushlab.servers.answers import PollAnswers
from pushlab.servers.common import parse_cursor
from pushlab.servers.keys import FEED, METER
from pushlab.techniques import technique

TECHNIQUE = technique("polling")
PATH = TECHNIQUE.path
ANSWERS = web.AppKey("polling_answers", PollAnswers)


async def poll(request: web.Request) -> web.Response:
    return request.app[ANSWERS].response(parse_cursor(request), request.app[METER])


def setup(app: web.Application) -> None:
    app[ANSWERS] = PollAnswers(app[FEED])
    app.router.add_get(PATH, poll)
