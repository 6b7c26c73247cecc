"""The floor of a poll answer with nothing new: a bare aiohttp handler that returns a constant.

Issue 15 asks that a poll with nothing new be cheap, and "cheap" needs a reference. This peer
answers ``GET /poll`` with the bytes and headers of pushlab's empty poll answer
(``{"messages":[],"last_id":0}``, with ``servers/answers.py``'s headers), read from nowhere:
no query string, no cursor, no feed, no encoding. It gets only what every peer gets
(``peers/app.py``: the JSON-error and request-counting middlewares, the TCP-level meter,
``/stats`` and ``/publisher``), so the bench measures it exactly as it measures pushlab's
polling server, and the saturation sweep (``bench/measuring/saturation.py``) holds the two
servers' requests per second against each other at the same concurrency. What pushlab's
polling server spends beyond this per empty answer (the guards, the cursor's checks, the
answer cache) is the price of its behaviour; what this one spends is aiohttp's own.

Its answer says ``last_id`` 0 whatever is published: it never delivers a message, so the bench
runs it only where nothing is published (``Peer.delivers`` is False in ``pushlab.techniques``).
"""

from __future__ import annotations

from aiohttp import web

from pushlab.servers.answers import HEADERS
from pushlab.servers.keys import METER
from pushlab.techniques import PEERS

EMPTY_ANSWER = b'{"messages":[],"last_id":0}'


async def poll(request: web.Request) -> web.Response:
    request.app[METER].empty_responses += 1  # the meter's one counter an empty answer moves
    return web.Response(body=EMPTY_ANSWER, headers=HEADERS)


def setup(app: web.Application, name: str) -> None:
    app.router.add_get(PEERS[name].path, poll)
