"""Same-host pages only: the names a browser uses for this server, and CORS for the demo.

The classroom page (port 8000) talks to four technique servers on other ports: other origins,
as far as the browser is concerned. A technique server lets a page read its answers only when
the page was served from the same host name (any port); every other origin is refused. The
host name also goes into the page's Content-Security-Policy, so it is checked to be an IP
address or a DNS name first.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from urllib.parse import urlsplit

from aiohttp import web

from pushlab.servers.common import Handler, json_error
from pushlab.servers.keys import METER

PREFLIGHT_MAX_AGE_S = 600
DNS_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")

# --- Host names: the page tells each browser where the techniques are, as that browser sees it ---


def host_name(request: web.Request) -> str:
    """The Host header's name without the port ("192.168.1.5", "localhost", "::1").

    It goes into the page's Content-Security-Policy, so anything that is not an IP address
    or a DNS name (a malformed "[::1", "x; script-src *") becomes 127.0.0.1.
    """
    try:
        name = urlsplit(f"//{request.host}").hostname or ""
    except ValueError:  # a malformed Host such as "[::1"
        return "127.0.0.1"
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(name))
    return name if DNS_NAME.fullmatch(name) else "127.0.0.1"


def url_host(name: str) -> str:
    return f"[{name}]" if ":" in name else name


def is_same_host(origin: str, request: web.Request) -> bool:
    """True when the Origin names the host this request was sent to (any scheme, any port)."""
    try:
        return urlsplit(origin).hostname == host_name(request)
    except ValueError:
        return False


# --- CORS for the technique servers -------------------------------------------------------


@web.middleware
async def answer_preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer a CORS preflight (``POST /messages`` with a JSON body asks first)."""
    origin = request.headers.get("Origin")
    if (
        request.method == "OPTIONS"
        and origin
        and "Access-Control-Request-Method" in request.headers
    ):
        request.app[METER].other_requests += 1
        if not is_same_host(origin, request):
            return json_error(403, f"cross-origin requests from {origin} are not allowed")
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type, Last-Event-ID",
                "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
            },
        )
    return await handler(request)


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Let pages from the same host name read the answer and its Resource Timing sizes.

    Runs as ``on_response_prepare``, so it also reaches streamed answers (SSE) and the JSON
    errors the error middleware builds. The 101 of a WebSocket upgrade is left as it is: the
    browser does not use CORS there (the server checks Origin instead).
    """
    origin = request.headers.get("Origin")
    if origin is None or isinstance(response, web.WebSocketResponse):
        return
    if is_same_host(origin, request):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Timing-Allow-Origin"] = origin
    response.headers.add("Vary", "Origin")


def allow_same_host_pages(app: web.Application) -> None:
    """Add the demo's CORS handling to a technique application (before it is started)."""
    app.middlewares.insert(0, answer_preflight)
    app.on_response_prepare.append(add_cors_headers)
