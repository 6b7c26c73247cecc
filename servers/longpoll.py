"""Long polling (RFC 6202 §2.1): the server holds the request until there is news.

The client asks "anything newer than N?". If there is, the answer is immediate. If not, the
server parks the request — no thread, no loop, just a waiter on the feed's event — until a
publish wakes it, or until ``timeout`` seconds pass (then it answers with an empty list, and
the client asks again). Every answer costs the client one new request, so at low message
rates a long poll needs about one request per message.

RFC 6202's advice, followed here: answer before the timeouts of proxies and clients cut the
held request (§5.5 "Timeouts": the default hold, ``pushlab.techniques.LONGPOLL_HOLD_S``, is
under the 30 s that proxies commonly allow; a client may ask for up to ``LONGPOLL_MAX_HOLD_S``),
keep intermediaries from caching answers (``Cache-Control: no-store``; §2.2 "Caching"), and
answer with *everything* newer than the cursor, so messages published while the client was
re-asking are not lost — they wait in the history for its next request (§2.2 "Maximal Latency").
A cursor older than the history is answered with a ``"gap"`` field naming the lost ids.

A client that hangs up while its request is held must not leave a waiter behind: the runner
starts aiohttp with ``handler_cancellation=True``, so the wait below is cancelled at once and
``finally`` gives the slot back.
"""

from __future__ import annotations

from aiohttp import web

from pushlab.servers.answers import PollAnswers
from pushlab.servers.common import parse_cursor, parse_float
from pushlab.servers.keys import CONFIG, FEED, METER
from pushlab.techniques import technique

TECHNIQUE = technique("longpoll")
PATH = TECHNIQUE.path
ANSWERS = web.AppKey("longpoll_answers", PollAnswers)


async def long_poll(request: web.Request) -> web.Response:
    config, feed, meter = request.app[CONFIG], request.app[FEED], request.app[METER]
    cursor = parse_cursor(request)
    # The hold travels as ``timeout`` on the wire (RFC 6202 §5.5's word), ``hold_s`` in code.
    hold_s = parse_float(request, "timeout", config.hold_s, 0.0, config.max_hold_s)
    meter.clients_connected += 1  # one held request
    try:
        await feed.wait_for_news(cursor, hold_s)
    finally:
        meter.clients_connected -= 1
    return request.app[ANSWERS].response(cursor, meter)  # one encoding for all woken together


def setup(app: web.Application) -> None:
    app[ANSWERS] = PollAnswers(app[FEED])
    app.router.add_get(PATH, long_poll)
