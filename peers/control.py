"""pushlab's control routes for a peer that is not an aiohttp application.

The harness drives every server the same way: ``/healthz``, ``/stats``, ``GET``/``POST
/publisher`` and ``POST /messages``. An aiohttp peer gets them from ``make_peer_app``; a peer on
another framework (Starlette on uvicorn, Tornado) keeps the same feed, publisher and meter in a
:class:`Control` and answers those routes with :meth:`Control.answer`, which runs the aiohttp
servers' own checks (``servers/common.py``). Only the route that delivers messages is the
framework's: so the rows differ by that route, not by how the bench talks to the server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pushlab.servers.common import (
    ClientError,
    configure_publisher,
    parse_json_object,
    publisher_state,
    stats_snapshot,
    validate_text,
)
from pushlab.servers.config import ServerConfig
from pushlab.servers.feed import Feed
from pushlab.servers.keys import CONFIG, FEED, METER, PUBLISHER
from pushlab.servers.metering import Meter
from pushlab.servers.publisher import Publisher

CONTROL_PATHS = ("/healthz", "/stats", "/publisher", "/messages")


@dataclass
class Control:
    """One peer's feed, built-in publisher and meter, and the answers of the control routes."""

    name: str
    config: ServerConfig
    feed: Feed = field(init=False)
    meter: Meter = field(init=False)
    publisher: Publisher = field(init=False)
    stack: dict[str, str] = field(default_factory=dict)
    """What the peer runs on (server, loop, parser, versions): in ``/stats`` as ``stack``."""

    def __post_init__(self) -> None:
        self.feed = Feed(self.config.history_size)
        self.meter = Meter(self.name)
        self.publisher = Publisher(self.feed, self.config.publish_rate, self.config.arrivals)

    def start(self) -> None:
        """Start the built-in publisher (in the running event loop)."""
        self.publisher.start()

    async def aclose(self) -> None:
        await self.publisher.aclose()
        self.feed.close()

    async def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """The status and JSON body of a control request; ``POST /messages`` counts as one of
        the peer's own requests, the rest as other requests, as ``count_requests`` counts."""
        if path == "/messages":
            self.meter.requests += 1
        else:
            self.meter.other_requests += 1
        try:
            return await self._answer(method, path, body)
        except ClientError as error:
            return error.status, {"error": str(error)}

    async def _answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        state = {CONFIG: self.config, FEED: self.feed, METER: self.meter, PUBLISHER: self.publisher}
        if (method, path) == ("GET", "/healthz"):
            return 200, {"status": "ok", "technique": self.name}
        if (method, path) == ("GET", "/stats"):
            return 200, {**stats_snapshot(state), "stack": self.stack}
        if (method, path) == ("GET", "/publisher"):
            return 200, publisher_state(self.publisher)
        if (method, path) == ("POST", "/publisher"):
            configure_publisher(parse_json_object(body), self.config, self.publisher)
            return 200, publisher_state(self.publisher)
        if (method, path) == ("POST", "/messages"):
            text = validate_text(parse_json_object(body), self.config)
            return 201, json.loads((await self.feed.publish(text)).json)
        if path in CONTROL_PATHS:
            raise ClientError(f"{method} is not allowed on {path}", status=405)
        raise ClientError(f"no such path: {path}", status=404)
