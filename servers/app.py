"""Application factory: one aiohttp application per technique, on its own feed or a shared one."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator

from aiohttp import web
from pushlab.servers.common import (
    CONFIG,
    FEED,
    METER,
    PUBLISHER,
    TECHNIQUE_PATHS,
    add_common_routes,
    count_requests,
    errors_as_json,
)
from pushlab.servers.config import TECHNIQUES, ServerConfig
from pushlab.servers.feed import Feed
from pushlab.servers.metering import Meter
from pushlab.servers.publisher import Publisher

__all__ = ["CONFIG", "FEED", "METER", "PUBLISHER", "TECHNIQUES", "make_app"]


def make_app(
    technique: str,
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
    if technique not in TECHNIQUES:
        raise ValueError(f"unknown technique {technique!r}; choose one of {', '.join(TECHNIQUES)}")
    config = config or ServerConfig()
    feed = feed or Feed(config.history_size)
    owns_publisher = publisher is None
    publisher = publisher or Publisher(feed, config.publish_rate, config.arrivals)

    # Room for a text of max_text_bytes even if every character is JSON-escaped.
    app = web.Application(
        middlewares=[errors_as_json, count_requests],
        client_max_size=max(64 * 1024, config.max_text_bytes * 6 + 1024),
    )
    app[CONFIG] = config
    app[FEED] = feed
    app[METER] = Meter(technique)
    app[PUBLISHER] = publisher
    module = importlib.import_module(f"pushlab.servers.{technique}")
    app[TECHNIQUE_PATHS] = frozenset({module.PATH, "/messages"})
    add_common_routes(app)
    module.setup(app)

    async def close_feed(app: web.Application) -> None:
        feed.close()  # held long polls answer, push loops end

    app.on_shutdown.append(close_feed)
    if owns_publisher:

        async def run_publisher(app: web.Application) -> AsyncIterator[None]:
            publisher.start()
            yield
            await publisher.aclose()

        app.cleanup_ctx.append(run_publisher)
    return app
