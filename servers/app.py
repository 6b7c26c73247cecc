"""Application factory: one aiohttp application per technique, on its own feed or a shared one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import ModuleType

from aiohttp import web

from pushlab.servers import longpoll, polling, sse, websocket
from pushlab.servers.common import add_common_routes, count_requests, errors_as_json
from pushlab.servers.config import ServerConfig
from pushlab.servers.feed import Feed
from pushlab.servers.feeds import feed_running, make_feed
from pushlab.servers.guard import install_guards
from pushlab.servers.keys import CONFIG, FEED, METER, PUBLISHER, TECHNIQUE_PATHS
from pushlab.servers.metering import Meter
from pushlab.servers.publisher import Publisher
from pushlab.servers.ratelimit import LIMITER, PublishLimiter
from pushlab.techniques import NAMES, technique

__all__ = ["CONFIG", "FEED", "METER", "PUBLISHER", "SERVERS", "make_app"]

SERVERS: dict[str, ModuleType] = {
    server.TECHNIQUE.name: server for server in (polling, longpoll, websocket, sse)
}
"""Each technique's server module: its ``TECHNIQUE`` entry, and ``setup(app)``, which adds its
route at its path."""

assert tuple(SERVERS) == NAMES, "every technique in pushlab.techniques needs its server here"


def make_app(
    technique_name: str,
    config: ServerConfig | None = None,
    *,
    feed: Feed | None = None,
    publisher: Publisher | None = None,
) -> web.Application:
    """Build the server of one technique.

    Given no publisher, the application makes its own from ``config`` and runs it while it
    runs. Given one (the demo shares one feed and one publisher among four applications),
    the caller starts and stops it.
    """
    entry = technique(technique_name)  # a ValueError naming the known techniques
    config = config or ServerConfig()
    owns_feed = feed is None  # a shared feed (the demo's) is closed by its owner, not by one app
    feed = feed or make_feed(config.feed, config.history_size)
    owns_publisher = publisher is None
    publisher = publisher or Publisher(feed, config.publish_rate, config.arrivals)

    app = web.Application(
        middlewares=[errors_as_json, count_requests], client_max_size=config.max_body_bytes
    )
    app[CONFIG] = config
    app[FEED] = feed
    app[METER] = Meter(entry.name)
    app[PUBLISHER] = publisher
    app[TECHNIQUE_PATHS] = frozenset({entry.path, "/messages"})
    app[LIMITER] = PublishLimiter(config.publish_limit_per_s, config.publish_burst)
    install_guards(app)
    add_common_routes(app)
    SERVERS[entry.name].setup(app)

    async def close_feed(app: web.Application) -> None:
        feed.close()  # held long polls answer, push loops end

    if owns_feed:
        app.on_shutdown.append(close_feed)
        # connected before the publisher starts, disconnected after it stops
        app.cleanup_ctx.append(lambda app: feed_running(feed))
    if owns_publisher:

        async def run_publisher(app: web.Application) -> AsyncIterator[None]:
            publisher.start()
            yield
            await publisher.aclose()

        app.cleanup_ctx.append(run_publisher)
    return app
