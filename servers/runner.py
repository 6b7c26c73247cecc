"""Run an application on a metered listening socket.

``MeteredSite`` is aiohttp's ``TCPSite`` with one change: every accepted connection passes
through ``MeteredProtocol``, so ``/stats`` counts the bytes that really crossed the socket.
Being a ``web.BaseSite``, it belongs to its ``AppRunner``: ``runner.cleanup()`` closes the
listening socket, then the open connections, then the application. ``handler_cancellation=True``
makes aiohttp cancel a handler whose client hung up: a held long poll then releases its waiter
at once (``run_app``'s default is False, which would leak waiters until the timeout).
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass

from aiohttp import web

from pushlab.limits import LISTEN_BACKLOG
from pushlab.servers.allocator import raise_mmap_threshold
from pushlab.servers.config import HEADER_TIMEOUT_S
from pushlab.servers.connections import (
    BUDGET,
    ConnectionBudget,
    GuardedProtocol,
    address_share,
    default_max_connections,
    install_log_filter,
    quiet_accept_failures,
)
from pushlab.servers.keys import CONFIG, METER
from pushlab.servers.metering import Meter

BACKLOG = LISTEN_BACKLOG  # a bench ramp opens thousands of connections at once
LINGERING_S = 2.0  # aiohttp's default is 10 s: a client that stopped sending keeps its socket


class MeteredSite(web.BaseSite):
    """A TCP listening socket whose connections report their bytes to ``meter``."""

    __slots__ = (
        "_bound_port",
        "_budget",
        "_header_timeout_s",
        "_host",
        "_meter",
        "_port",
        "_reuse_port",
        "_trusted_proxies",
    )

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        meter: Meter,
        *,
        backlog: int = BACKLOG,
        budget: ConnectionBudget | None = None,
        header_timeout_s: float = HEADER_TIMEOUT_S,
        reuse_port: bool = False,
        trusted_proxies: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._trusted_proxies = trusted_proxies
        self._host, self._port, self._meter = host, port, meter
        self._reuse_port = reuse_port  # several worker processes on one port (servers/workers.py)
        self._bound_port: int | None = None
        self._budget = budget or ConnectionBudget(default_max_connections())
        self._header_timeout_s = header_timeout_s

    @property
    def port(self) -> int:
        """The port listened on: the one the system chose when asked for port 0."""
        return self._port if self._bound_port is None else self._bound_port

    @property
    def name(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        factory = self._runner.server
        assert factory is not None  # BaseSite checked that the runner is set up
        self._server = await asyncio.get_running_loop().create_server(
            lambda: GuardedProtocol(
                factory(), self._meter, self._budget, self._header_timeout_s, self._trusted_proxies
            ),
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=True,
            reuse_port=self._reuse_port or None,
        )
        self._bound_port = self._server.sockets[0].getsockname()[1]


@dataclass
class RunningServer:
    """An application listening on ``url``; ``stop()`` closes the socket and the application."""

    runner: web.AppRunner
    site: MeteredSite

    @property
    def app(self) -> web.Application:
        return self.runner.app

    @property
    def port(self) -> int:
        return self.site.port

    @property
    def url(self) -> str:
        return self.site.name

    async def stop(self) -> None:
        await self.runner.cleanup()  # stops the site too


async def start(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    backlog: int = BACKLOG,
    budget: ConnectionBudget | None = None,
    reuse_port: bool = False,
) -> RunningServer:
    """Start ``app`` on ``host:port`` (port 0 picks a free one; see ``RunningServer.port``).

    The timeouts and the connection ceiling come from the application's ``ServerConfig``;
    ``budget`` lets several servers of one process share one ceiling (the demo).
    """
    config = app[CONFIG]
    if budget is None:
        ceiling = config.max_connections or default_max_connections()
        share = address_share(host, ceiling, config.max_connections_per_address)
        budget = ConnectionBudget(ceiling, share)
    app[BUDGET] = budget
    raise_mmap_threshold()  # no mmap + mremap + munmap per socket read (servers/allocator.py)
    quiet_accept_failures(asyncio.get_running_loop())
    install_log_filter()
    runner = web.AppRunner(
        app,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=2.0,
        keepalive_timeout=config.keepalive_timeout_s,
        # After an answer to an unfinished body, aiohttp reads and drops the rest for this
        # long before closing (closing with unread bytes would reset the answer away).
        lingering_time=min(config.body_timeout_s, LINGERING_S),
    )
    await runner.setup()
    site = MeteredSite(
        runner,
        host,
        port,
        app[METER],
        backlog=backlog,
        budget=budget,
        header_timeout_s=config.header_timeout_s,
        reuse_port=reuse_port,
        trusted_proxies=frozenset(config.trusted_proxies),
    )
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return RunningServer(runner, site)


async def wait_for_stop_signal() -> None:
    """Return on Ctrl-C or SIGTERM, so the caller can stop its servers cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
