"""The classroom page's path control, server side: one technique of the demo through nginx.

A real deployment puts a reverse proxy, TLS and usually HTTP/2 between the server and the
browser. ``POST /api/proxy {"technique": "sse", "profile": "nginx-h2"}`` starts a real nginx
(``pushlab.proxy``, one of the profiles of ``pushlab.proxy_profiles``) in front of that
technique's public port — its network emulator, so the page's network controls still act
behind the proxy — and ``/api/config`` then sends the page to nginx's URL for that technique;
``"profile": "direct"`` stops it. ``GET /api/proxy`` says where each technique's path goes.

nginx listens on the demo's own address; ``nginx-h2``'s certificate is made at its start and
signed by nobody, so a browser must be told once to accept it (open the URL, then "proceed").
Bad input is a 400; a machine without nginx gets a 503 that says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from pushlab.proxy import NginxMissingError, RunningNginx, start_nginx
from pushlab.proxy_profiles import PROFILE_NAMES
from pushlab.servers.common import ClientError, json_error, read_json_object
from pushlab.servers.keys import CONFIG
from pushlab.servers.teacher import teacher_only
from pushlab.techniques import NAMES

DIRECT = "direct"
PROXIES = web.AppKey("demo_proxies", dict[str, RunningNginx])
UPSTREAMS = web.AppKey("demo_proxy_upstreams", dict[str, str])


def proxied_url(app: web.Application, technique: str, host_name: str) -> str | None:
    """Where the page should reach ``technique``: nginx's URL on the page's host name, or None
    when the technique is direct."""
    nginx = app[PROXIES].get(technique)
    return None if nginx is None else f"{nginx.profile.scheme}://{host_name}:{nginx.port}"


def snapshot(app: web.Application) -> dict[str, object]:
    proxies = app[PROXIES]
    return {
        "profiles": [DIRECT, *PROFILE_NAMES],
        "paths": {t: proxies[t].profile.name if t in proxies else DIRECT for t in NAMES},
    }


async def get_proxy(request: web.Request) -> web.Response:
    return web.json_response(snapshot(request.app))


async def post_proxy(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    technique, profile = data.get("technique"), data.get("profile")
    if technique not in NAMES:
        raise ClientError(f"technique must be one of {', '.join(NAMES)}, not {technique!r}")
    if profile not in (DIRECT, *PROFILE_NAMES):
        choices = ", ".join((DIRECT, *PROFILE_NAMES))
        raise ClientError(f"profile must be one of {choices}, not {profile!r}")
    app = request.app
    running = app[PROXIES].pop(technique, None)
    if running is not None:
        await asyncio.to_thread(running.stop)
    if profile != DIRECT:
        upstream = app[UPSTREAMS][technique]
        try:
            app[PROXIES][technique] = await asyncio.to_thread(
                start_nginx, profile, upstream, host=app[CONFIG].host
            )
        except NginxMissingError as error:
            return json_error(503, str(error))
    return web.json_response(snapshot(app))


async def stop_proxies(app: web.Application) -> AsyncIterator[None]:
    yield
    for nginx in app[PROXIES].values():
        await asyncio.to_thread(nginx.stop)
    app[PROXIES].clear()


def add_proxy_routes(app: web.Application, upstreams: dict[str, str]) -> None:
    """``upstreams``: where nginx reaches each technique (``host:port``, its emulator's)."""
    app[PROXIES] = {}
    app[UPSTREAMS] = upstreams
    app.router.add_get("/api/proxy", get_proxy)
    app.router.add_post("/api/proxy", teacher_only(post_proxy))
    app.cleanup_ctx.append(stop_proxies)
