"""Which server a client talks to, and whether it is the right one.

Every client turns "the URL the user typed" into a checked base URL first and asks
``GET /healthz`` which technique answers there, so a wrong port fails in one clear line
instead of a confusing conversation.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import SplitResult, urlsplit

import aiohttp

from pushlab.techniques import technique

HTTP_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


class ClientFailure(Exception):
    """A problem the user can act on; the CLI prints it as one line and exits non-zero."""


def default_url(name: str) -> str:
    """Where ``python -m pushlab.servers NAME`` listens when given no ``--port``."""
    return f"http://127.0.0.1:{technique(name).port}"


def split_url(url: str, schemes: dict[str, str] = HTTP_SCHEMES) -> SplitResult:
    """``urlsplit`` that rejects what cannot be a server address (no traceback later)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as error:  # "http://[::1": an unclosed IPv6 bracket
        raise ClientFailure(f"bad URL {url!r}: {error}") from None
    if parts.scheme not in schemes:
        raise ClientFailure(
            f"bad URL {url!r}: it must start with {' or '.join(s + '://' for s in schemes)}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ClientFailure(f"bad URL {url!r}: the port must be a number 0–65535") from None
    if not parts.hostname:
        raise ClientFailure(f"bad URL {url!r}: no host name")
    if port == 0:
        raise ClientFailure(f"bad URL {url!r}: port 0 is not a server's port")
    return parts


def base_url(url: str) -> str:
    """``http://host:port`` of ``url``; a ws:// URL maps to http:// (the upgrade is HTTP)."""
    parts = split_url(url)
    return f"{HTTP_SCHEMES[parts.scheme]}://{parts.netloc}"


def connection_failure(url: str, error: BaseException) -> ClientFailure:
    """One line for a failed connection: refused, unknown host, reset or timed out."""
    if isinstance(error, aiohttp.ClientConnectorError):
        os_error = error.os_error
        reason = os.strerror(os_error.errno) if os_error.errno else str(os_error)
        if isinstance(os_error, socket.gaierror):
            reason = os_error.strerror or reason
        return ClientFailure(f"cannot connect to {url}: {reason}")
    if isinstance(error, TimeoutError):
        return ClientFailure(f"no answer from {url} (timed out)")
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return ClientFailure(f"{url} closed the connection")
    return ClientFailure(
        f"talking to {url} failed: {error.__class__.__name__}: {error}".rstrip(": ")
    )


async def check_technique(session: aiohttp.ClientSession, base: str, technique: str) -> dict:
    """``GET /healthz`` → the server's technique; a different one (or none) is a ClientFailure."""
    try:
        async with session.get(
            f"{base}/healthz", timeout=aiohttp.ClientTimeout(total=10)
        ) as answer:
            status = answer.status
            try:
                health = await answer.json(content_type=None)
            except ValueError:
                health = None
    except (aiohttp.ClientError, TimeoutError) as error:
        raise connection_failure(base, error) from None
    if status != 200 or not isinstance(health, dict) or "technique" not in health:
        raise ClientFailure(f"{base} is not a pushlab server (GET /healthz answered {status})")
    if health["technique"] != technique:
        raise ClientFailure(
            f"{base} serves {health['technique']}, not {technique}"
            f" (try --url {default_url(technique)})"
        )
    return health


async def server_stats(session: aiohttp.ClientSession, base: str) -> dict:
    """The server's ``GET /stats`` counters."""
    try:
        async with session.get(f"{base}/stats", timeout=aiohttp.ClientTimeout(total=10)) as answer:
            answer.raise_for_status()
            return await answer.json()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise connection_failure(base, error) from None
