"""A teacher key for servers shared on a network.

On loopback only this machine's user can reach the server, so every control is open. Bound
beyond it (``--host 0.0.0.0`` in a classroom), every student could change the publish rate,
restart servers or cut connections for everyone. So a server that binds beyond loopback makes a
random key at start and prints it on the console, inside the URL the teacher opens
(``http://HOST:8000/?key=KEY``); the controls wrapped in :func:`teacher_only` then need it, in
an ``X-Pushlab-Key`` header. Reading and chatting stay open to everyone.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from pushlab.servers.config import ServerConfig
from pushlab.servers.keys import CONFIG

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

KEY_HEADER = "X-Pushlab-Key"
KEY_BYTES = 12
KEY_ENV = "PUSHLAB_TEACHER_KEY"
"""How a parent hands its key to its worker processes: the environment, which only the same
user can read (``/proc/PID/environ`` is 0400), not the command line, which every user can."""


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.x.y.z`` and ``::1``: addresses no other machine reaches."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def key_for(host: str) -> str | None:
    """A fresh key when ``host`` reaches beyond this machine, else None (no key needed)."""
    return None if is_loopback(host) else secrets.token_urlsafe(KEY_BYTES)


def teacher_only(handler: Handler) -> Handler:
    """Wrap a control's handler: 403 unless the request carries the server's key (if it has one)."""

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        expected = request.app[CONFIG].teacher_key
        given = request.headers.get(KEY_HEADER, "")
        if expected is not None and not hmac.compare_digest(given.encode(), expected.encode()):
            message = (
                "this control needs the teacher key: open the URL printed on the server's"
                f" console (the page sends the key in {KEY_HEADER})"
            )
            return web.json_response({"error": message}, status=403)
        return await handler(request)

    return checked


def teacher_fragment(config: ServerConfig) -> str:
    """``#key=KEY`` when controls need the key: a fragment never leaves the browser in a
    request line or a Referer, so the key is not logged or leaked to the page's links."""
    return "" if config.teacher_key is None else f"#key={config.teacher_key}"


def key_line(key: str) -> str:
    """How a server tells the teacher its key (once per command, whatever its processes)."""
    return f"teacher key (header {KEY_HEADER}): {key}\n"
