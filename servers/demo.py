"""The classroom demo: one page and the four techniques, in one process, on one shared feed.

``python -m pushlab.servers demo`` (``pushlab demo``) starts five servers:

- the page, on 8000: ``/`` and ``/static/*`` (plain HTML, CSS and JavaScript from
  ``servers/static``), ``/api/config`` (where the four techniques live, and the table of
  ``pushlab.techniques``: labels, colours, flags, defaults, and the reconnect policy),
  ``/api/stats`` (every technique's ``/stats``), ``/api/handshake`` (the headers of the page's
  own WebSocket upgrade) and ``/api/publisher`` (the one shared publisher's rate). The page
  app reads the technique applications in-process, so watching adds nothing to what is watched;
- polling on 8001, long polling on 8002, WebSocket on 8003 and SSE on 8004, each the ordinary
  technique application on a metered socket, all sharing one ``Feed`` and one ``Publisher``.
  Each public port is a network emulator in front of its technique's server (on a free port of
  loopback, whatever ``--host`` says), so the page can add delay, cut connections or restart a
  server (``servers.demonet``).

Why a port per technique: each server meters its own sockets, so the page shows each
technique's true bytes; and a browser's HTTP/1.1 limit of 6 connections is per scheme + host +
port, so a held long poll or an open SSE stream of one technique never queues another's.

The page runs on another port than the techniques, so its requests are cross-origin: the
technique applications get CORS headers for pages on the same host name (any port), and the
WebSocket server accepts upgrades from the same host name.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import mimetypes
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from pushlab.radio_profiles import PROFILES as RADIO_PROFILES
from pushlab.reconnect_policy import RECONNECT_POLICY
from pushlab.servers.app import make_app
from pushlab.servers.common import (
    errors_as_json,
    get_publisher,
    json_error,
    post_publisher,
    stats_snapshot,
)
from pushlab.servers.config import ServerConfig
from pushlab.servers.connections import (
    ConnectionBudget,
    address_share,
    default_max_connections,
)
from pushlab.servers.cors import allow_same_host_pages, host_name, url_host
from pushlab.servers.demonet import (
    INNER_HOST,
    NETWORK,
    WILDCARD_HOSTS,
    DemoNetwork,
    add_network_routes,
)
from pushlab.servers.demoproxy import add_proxy_routes, proxied_url
from pushlab.servers.expect import expect_within_limit
from pushlab.servers.feed import Feed
from pushlab.servers.guard import install_guards
from pushlab.servers.keys import CONFIG, HANDSHAKES, METER, PUBLISHER, TECHNIQUE_SERVERS
from pushlab.servers.metering import Meter
from pushlab.servers.publisher import Publisher
from pushlab.servers.runner import RunningServer, start, wait_for_stop_signal
from pushlab.servers.teacher import teacher_fragment, teacher_only
from pushlab.techniques import DEMO_PORT, NAMES, POLL_INTERVAL_S, TECHNIQUES, WEBSOCKET

STATIC_DIR = Path(__file__).parent / "static"
STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*\.(html|js|css|svg|png|ico)$")
CONTENT_TYPES = {".js": "text/javascript", ".html": "text/html", ".css": "text/css"}
MAX_STATIC_NAME = 255  # NAME_MAX of the usual Linux file systems


# --- The handshake of the page's own WebSocket ----------------------------------------------


async def page_handshake(request: web.Request) -> web.Response:
    """``GET /api/handshake?client=ID``: the upgrade the WebSocket server recorded for ID.

    Read in-process from the WebSocket application, so that showing the handshake adds
    nothing to the WebSocket server's byte count.
    """
    client = request.query.get("client", "")
    servers: dict[str, RunningServer] = request.app[TECHNIQUE_SERVERS]
    handshake = servers[WEBSOCKET.name].app[HANDSHAKES].get(client)
    if handshake is None:
        return json_error(404, f"no WebSocket upgrade recorded for client {client!r}")
    return web.json_response(redacted(handshake))


REDACTED_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})


def redacted(handshake: dict[str, object]) -> dict[str, object]:
    """The handshake without credentials: anyone who knows a client id may ask for it."""
    headers = handshake["request_headers"]
    assert isinstance(headers, list)
    return {
        **handshake,
        "request_headers": [
            [name, "(redacted)" if name.lower() in REDACTED_HEADERS else value]
            for name, value in headers
        ],
    }


# --- The page -------------------------------------------------------------------------------


def content_security_policy(request: web.Request) -> str:
    """Only this package's own files run; connections go to this host's ports only (``https``
    and ``wss`` too: a technique the page reaches through nginx-h2, ``servers.demoproxy``)."""
    name = url_host(host_name(request))  # an IPv6 address in brackets, as in a URL
    connect = f"'self' http://{name}:* ws://{name}:* https://{name}:* wss://{name}:*"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


def static_response(request: web.Request, name: str) -> web.Response:
    """A file of ``servers/static`` as one ordinary response (no sendfile: the meter sees it)."""
    path = STATIC_DIR / name
    try:
        found = len(name) <= MAX_STATIC_NAME and bool(STATIC_NAME.match(name)) and path.is_file()
    except OSError:  # a name the file system refuses (too long, say) names no file of ours
        found = False
    if not found:
        return json_error(404, f"no such file: /static/{name[:MAX_STATIC_NAME]}")
    suffix = path.suffix
    content_type = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "text/plain"
    response = web.Response(body=path.read_bytes(), content_type=content_type)
    if content_type.startswith("text/"):
        response.charset = "utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = content_security_policy(request)
    return response


async def index(request: web.Request) -> web.Response:
    return static_response(request, "index.html")


async def static_file(request: web.Request) -> web.Response:
    return static_response(request, request.match_info["name"])


async def page_config(request: web.Request) -> web.Response:
    """Where this browser finds the four techniques, what they are, and where the feed stands.

    ``table`` is ``pushlab.techniques`` as JSON (labels, colours, paths, flags), so the page
    paints and branches exactly as the plots and the terminal clients do; ``reconnect`` is
    ``pushlab.reconnect_policy``, so the page waits after a break as every other client does.
    """
    name = url_host(host_name(request))
    servers: dict[str, RunningServer] = request.app[TECHNIQUE_SERVERS]
    config, publisher = request.app[CONFIG], request.app[PUBLISHER]
    network = request.app.get(NETWORK)  # the page talks to the emulators, when there are any
    ports = {t: network.port(t) if network else s.port for t, s in servers.items()}
    return web.json_response(
        {
            "techniques": {
                t: proxied_url(request.app, t, name) or f"http://{name}:{port}"
                for t, port in ports.items()
            },
            "table": {t: TECHNIQUES[t].as_json() for t in servers},
            "last_id": publisher.feed.last_id,
            "server_time": time.time(),
            "publish_rate": publisher.publish_rate,
            "hold_s": config.hold_s,
            "poll_interval_s": POLL_INTERVAL_S,
            "max_text_bytes": config.max_text_bytes,
            "teacher_key_required": config.teacher_key is not None,
            "reconnect": RECONNECT_POLICY.as_json(),
            # The radio gauge's numbers (``static/radio.js``): ARO's LTE and 3G defaults.
            "radio_profiles": {name: p.as_json() for name, p in RADIO_PROFILES.items()},
        }
    )


async def page_stats(request: web.Request) -> web.Response:
    """Every technique's ``/stats``, read in-process (the page's watching costs them nothing)."""
    servers: dict[str, RunningServer] = request.app[TECHNIQUE_SERVERS]
    return web.json_response(
        {
            "server_time": time.time(),
            "techniques": {t: stats_snapshot(server.app) for t, server in servers.items()},
        }
    )


def make_page_app(
    config: ServerConfig, publisher: Publisher, technique_servers: dict[str, RunningServer]
) -> web.Application:
    app = web.Application(middlewares=[errors_as_json])
    app[CONFIG] = config
    install_guards(app)
    app[METER] = Meter("demo")
    app[PUBLISHER] = publisher
    app[TECHNIQUE_SERVERS] = technique_servers
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static_file)
    app.router.add_get("/api/config", page_config)
    app.router.add_get("/api/stats", page_stats)
    app.router.add_get("/api/handshake", page_handshake)
    app.router.add_get("/api/publisher", get_publisher)
    app.router.add_post(
        "/api/publisher", teacher_only(post_publisher), expect_handler=expect_within_limit
    )
    return app


# --- Starting and stopping the five servers ---------------------------------------------------


@dataclass
class Demo:
    page: RunningServer
    techniques: dict[str, RunningServer]
    feed: Feed
    publisher: Publisher
    network: DemoNetwork | None = None  # the emulators the page's traffic goes through

    @property
    def url(self) -> str:
        return self.page.url + "/"

    async def stop(self) -> None:
        self.feed.close()  # held long polls answer, push loops end (the apps leave it open)
        if self.network is not None:
            await self.network.stop()
        await asyncio.gather(self.page.stop(), *(s.stop() for s in self.techniques.values()))
        await self.publisher.aclose()


def demo_ports(config: ServerConfig) -> dict[str, int]:
    """8000–8004 by default; ``--port P`` moves the page; ``--port 0`` picks free ports for all."""
    if config.port == 0:
        return dict.fromkeys(("demo", *NAMES), 0)
    page_port = DEMO_PORT if config.port is None else config.port
    return {"demo": page_port, **{name: TECHNIQUES[name].port for name in NAMES}}


async def start_techniques(
    config: ServerConfig,
    ports: dict[str, int],
    feed: Feed,
    publisher: Publisher,
    budget: ConnectionBudget | None = None,
) -> dict[str, RunningServer]:
    """The four technique servers on one feed (see ``start_technique``)."""
    started: dict[str, RunningServer] = {}
    try:
        for technique in NAMES:
            started[technique] = await start_technique(
                technique, config, ports[technique], feed, publisher, budget
            )
    except BaseException:
        for server in started.values():
            await server.stop()
        raise
    return started


async def start_technique(
    technique: str,
    config: ServerConfig,
    port: int,
    feed: Feed,
    publisher: Publisher,
    budget: ConnectionBudget | None = None,
) -> RunningServer:
    """One technique server of the demo, open to pages from the same host (the CORS headers
    for HTTP; ``allowed_origins`` for the WebSocket upgrade, the one request that the browser
    sends without CORS).

    It listens on loopback whatever ``--host`` says: the class reaches it only through its
    emulator (its RTT, its cuts, its ceiling), which names each client in a PROXY protocol line
    that the server trusts from loopback alone. It still answers to the names of ``--host``
    (the ``Host`` header a student's browser sends names the public address).
    """
    demo_config = dataclasses.replace(
        config,
        allowed_origins=(*config.allowed_origins, "same-host"),
        trusted_proxies=(*config.trusted_proxies, INNER_HOST),
    )
    app = make_app(technique, demo_config, feed=feed, publisher=publisher)
    allow_same_host_pages(app)
    return await start(app, INNER_HOST, port, budget=budget)


async def start_demo(config: ServerConfig | None = None) -> Demo:
    """Start the page and the four techniques on one feed and one publisher, each technique
    behind its network emulator on the technique's public port (``servers.demonet``)."""
    config = config or ServerConfig()
    ports = demo_ports(config)
    feed = Feed(config.history_size)
    publisher = Publisher(feed, config.publish_rate, config.arrivals)
    # The page and the four emulators share one process, so one ceiling under its file-
    # descriptor limit, and one share of it per client address. An emulator counts its
    # connection's three descriptors (its two, and the technique server's one) when it accepts
    # it, so the technique servers behind it have a ceiling of their own (loopback only).
    ceiling = config.max_connections or default_max_connections()
    share = address_share(config.host, ceiling, config.max_connections_per_address)
    budget, inner_budget = ConnectionBudget(ceiling, share), ConnectionBudget(ceiling)
    started = await start_techniques(config, dict.fromkeys(NAMES, 0), feed, publisher, inner_budget)

    async def restarter(technique: str, port: int) -> RunningServer:
        return await start_technique(technique, config, port, feed, publisher, inner_budget)

    network = DemoNetwork(started, restarter)
    try:
        await network.start(config.host, ports, budget)
        page_app = make_page_app(config, publisher, started)
        add_network_routes(page_app, network)
        loopback = "127.0.0.1" if config.host in WILDCARD_HOSTS else config.host
        add_proxy_routes(page_app, {t: f"{loopback}:{network.port(t)}" for t in NAMES})
        page = await start(page_app, config.host, ports["demo"], budget=budget)
    except BaseException:
        await network.stop()
        for server in started.values():
            await server.stop()
        raise
    publisher.start()
    return Demo(page, started, feed, publisher, network)


def lan_addresses() -> Iterator[str]:
    """This machine's IPv4 addresses that other machines may reach (for ``--host 0.0.0.0``)."""
    import psutil

    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if (
                address.family == socket.AF_INET
                and not ipaddress.ip_address(address.address).is_loopback
            ):
                yield address.address


def share_urls(host: str, port: int) -> list[str]:
    if host in WILDCARD_HOSTS:
        return [f"http://{address}:{port}/" for address in lan_addresses()]
    return []


def announce(demo: Demo, config: ServerConfig) -> None:
    print(f"pushlab demo listening on {demo.page.url}", flush=True)
    for technique, server in demo.techniques.items():
        public = demo.network.port(technique) if demo.network else server.port
        print(f"  {technique:<9} http://{url_host(config.host)}:{public}", flush=True)
    local = "127.0.0.1" if config.host in WILDCARD_HOSTS else url_host(config.host)
    print(
        f"Open http://{local}:{demo.page.port}/{teacher_fragment(config)} in a browser.", flush=True
    )
    if config.teacher_key is not None:
        print("  (it carries the teacher key: students' pages read and chat)", flush=True)
    shared = share_urls(config.host, demo.page.port)
    if shared:
        print("Students on the same network can open:", flush=True)
        for url in shared:
            print(f"  {url}", flush=True)


async def serve_demo(config: ServerConfig) -> None:
    """``pushlab demo``: run until Ctrl-C or SIGTERM."""
    demo = await start_demo(config)
    announce(demo, config)
    try:
        await wait_for_stop_signal()
    finally:
        await demo.stop()


def main(config: ServerConfig) -> None:
    asyncio.run(serve_demo(config))


__all__ = ["Demo", "main", "serve_demo", "start_demo"]
