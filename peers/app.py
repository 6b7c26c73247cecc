"""What every peer shares: a feed, a publisher, a meter and pushlab's common routes.

A peer is measured exactly like a pushlab server, so it gets the same plumbing: the feed and
the built-in publisher (``/publisher``), the metering layer (``/stats``, bytes counted at the
TCP level by ``pushlab.servers.runner.MeteredSite``) and the JSON errors. Only the route that
delivers messages is the peer's own: each peer module's ``setup(app, name)`` adds it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

from pushlab.servers.common import add_common_routes, count_requests, errors_as_json
from pushlab.servers.config import ServerConfig
from pushlab.servers.feed import Feed
from pushlab.servers.keys import CONFIG, FEED, METER, PUBLISHER, TECHNIQUE_PATHS
from pushlab.servers.metering import Meter
from pushlab.servers.publisher import Publisher
from pushlab.techniques import PEERS

Background = Callable[[web.Application], Coroutine[Any, Any, None]]
Handler = Callable[[web.Request], Coroutine[Any, Any, web.Response]]


def make_peer_app(name: str, config: ServerConfig, setup: Callable[..., None]) -> web.Application:
    """The application of peer ``name``: pushlab's control and metering around ``setup``'s
    route. Requests on the peer's own path (and ``POST /messages``) count as its requests."""
    peer = PEERS[name]
    feed = Feed(config.history_size)
    publisher = Publisher(feed, config.publish_rate, config.arrivals)
    app = web.Application(
        middlewares=[errors_as_json, count_requests], client_max_size=config.max_body_bytes
    )
    app[CONFIG], app[FEED], app[METER], app[PUBLISHER] = config, feed, Meter(name), publisher
    app[TECHNIQUE_PATHS] = frozenset({peer.path, "/messages"})
    add_common_routes(app)
    setup(app, name)

    async def run_publisher(app: web.Application) -> AsyncIterator[None]:
        publisher.start()
        yield
        await publisher.aclose()
        feed.close()

    app.cleanup_ctx.append(run_publisher)
    return app


def run_in_background(app: web.Application, work: Background) -> None:
    """Run ``work(app)`` while the application runs (a peer's broadcast loop); cancel it at
    cleanup."""

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(work(app))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(lifetime)


def redirect_to(port_of: Callable[[web.Application], int]) -> Handler:
    """``GET`` answered ``307`` with the WebSocket listener's address on this host: how a peer
    whose library speaks only WebSocket is found at pushlab's ``/ws`` (the client follows it
    once, when it connects, outside the measured window)."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"ws://{request.url.host}:{port_of(request.app)}/")

    return redirect
