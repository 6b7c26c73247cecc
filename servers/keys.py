"""The typed keys of every pushlab application's state (``web.AppKey``), in one place.

aiohttp checks a value's type against its key, and a reader finds here everything an
application carries: the shared parts (config, feed, meter, publisher), what the WebSocket
server remembers, and what the demo's page application knows of the technique servers.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

from aiohttp import web

from pushlab.servers.config import ServerConfig
from pushlab.servers.feed import Feed
from pushlab.servers.metering import Meter
from pushlab.servers.publisher import Publisher

CONFIG = web.AppKey("config", ServerConfig)
FEED = web.AppKey("feed", Feed)
METER = web.AppKey("meter", Meter)
PUBLISHER = web.AppKey("publisher", Publisher)
TECHNIQUE_PATHS = web.AppKey("technique_paths", frozenset)
"""The paths whose requests count as the technique's own (``/stats`` counts the others apart)."""

SOCKETS = web.AppKey("sockets", weakref.WeakSet)
"""The WebSocket server's open sockets, closed on shutdown."""

HANDSHAKES = web.AppKey("handshakes", OrderedDict)
"""Headers of recent WebSocket upgrades by ``client=`` value (the classroom page shows them)."""

TECHNIQUE_SERVERS = web.AppKey("technique_servers", dict)
"""The demo page's view of the four running technique servers, by technique name."""
