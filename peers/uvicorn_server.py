"""Starlette on uvicorn, as FastAPI deploys it, metered as pushlab's servers are.

uvicorn is run with its own default choices: ``loop="auto"`` (uvloop when it is installed),
``http="auto"`` (httptools when installed, else h11) and ``ws="auto"`` (the ``websockets``
library's sans-I/O protocol since 0.54, else wsproto). What they resolved to is printed on the
second line of the peer's output and reported in ``/stats`` (``stack``), with the versions.
Three settings differ from uvicorn's defaults, as pushlab's own servers run: no access log
(uvicorn writes one line per request by default), the log level ``warning``, and an idle
kept-alive connection closed after pushlab's 75 s rather than uvicorn's 5 s.

Bytes are counted at the TCP level, as ``servers/metering.py`` counts aiohttp's: uvicorn's
protocol for each connection is wrapped in :class:`MeteredConnection`, whose transport counts
every write. An upgrade to WebSocket hands the connection to another protocol
(``transport.set_protocol``); :class:`SwitchingTransport` follows it, so the WebSocket's frames
are counted too.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pushlab.peers.control import CONTROL_PATHS, Control
from pushlab.servers.metering import CountingTransport, Meter

BACKLOG = 4096  # as pushlab's servers: a bench ramp opens thousands of connections at once


class MeteredConnection(asyncio.Protocol):
    """One connection: counted, and handed on to uvicorn's protocol of the moment."""

    def __init__(self, inner: asyncio.Protocol, meter: Meter) -> None:
        self.inner, self.meter = inner, meter

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.meter.tcp_connections_opened += 1
        self.meter.tcp_connections_open += 1
        self.inner.connection_made(SwitchingTransport(transport, self.meter, self))  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        self.meter.bytes_in += len(data)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.meter.tcp_connections_open -= 1
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class SwitchingTransport(CountingTransport):
    """A counting transport whose ``set_protocol`` (uvicorn's switch to its WebSocket protocol)
    keeps the connection's bytes flowing through the meter."""

    __slots__ = ("_connection",)

    def __init__(self, transport: asyncio.Transport, meter: Meter, connection: MeteredConnection):
        super().__init__(transport, meter)
        self._connection = connection

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._connection.inner = protocol  # type: ignore[assignment]

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._connection.inner


def metered(protocol_class: Callable[..., asyncio.Protocol], meter: Meter) -> Any:
    """uvicorn's ``http`` protocol class, each instance wrapped in a MeteredConnection."""

    def create(**kwargs: Any) -> asyncio.Protocol:
        return MeteredConnection(protocol_class(**kwargs), meter)

    return create


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvicorn's default event loop (``loop="auto"``): uvloop if installed, else asyncio's."""
    return uvicorn.Config(app=None).get_loop_factory()


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def stack(config: uvicorn.Config) -> dict[str, str]:
    """What uvicorn's ``auto`` choices resolved to, with the versions that matter."""
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    http = config.http_protocol_class.__name__
    ws = "none" if config.ws_protocol_class is None else config.ws_protocol_class.__name__
    parser = "httptools" if "HttpTools" in http else "h11"
    ws_package = "websockets" if "WebSocket" in ws else "wsproto"
    return {
        "server": f"uvicorn {version('uvicorn')}",
        "framework": f"starlette {version('starlette')}",
        "loop": f"{loop} {version(loop) if loop == 'uvloop' else ''}".strip(),
        "http": f"{http} ({parser} {version(parser)})",
        "ws": f"{ws} ({ws_package} {version(ws_package)})",
    }


async def json_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    body = {"error": f"{error.detail}: {request.method} {request.url.path}"}
    return Response(json.dumps(body), error.status_code, media_type="application/json")


def control_routes(control: Control) -> list[BaseRoute]:
    """``/healthz``, ``/stats``, ``/publisher``, ``POST /messages`` as Starlette routes."""

    async def endpoint(request: Request) -> Response:
        status, body = await control.answer(request.method, request.url.path, await request.body())
        return Response(json.dumps(body), status, media_type="application/json")

    return [Route(path, endpoint, methods=["GET", "POST"]) for path in CONTROL_PATHS]


@contextlib.asynccontextmanager
async def serve(control: Control, routes: list[BaseRoute]) -> AsyncIterator[str]:
    """Serve ``routes`` and the control routes on uvicorn; yield the URL listened on."""
    app = Starlette(
        routes=[*control_routes(control), *routes],
        exception_handlers={HTTPException: json_error},  # 404 and 405 as JSON, as pushlab's
    )
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        backlog=BACKLOG,
        timeout_graceful_shutdown=2,
        # uvicorn's 5 s would close the harness's kept-alive /stats connection while 1,000
        # clients connect; pushlab's servers keep an idle connection this long.
        timeout_keep_alive=int(control.config.keepalive_timeout_s),
    )
    config.load()
    resolved = stack(config)
    config.http_protocol_class = metered(config.http_protocol_class, control.meter)
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)  # as Server.serve() sets it up
    listener = socket.create_server((control.config.host, control.config.port or 0))
    await server.startup(sockets=[listener])
    control.start()
    control.stack.update(resolved)
    try:
        host, port = listener.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        await control.aclose()
        await server.shutdown(sockets=[listener])
