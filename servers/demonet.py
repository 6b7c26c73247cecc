"""The classroom page's network control: each technique of the demo behind its own emulator.

A browser's traffic to a technique goes page → emulator (the technique's public port) →
server, through :class:`pushlab.netem.NetworkEmulator`, so the page can give one technique (or
all four) a round-trip time, cut its connections, or restart its server, and the students see
long polling's extra transits and each technique's recovery on the screen.

Routes of the page application (JSON bodies; bad input is a 400 ``{"error": ...}``):

- ``GET /api/network``: every technique's RTT and the emulator's counters;
- ``POST /api/network {"technique": "websocket" | "all", "rtt_ms": 200}``: the delay applies to
  the next chunk of every connection, open ones included;
- ``POST /api/cut {"technique": ...}``: reset every connection through that emulator at once
  (RST, as when a phone changes networks);
- ``POST /api/restart {"technique": ...}``: cut, stop that technique's server application and
  start a new one on the same port. Restarts of one technique run one at a time: a restart
  asked for while one runs is 409 (``Retry-After``), not a second stop of the same server.

The emulators count their connections against the demo's ceiling (each costs three descriptors:
the emulator's two and the server's one; and one connection of its client address's share) and
answer 503 beyond it, as the servers do; they name each client to its server in a PROXY
protocol line.

What a restart here is, honestly: the demo's four applications share one feed that lives in
the demo process, and that process keeps running. So a restarted application serves the same
feed (the same ``feed_id``) and a client that resumes from its cursor loses nothing, as it would
with a feed kept outside the server (a broker). A real single server whose feed lives in its own
memory loses it on restart: the terminal clients and the bench's fault sweep show that case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from pushlab.netem import LinkSettings, NetworkEmulator
from pushlab.servers.common import ClientError, json_error, read_json_object
from pushlab.servers.connections import REFUSAL, ConnectionBudget
from pushlab.servers.expect import expect_within_limit
from pushlab.servers.runner import RunningServer
from pushlab.servers.teacher import teacher_only
from pushlab.techniques import NAMES

RTT_CHOICES_MS = (0, 50, 200, 500)
"""The delays the page offers (round-trip time, ms)."""

MAX_RTT_MS = 10_000
WILDCARD_HOSTS = ("0.0.0.0", "", "::")
INNER_HOST = "127.0.0.1"  # the technique servers listen here (servers.demo)
DESCRIPTORS_PER_CONNECTION = 3  # the emulator's two sockets and the technique server's one
RESTART_RETRY_AFTER_S = 1


class RestartRunningError(Exception):
    """A restart of this technique is already under way."""


Restarter = Callable[[str, int], Awaitable[RunningServer]]
"""Start technique ``name``'s application again on ``port`` (the demo knows how)."""


class DemoNetwork:
    """One emulator per technique, in front of the server the demo started for it."""

    def __init__(self, servers: dict[str, RunningServer], restarter: Restarter) -> None:
        self.servers = servers  # the demo's own dict: a restart replaces the entry in place
        self.restarter = restarter
        self.emulators: dict[str, NetworkEmulator] = {}
        self.restarts: dict[str, int] = dict.fromkeys(servers, 0)
        self.restarting: dict[str, asyncio.Lock] = {name: asyncio.Lock() for name in servers}

    async def start(
        self, host: str, ports: dict[str, int], budget: ConnectionBudget | None = None
    ) -> None:
        """Listen on each technique's public port; forward to its server on loopback."""
        for name, server in self.servers.items():
            emulator = NetworkEmulator(
                INNER_HOST,
                server.port,
                LinkSettings(),
                listen_host=host,
                listen_port=ports[name],
                budget=budget,
                refusal=REFUSAL,
                proxy_protocol=True,
                descriptors_per_connection=DESCRIPTORS_PER_CONNECTION,
            )
            self.emulators[name] = await emulator.start()

    async def stop(self) -> None:
        for emulator in self.emulators.values():
            await emulator.stop()

    def port(self, name: str) -> int:
        return self.emulators[name].port

    def set_rtt(self, names: list[str], rtt_ms: float) -> None:
        for name in names:
            self.emulators[name].settings.rtt_ms = rtt_ms

    def cut(self, names: list[str]) -> None:
        for name in names:
            self.emulators[name].drop()

    async def restart(self, names: list[str]) -> None:
        """Cut first (the clients see a break, as after a crash, not a polite close), then
        replace the application on the same port; :class:`RestartRunningError` if any of
        ``names`` is restarting already (nothing is done then)."""
        busy = [name for name in names if self.restarting[name].locked()]
        if busy:
            raise RestartRunningError(f"a restart of {', '.join(busy)} is under way")
        for name in names:
            async with self.restarting[name]:
                self.emulators[name].drop()
                old = self.servers[name]
                await old.stop()
                self.servers[name] = await self.restarter(name, old.port)
                self.restarts[name] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "rtt_choices_ms": list(RTT_CHOICES_MS),
            "techniques": {
                name: {
                    "rtt_ms": emulator.settings.rtt_ms,
                    "restarts": self.restarts[name],
                    "connections_open": emulator.counters.connections_open,
                    "connections_reset": emulator.counters.connections_reset,
                    "connections_refused": emulator.counters.connections_refused,
                }
                for name, emulator in self.emulators.items()
            },
        }


NETWORK = web.AppKey("demo_network", DemoNetwork)


def chosen(data: dict[str, Any]) -> list[str]:
    """``"technique"``: one name, or ``"all"``."""
    name = data.get("technique", "all")
    if name == "all":
        return list(NAMES)
    if name not in NAMES:
        raise ClientError(f"technique must be one of {', '.join(NAMES)} or 'all', not {name!r}")
    return [name]


async def network_request(request: web.Request) -> tuple[DemoNetwork, dict[str, Any], list[str]]:
    data = await read_json_object(request)
    return request.app[NETWORK], data, chosen(data)


async def get_network(request: web.Request) -> web.Response:
    return web.json_response(request.app[NETWORK].snapshot())


async def post_network(request: web.Request) -> web.Response:
    """Set the round-trip time of one technique's emulator, or of all four."""
    network, data, names = await network_request(request)
    rtt_ms = data.get("rtt_ms")
    if type(rtt_ms) not in (int, float) or not 0 <= rtt_ms <= MAX_RTT_MS:
        raise ClientError(f"rtt_ms must be a number from 0 to {MAX_RTT_MS}, not {rtt_ms!r}")
    network.set_rtt(names, float(rtt_ms))
    return web.json_response(network.snapshot())


async def post_cut(request: web.Request) -> web.Response:
    """Reset every connection of one technique (or all): the clients must reconnect."""
    network, _, names = await network_request(request)
    network.cut(names)
    return web.json_response(network.snapshot())


async def post_restart(request: web.Request) -> web.Response:
    """Restart one technique's server application (or all four) on the same port."""
    network, _, names = await network_request(request)
    try:
        await network.restart(names)
    except RestartRunningError as error:
        response = json_error(409, f"{error}: try again when it has finished")
        response.headers["Retry-After"] = str(RESTART_RETRY_AFTER_S)
        return response
    return web.json_response(network.snapshot())


def add_network_routes(app: web.Application, network: DemoNetwork) -> None:
    app[NETWORK] = network
    app.router.add_get("/api/network", get_network)
    # Beyond loopback these act for the whole class: they need the teacher key.
    for path, handler in (
        ("/api/network", post_network),
        ("/api/cut", post_cut),
        ("/api/restart", post_restart),
    ):
        app.router.add_post(path, teacher_only(handler), expect_handler=expect_within_limit)
