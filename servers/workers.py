"""``--workers N``: N processes serving one port, sharing one Redis feed.

Each worker listens on the same port with ``SO_REUSEPORT``; Linux spreads new connections over
them by a hash of the addresses, so any worker may get any request. No technique needs sticky
sessions here: a long poll or an SSE stream carries its cursor, a WebSocket names it in the
upgrade, and every worker's feed hears every message through the Redis Stream
(servers/feed_redis.py). The parent process only starts and stops the workers.

What the workers share besides the feed:

- ``/stats`` answers for the whole server, whichever worker is asked: that worker fetches each
  other worker's own counters (``/stats/self``) on a private loopback port, registered in Redis,
  and sums them; the answer lists each worker's too (``"workers"``). A thousand clients that
  connect at once all ask ``/stats`` at once: they share gatherings (:class:`StatsGathering`)
  instead of each opening a Redis connection and N − 1 requests of its own.
- the built-in publisher runs in worker 0 only (one publisher, not N); ``/publisher`` on
  another worker is forwarded to worker 0, so the bench's rate changes reach it.

The registry lives in Redis, so a Redis that restarts empty loses it: each worker writes its
entry again every ``REGISTER_INTERVAL_S`` (an idempotent ``HSET``), and ``/stats`` answers for
every worker again within that time, without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from pushlab.servers.children import supervise
from pushlab.servers.common import Handler, stats_snapshot
from pushlab.servers.config import ServerConfig
from pushlab.servers.teacher import KEY_ENV, KEY_HEADER, key_line

SUMMED = (
    "clients_connected",
    "requests",
    "other_requests",
    "empty_responses",
    "messages_delivered",
    "bytes_in",
    "bytes_out",
    "tcp_connections_opened",
    "tcp_connections_open",
    "fanout_s",
    "fanouts",
    "process_cpu_s",
    "process_max_rss_kb",
)
"""Counters that add up over workers; the rest (feed, ids, publisher) are the shared feed's."""

LEADER = 0  # the worker that runs the publisher
REDIS_TIMEOUT_S = 5.0  # the registry's Redis: a /stats answer waits no longer for it
REGISTER_INTERVAL_S = 2.0  # how often a worker writes its registry entry again


class StatsGathering:
    """Concurrent ``/stats`` requests share one gathering of the workers' counters.

    Each answer must be at least as new as its request (the bench reads a window's end from it),
    so a request never takes a gathering that began before it arrived: requests that arrive
    while one runs wait for it to end, and the first of them starts the next, which the rest
    then share. A burst of any size costs at most two gatherings in a row, and a Redis that does
    not answer fails them together rather than one after another.
    """

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.started_at = -1.0
        self.snapshots: list[dict[str, Any]] = []
        self.error: RedisError | None = None

    async def fresh(self, app: web.Application) -> list[dict[str, Any]]:
        arrived_at = time.monotonic()
        async with self.lock:
            if self.started_at < arrived_at:
                started_at = time.monotonic()
                try:
                    self.snapshots, self.error = await worker_snapshots(app), None
                except RedisError as error:
                    self.error = error
                self.started_at = started_at
            if self.error is not None:
                raise self.error
            return self.snapshots


@dataclass
class Cluster:
    """What one worker knows of the others."""

    index: int
    count: int
    registry_key: str  # Redis hash: worker index → its private URL
    redis: aioredis.Redis
    session: aiohttp.ClientSession | None = None
    stats: StatsGathering = field(default_factory=StatsGathering)


CLUSTER = web.AppKey("cluster", Cluster)


def combine(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``/stats`` body for the whole server from each worker's own."""
    total = {key: value for key, value in snapshots[0].items() if key != "worker"}
    for key in SUMMED:
        total[key] = sum(snapshot[key] for snapshot in snapshots)
    total["process_cpu_s"] = round(total["process_cpu_s"], 6)
    for key in ("uptime_s", "messages_published", "last_id"):
        total[key] = max(snapshot[key] for snapshot in snapshots)
    total["pid"] = os.getppid()  # the parent: psutil finds the workers as its children
    total["workers"] = snapshots
    return total


async def worker_snapshots(app: web.Application) -> list[dict[str, Any]]:
    cluster = app[CLUSTER]
    urls = await cluster.redis.hgetall(cluster.registry_key)
    assert cluster.session is not None

    async def fetch(index: int) -> dict[str, Any]:
        if index == cluster.index:
            return {"worker": index, **stats_snapshot(app)}
        url = urls.get(str(index).encode())
        if url is None:
            return {"worker": index, "error": "not registered yet"}
        try:
            async with cluster.session.get(url.decode() + "/stats/self") as answer:
                return {"worker": index, **await answer.json()}
        except (aiohttp.ClientError, TimeoutError) as error:
            return {"worker": index, "error": f"does not answer: {error}"}

    return list(await asyncio.gather(*(fetch(i) for i in range(cluster.count))))


FORWARDED = ("Content-Type", KEY_HEADER)


async def forward(request: web.Request, url: str) -> web.Response:
    """Hand a ``/publisher`` request to the leader and its answer back."""
    session = request.app[CLUSTER].session
    assert session is not None
    body = await request.read()
    # The leader checks what any worker checks (servers/guard.py, servers/teacher.py).
    headers = {name: request.headers[name] for name in FORWARDED if name in request.headers}
    async with session.request(
        request.method, url + request.path, data=body, headers=headers
    ) as answer:
        return web.Response(
            body=await answer.read(), status=answer.status, content_type=answer.content_type
        )


@web.middleware
async def cluster_routes(request: web.Request, handler: Handler) -> web.StreamResponse:
    cluster = request.app[CLUSTER]
    if request.path == "/stats":
        try:
            snapshots = await cluster.stats.fresh(request.app)
        except RedisError as error:
            return web.json_response(
                {"error": f"the feed's Redis does not answer: {error}"}, status=503
            )
        if any("error" in snapshot for snapshot in snapshots):
            return web.json_response(
                {"error": "not every worker answers", "workers": snapshots}, status=503
            )
        return web.json_response(combine(snapshots))
    if request.path == "/publisher" and cluster.index != LEADER:
        try:
            leader = await cluster.redis.hget(cluster.registry_key, str(LEADER))
        except RedisError as error:
            return web.json_response(
                {"error": f"the feed's Redis does not answer: {error}"}, status=503
            )
        if leader is None:
            return web.json_response({"error": "worker 0 is not registered yet"}, status=503)
        return await forward(request, leader.decode())
    return await handler(request)


async def own_stats(request: web.Request) -> web.Response:
    return web.json_response(stats_snapshot(request.app))


def worker_config(config: ServerConfig, index: int) -> ServerConfig:
    """Worker 0 publishes; the others only serve."""
    return config if index == LEADER else replace(config, publish_rate=0.0)


async def serve_worker(technique: str, config: ServerConfig, index: int, port: int) -> None:
    """One worker: the technique's application on the shared port, and a private stats port."""
    from pushlab.servers.app import make_app
    from pushlab.servers.runner import start, wait_for_stop_signal

    cluster = Cluster(
        index=index,
        count=config.workers,
        registry_key=f"pushlab:workers:{technique}:{port}",
        redis=aioredis.Redis.from_url(
            config.feed, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
        ),
    )
    app = make_app(technique, worker_config(config, index))
    app[CLUSTER] = cluster
    app.middlewares.append(cluster_routes)
    app.router.add_get("/stats/self", own_stats)
    server = await start(app, config.host, port, reuse_port=True)
    private_socket = socket.create_server(("127.0.0.1", 0))
    private_port = private_socket.getsockname()[1]
    await web.SockSite(server.runner, private_socket).start()
    cluster.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    private_url = f"http://127.0.0.1:{private_port}"
    await cluster.redis.hset(cluster.registry_key, str(index), private_url)
    registering = asyncio.create_task(keep_registered(cluster, private_url))
    sys.stdout.write(f"pushlab {technique} worker {index} listening on {server.url}\n")
    sys.stdout.flush()
    try:
        await wait_for_stop_signal()
    finally:
        registering.cancel()
        with contextlib.suppress(RedisError, OSError):
            await cluster.redis.hdel(cluster.registry_key, str(index))
        await server.stop()
        await cluster.session.close()
        await cluster.redis.aclose()


async def keep_registered(cluster: Cluster, private_url: str) -> None:
    """Write this worker's registry entry again and again: a Redis that restarted empty has
    forgotten it (a Redis that does not answer is the feed's to report; this loop just waits)."""
    while True:
        await asyncio.sleep(REGISTER_INTERVAL_S)  # a period, not a synchronisation
        with contextlib.suppress(RedisError, OSError):
            await cluster.redis.hset(cluster.registry_key, str(cluster.index), private_url)


def reserve_port(host: str, port: int) -> socket.socket:
    """Bind (not listen) a reuse-port socket, so that port 0 becomes one port for all workers."""
    holder = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, port))
    return holder


def worker_commands(argv: list[str], port: int, count: int) -> list[list[str]]:
    """Each worker's command line: ``argv``, then ``--port`` (the last one given wins) and its
    ``--worker-index``. No teacher key: a command line is readable by every local user."""
    command = [sys.executable, "-m", "pushlab.servers", *argv, "--port", str(port)]
    return [[*command, "--worker-index", str(index)] for index in range(count)]


def worker_environment(config: ServerConfig) -> dict[str, str]:
    """The parent's environment, and the teacher key (one key for every worker)."""
    environment = dict(os.environ)
    if config.teacher_key is not None:
        environment[KEY_ENV] = config.teacher_key
    return environment


def run_workers(technique: str, argv: list[str], config: ServerConfig, port: int) -> int:
    """Start ``config.workers`` worker processes on ``port``, print the URL (and the teacher
    key, once) when all listen, and stop them all on Ctrl-C or SIGTERM."""
    holder = reserve_port(config.host, port)
    port = holder.getsockname()[1]
    environment = worker_environment(config)
    children = [
        subprocess.Popen(command, stdout=subprocess.PIPE, env=environment)
        for command in worker_commands(argv, port, config.workers)
    ]

    def started() -> None:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if b"listening on" not in line:
                raise KeyboardInterrupt  # a worker failed to start: its error is on stderr
            threading.Thread(target=copy_lines, args=(child.stdout,), daemon=True).start()
        holder.close()
        host = f"[{config.host}]" if ":" in config.host else config.host
        sys.stdout.write(f"pushlab {technique} listening on http://{host}:{port}\n")
        sys.stdout.write(f"pushlab {technique}: {config.workers} workers on {config.feed}\n")
        if config.teacher_key is not None:
            sys.stdout.write(key_line(config.teacher_key))
        sys.stdout.flush()

    return supervise(children, started)


def copy_lines(stream: Any) -> None:
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
