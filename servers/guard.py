"""Writes only from where they should come: the checks every request passes first.

Three rules, one middleware each, applied to every technique server and the demo's page:

- ``Host`` must name an address this server is bound to (or one of its names). A page on
  ``evil.example`` whose name is made to resolve to 127.0.0.1 (DNS rebinding) sends
  ``Host: evil.example``; it gets 421 Misdirected Request (RFC 9110 §15.5.20).
- A request line that claims a version other than HTTP/1.0 or 1.1 over HTTP/1 framing
  gets 505 (RFC 9110 §15.6.6), not an answer that repeats the claimed version.
- A state-changing request (POST, PUT, PATCH, DELETE) must carry
  ``Content-Type: application/json`` (else 415). A browser sends a cross-origin JSON body only
  after a CORS preflight, so this alone stops an HTML form or a "simple" ``fetch`` from another
  site. An ``Origin`` header, when present, must pass the rule the WebSocket upgrade uses
  (``websocket.origin_allowed``; RFC 6455 §10.2, RFC 6454 §7.3), else 403.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from aiohttp import web

from pushlab.servers.common import Handler, json_error
from pushlab.servers.connections import canned_answer
from pushlab.servers.keys import CONFIG
from pushlab.servers.teacher import is_loopback
from pushlab.servers.websocket import origin_allowed

HOST_NAMES = web.AppKey("host_names", frozenset)
"""The names a ``Host`` header may carry (see :func:`bound_names`)."""
HOST_VERDICTS = web.AppKey("host_verdicts", dict)
"""``Host`` header values already judged, and whether each names this server (see
:func:`check_host`)."""
HOST_VERDICTS_KEPT = 64
"""At most this many values are remembered; a value beyond them is judged every time."""

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "", "::")


def interface_addresses() -> Iterator[str]:
    """Every address of this machine's interfaces (IPv4 and IPv6, without a zone)."""
    import psutil

    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family in (socket.AF_INET, socket.AF_INET6):
                yield address.address.split("%")[0]


def bound_names(host: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The names a ``Host`` header may carry for a server bound to ``host``.

    Loopback always (a browser on this machine); for a wildcard bind every interface address
    and this machine's names; ``extra`` for names that only the operator knows (a proxy).
    """
    names = {*LOOPBACK_NAMES, host.strip("[]").lower(), *(e.lower() for e in extra)}
    if host in WILDCARD_HOSTS or not is_loopback(host):
        names.update(interface_addresses())
        hostname = socket.gethostname().lower()
        names.update({hostname, f"{hostname}.local", socket.getfqdn().lower()})  # .local: mDNS
    names.discard("")
    return frozenset(canonical(n) for n in names)


def canonical(name: str) -> str:
    """``::0001`` and ``::1`` are one address; a DNS name compares lower-case, without a dot."""
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(name))
    return name.lower().rstrip(".")


def host_header_name(raw: str | None) -> str | None:
    """The name in a ``Host`` header (no port), "" if malformed, None if there is none."""
    if raw is None:
        return None  # HTTP/1.0 may omit it; a browser never does
    try:
        return canonical(urlsplit(f"//{raw}").hostname or "")
    except ValueError:
        return ""


def host_allowed(raw: str | None, names: frozenset[str]) -> bool:
    """Does a ``Host`` header with this value name this server (or is there none)?"""
    name = host_header_name(raw)
    return name is None or name in names


@web.middleware
async def check_http_version(request: web.Request, handler: Handler) -> web.StreamResponse:
    """505 for ``HTTP/2.0`` (or 3.7) in an HTTP/1 request line.

    aiohttp writes every status line with the request's version, so the answer is written to
    the socket here, as HTTP/1.1, and the connection closed.
    """
    if request.version in ((1, 0), (1, 1)):
        return await handler(request)
    version = f"HTTP/{request.version.major}.{request.version.minor}"
    if request.transport is not None:
        request.transport.write(
            canned_answer(b"505 HTTP Version Not Supported", f"{version} is not spoken here")
        )
    request.protocol.force_close()
    return web.Response(status=505)


@web.middleware
async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
    """421 unless ``Host`` names this server.

    Judging a value means a URL split and an address parse, a fifth of what a whole empty
    poll answer costs; a client sends the same value with every request, so each value's
    verdict is remembered (up to ``HOST_VERDICTS_KEPT`` values, the same verdict as ever).
    """
    raw = request.headers.get("Host")
    verdicts = request.app[HOST_VERDICTS]
    allowed = verdicts.get(raw)
    if allowed is None:
        allowed = host_allowed(raw, request.app[HOST_NAMES])
        if len(verdicts) < HOST_VERDICTS_KEPT:
            verdicts[raw] = allowed
    if not allowed:
        return json_error(
            421,
            f"this server does not answer to Host {request.headers['Host']!r}"
            " (start it with --allow-host NAME to add a name)",
        )
    return await handler(request)


@web.middleware
async def check_writes(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in WRITE_METHODS or request.match_info.http_exception is not None:
        return await handler(request)  # not a write, or no such route: 404 / 405 as usual
    if request.content_type != "application/json":
        return json_error(
            415,
            f"{request.method} {request.path} takes a JSON body:"
            " send 'Content-Type: application/json'",
        )
    origin = request.headers.get("Origin")
    if not origin_allowed(origin, request.host, request.app[CONFIG].allowed_origins):
        return json_error(403, f"writes from Origin {origin} are not allowed")
    return await handler(request)


GUARDS = (check_http_version, check_host, check_writes)


def install_guards(app: web.Application) -> None:
    """Put the three checks right after ``errors_as_json`` (so their answers are JSON too)."""
    config = app[CONFIG]
    app[HOST_NAMES] = bound_names(config.host, config.allowed_hosts)
    app[HOST_VERDICTS] = {}
    for position, guard in enumerate(GUARDS, start=1):
        app.middlewares.insert(position, guard)
