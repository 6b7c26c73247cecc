"""Run an application on a metered listening socket.

We open the listening socket ourselves (instead of ``web.run_app``) so that every accepted
connection passes through ``MeteredProtocol``. ``handler_cancellation=True`` makes aiohttp
cancel a handler whose client hung up: a held long poll then releases its waiter at once
(``run_app``'s default is False, which would leak waiters until the timeout).
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass

from aiohttp import web
from pushlab.servers.common import METER
from pushlab.servers.metering import MeteredProtocol


@dataclass
class RunningServer:
    runner: web.AppRunner
    listener: asyncio.Server
    host: str
    port: int

    @property
    def app(self) -> web.Application:
        return self.runner.app

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        self.listener.close()
        await self.runner.cleanup()


async def start(
    app: web.Application, host: str = "127.0.0.1", port: int = 0, *, backlog: int = 4096
) -> RunningServer:
    """Start ``app`` on ``host:port`` (port 0 picks a free one; see ``RunningServer.port``)."""
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    meter = app[METER]
    factory = runner.server
    assert factory is not None
    loop = asyncio.get_running_loop()
    try:
        listener = await loop.create_server(
            lambda: MeteredProtocol(factory(), meter),
            host,
            port,
            reuse_address=True,
            backlog=backlog,
        )
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = listener.sockets[0].getsockname()[1]
    return RunningServer(runner, listener, host, bound_port)


async def wait_for_stop_signal() -> None:
    """Return on Ctrl-C or SIGTERM, so the caller can stop its servers cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
