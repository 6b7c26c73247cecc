"""What every technique's server shares: JSON errors, input parsing, and the common routes
(``/healthz``, ``POST /messages``, ``/stats``, ``/publisher``)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import resource
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from pushlab.servers.config import ARRIVALS, ServerConfig
from pushlab.servers.connections import BUDGET
from pushlab.servers.expect import expect_within_limit
from pushlab.servers.feed import CursorAheadError
from pushlab.servers.feeds import FeedUnavailableError
from pushlab.servers.keys import CONFIG, FEED, METER, PUBLISHER, TECHNIQUE_PATHS
from pushlab.servers.publisher import Publisher
from pushlab.servers.ratelimit import LIMITER, too_many
from pushlab.servers.teacher import teacher_only

log = logging.getLogger("pushlab")

PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FEED_RETRY_AFTER_S = 1  # a write refused because the shared feed does not answer


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


class ClientError(Exception):
    """Raised by parsers; the error middleware turns it into a 4xx JSON answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON naming the problem; nothing leaves as a traceback."""
    try:
        return await handler(request)
    except ClientError as error:
        response = json_error(error.status, str(error))
        if error.status == 408:
            response.force_close()  # the rest of that body must not be read as a request
        return response
    except web.HTTPNotFound:
        paths = sorted({r.resource.canonical for r in request.app.router.routes() if r.resource})
        return json_error(404, f"no such path: {request.path}", paths=paths)
    except web.HTTPMethodNotAllowed as error:
        return json_error(
            405,
            f"{request.method} is not allowed on {request.path}",
            allowed=sorted(error.allowed_methods),
        )
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "request body too large")
    except FeedUnavailableError as error:  # the feed logs the outage once; no traceback here
        response = json_error(503, f"the message was not stored: {error}")
        response.headers["Retry-After"] = str(FEED_RETRY_AFTER_S)
        return response
    except web.HTTPException as error:
        if error.content_type == "application/json" or error.status < 400:
            raise
        return json_error(error.status, error.reason)
    except Exception:
        log.exception("unexpected error while serving %s %s", request.method, request.path)
        return json_error(500, "internal server error (logged on the server)")


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    meter = request.app[METER]
    if request.path in request.app[TECHNIQUE_PATHS]:
        meter.requests += 1
    else:
        meter.other_requests += 1
    return await handler(request)


def parse_int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    value = decimal_digits(raw)
    if value is None:
        raise ClientError(f"{name} must be a non-negative integer, got {raw!r}")
    return value


def decimal_digits(raw: str) -> int | None:
    """``raw`` as an int if it is plain ASCII digits, else None.

    ``int()`` alone is too lenient for a wire format: it takes ``1_0``, ``+5``, `` 7 ``
    and non-ASCII digits such as ``٣``, none of which a client should be sending.
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    return int(raw)


def parse_cursor(request: web.Request, raw: str | None = None) -> int:
    """``since=N``: the client has seen everything up to id N (0 = from the oldest held)."""
    if raw is not None:
        header_cursor = decimal_digits(raw)
        if header_cursor is None:
            raise ClientError(f"Last-Event-ID must be a non-negative integer, got {raw!r}")
        cursor = header_cursor
    else:
        cursor = parse_int(request, "since", 0)
    try:
        request.app[FEED].check_cursor(cursor)
    except CursorAheadError as error:
        raise ClientError(str(error)) from None
    return cursor


def parse_float(request: web.Request, name: str, default: float, low: float, high: float) -> float:
    """A plain decimal such as ``25`` or ``0.5``; ``float()`` alone would also take ``1_0``,
    ``1e1``, ``nan`` and non-ASCII digits."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not PLAIN_DECIMAL.fullmatch(raw):
        raise ClientError(f"{name} must be a number of seconds such as 25 or 0.5, got {raw!r}")
    value = float(raw)
    if not low <= value <= high:
        raise ClientError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def parse_json_object(raw: str | bytes, what: str = "body") -> dict[str, Any]:
    """``raw`` as a JSON object, or a ClientError saying what is wrong with it.

    ``ValueError`` covers malformed JSON, bytes that are not UTF-8 and integers longer than
    Python's 4,300-digit limit; ``RecursionError`` covers ``[[[[...]]]]`` nested thousands deep.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        raise ClientError(f'{what} must be JSON, e.g. {{"text": "hello"}}') from None
    except RecursionError:
        raise ClientError(f"{what} is JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise ClientError(f'{what} must be a JSON object, e.g. {{"text": "hello"}}')
    return data


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; a body still incomplete ``body_timeout_s`` after its headers
    (a Content-Length larger than what comes, a chunked body without its last chunk) is 408."""
    timeout_s = request.app[CONFIG].body_timeout_s
    try:
        async with asyncio.timeout(timeout_s):
            body = await request.read()
    except TimeoutError:
        raise ClientError(f"the body did not arrive within {timeout_s:g} s", status=408) from None
    return parse_json_object(body)


def validate_text(data: dict[str, Any], config: ServerConfig) -> str:
    """The chat path's rules, shared by ``POST /messages`` and WebSocket text frames."""
    text = data.get("text")
    if not isinstance(text, str):
        raise ClientError('"text" is required and must be a string')
    if not text.strip():
        raise ClientError('"text" must not be empty')
    try:
        encoded = text.encode()
    except UnicodeEncodeError:
        # JSON's \ud800 escape decodes to a lone surrogate, which no UTF-8 stream can carry.
        raise ClientError('"text" must be valid Unicode (no lone surrogates)') from None
    if len(encoded) > config.max_text_bytes:
        raise ClientError(f'"text" is longer than {config.max_text_bytes} bytes', status=413)
    return text


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "technique": request.app[METER].technique})


async def post_message(request: web.Request) -> web.Response:
    refused = too_many(request)
    if refused is not None:
        return refused
    text = validate_text(await read_json_object(request), request.app[CONFIG])
    message = await request.app[FEED].publish(text)
    return web.Response(text=message.json, status=201, content_type="application/json")


def stats_snapshot(app: Mapping[Any, Any]) -> dict[str, Any]:
    """``/stats``: from an application's state, or any mapping with the same keys (the peers
    on other frameworks keep theirs in a plain dict)."""
    meter, feed, publisher = app[METER], app[FEED], app[PUBLISHER]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "technique": meter.technique,
        "pid": os.getpid(),
        "uptime_s": round(meter.uptime_s, 3),
        "clients_connected": meter.clients_connected,
        "requests": meter.requests,
        "other_requests": meter.other_requests,
        "empty_responses": meter.empty_responses,
        "messages_published": feed.last_id,
        "messages_delivered": meter.messages_delivered,
        "bytes_in": meter.bytes_in,
        "bytes_out": meter.bytes_out,
        "tcp_connections_opened": meter.tcp_connections_opened,
        "tcp_connections_open": meter.tcp_connections_open,
        "fanout_s": round(meter.fanout_s, 6),
        "fanouts": meter.fanouts,
        "feed_id": feed.feed_id,
        "last_id": feed.last_id,
        "publish_rate": publisher.publish_rate,
        "publisher_state": publisher.state,
        "publisher_errors": publisher.errors,
        "arrivals": publisher.arrivals,
        "process_cpu_s": round(usage.ru_utime + usage.ru_stime, 6),
        "process_max_rss_kb": usage.ru_maxrss,
        "server_time": time.time(),  # issue 13: remote load generators measure their offset
        "limits": limits_snapshot(app),
    }


def limits_snapshot(app: Mapping[Any, Any]) -> dict[str, Any]:
    """The hardening options in force (issue 16) and how often each one refused something."""
    config = app[CONFIG]
    budget, limiter = app.get(BUDGET), app.get(LIMITER)
    return {
        "header_timeout_s": config.header_timeout_s,
        "body_timeout_s": config.body_timeout_s,
        "keepalive_timeout_s": config.keepalive_timeout_s,
        "max_connections": budget.max_connections if budget else config.max_connections,
        "connections_refused": budget.refused if budget else 0,
        "max_connections_per_address": budget.max_per_address if budget else None,
        "connections_refused_per_address": budget.refused_per_address if budget else 0,
        "header_timeouts": budget.header_timeouts if budget else 0,
        "publish_limit_per_s": config.publish_limit_per_s,
        "publish_burst": config.publish_burst,
        "publishes_refused": limiter.refused if limiter else 0,
        "teacher_key_required": config.teacher_key is not None,
    }


async def stats(request: web.Request) -> web.Response:
    return web.json_response(stats_snapshot(request.app))


def publisher_state(publisher: Publisher) -> dict[str, Any]:
    """What ``GET /publisher`` answers (and ``POST /publisher`` after a change)."""
    return {
        "publish_rate": publisher.publish_rate,
        "arrivals": publisher.arrivals,
        "seed": publisher.seed,
        "text_bytes": publisher.text_bytes,
    }


def configure_publisher(data: dict[str, Any], config: ServerConfig, publisher: Publisher) -> None:
    """Apply a ``POST /publisher`` body, or raise a ClientError naming what is wrong with it
    (shared by every server, the peers on other frameworks included)."""
    rate = data.get("publish_rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise ClientError('"publish_rate" is required and must be a number (messages per second)')
    if not 0 <= rate <= config.max_publish_rate:
        raise ClientError(f'"publish_rate" must be between 0 and {config.max_publish_rate:g}')
    arrivals = data.get("arrivals", publisher.arrivals)
    if arrivals not in ARRIVALS:
        raise ClientError(f'"arrivals" must be one of {", ".join(ARRIVALS)}')
    seed = data.get("seed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64
    ):
        raise ClientError('"seed" must be a whole number from 0 to 2^64 − 1 (or absent)')
    text_bytes = data.get("text_bytes", publisher.text_bytes)
    if (
        isinstance(text_bytes, bool)
        or not isinstance(text_bytes, int)
        or not 0 <= text_bytes <= config.max_text_bytes
    ):
        raise ClientError(
            f'"text_bytes" must be a whole number from 0 to {config.max_text_bytes}'
            " (0: short texts)"
        )
    publisher.configure(float(rate), arrivals, seed, text_bytes)


async def get_publisher(request: web.Request) -> web.Response:
    return web.json_response(publisher_state(request.app[PUBLISHER]))


async def post_publisher(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    configure_publisher(data, request.app[CONFIG], request.app[PUBLISHER])
    return await get_publisher(request)


def add_common_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/messages", post_message, expect_handler=expect_within_limit)
    app.router.add_get("/stats", stats)
    app.router.add_get("/publisher", get_publisher)
    app.router.add_post(
        "/publisher", teacher_only(post_publisher), expect_handler=expect_within_limit
    )
