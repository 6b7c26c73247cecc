"""The bench past one process: its options, the CPUs of N workers, and the Redis a run needs.

- ``--feed memory,redis`` runs every sweep on each feed (``redis://HOST:PORT/DB`` names a Redis
  to use; ``redis`` alone has the harness start its own redis-server and stop it at the end);
- ``--sweeps workers --workers 1,2,4`` adds the scale-out sweep (``bench/sweeps/workers.py``);
- ``--generator-processes N`` runs the load as Locust's master and N workers
  (``distributed.py``); ``--generator-master --expect-workers K`` waits for K workers started
  elsewhere with the command it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pushlab.bench.core.scenario import FEEDS, MatrixSettings, Scenario
from pushlab.bench.measuring.arguments import name_list
from pushlab.bench.measuring.distributed import RemoteWorkers
from pushlab.bench.measuring.harness import Affinity, ScaleOutPlan

MAX_WORKERS = 64


def feed_list(text: str) -> tuple[tuple[str, ...], str | None]:
    """``memory,redis`` or ``redis://HOST:PORT/DB`` (the Redis to use): the feeds and the URL."""
    url = next((part for part in text.split(",") if part.startswith("redis://")), None)
    if url is not None:
        from pushlab.servers.feeds import feed_spec  # the servers' own check of the URL

        feed_spec(url)
    names = ",".join("redis" if part.startswith("redis://") else part for part in text.split(","))
    return name_list(FEEDS)(names), url


def add_scale_out_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("past one process")
    group.add_argument(
        "--feed",
        type=feed_list,
        help="memory (default), redis (a redis-server started for the run), "
        "redis://HOST:PORT/DB, or a list: memory,redis runs every sweep on both",
    )
    group.add_argument(
        "--generator-processes",
        type=int,
        choices=range(0, MAX_WORKERS + 1),
        metavar="N",
        default=0,
        help="run the load as Locust's master and N worker processes (0: one process)",
    )
    group.add_argument(
        "--generator-master",
        action="store_true",
        help="be the master only: wait for --expect-workers workers started elsewhere",
    )
    group.add_argument(
        "--expect-workers",
        type=int,
        choices=range(1, 1025),
        metavar="K",
        help="with --generator-master: how many workers to wait for",
    )
    group.add_argument(
        "--master-bind",
        default="127.0.0.1",
        help="with --generator-master: the address workers elsewhere connect to",
    )


def scale_out_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The matrix settings the scale-out options replace."""
    changes: dict[str, Any] = {}
    if args.feed:
        changes["feeds"], changes["redis_url"] = args.feed
    if args.generator_master and not args.expect_workers:
        raise SystemExit("--generator-master needs --expect-workers K")
    changes["generator_processes"] = args.expect_workers or args.generator_processes
    changes["generator_remote"] = bool(args.generator_master)
    changes["master_bind"] = args.master_bind
    return changes


def scenario_affinity(base: Affinity, scenario: Scenario) -> tuple[Affinity, bool]:
    """The CPUs of one scenario: the server's workers each on their own CPU and the generator's
    processes on the next ones, where the machine has them; else shared (and flagged: True)."""
    cpus = sorted(base.server | base.generator | base.harness)
    generator_count = max(scenario.generator_processes, 1)
    needed = scenario.workers + generator_count
    if scenario.workers == 1 and scenario.generator_processes == 0:
        return base, False
    if len(cpus) >= needed:
        server = frozenset(cpus[: scenario.workers])
        generator = frozenset(cpus[scenario.workers : needed])
        return Affinity(server, generator, base.harness), False
    server = frozenset(cpus[: min(scenario.workers, len(cpus))])
    generator = (
        frozenset(cpus[-generator_count:]) if generator_count < len(cpus) else base.generator
    )
    return Affinity(server, generator, base.harness), True


@contextlib.contextmanager
def redis_for_run(
    settings: MatrixSettings, scenarios: list[Scenario], cpus: frozenset[int]
) -> Iterator[tuple[str | None, Any]]:
    """The Redis URL of the run's Redis scenarios, and the ``RedisServer`` when it was started
    here (pinned to the server's CPU: it is part of the server side; stopped at the end) — a
    fault of the feed's Redis needs the process. A Redis given by URL is not ours to fault."""
    if not any(item.feed == "redis" for item in scenarios):
        yield None, None
        return
    if settings.redis_url is not None:
        yield settings.redis_url, None
        return
    from pushlab.bench.measuring.redis_server import running_redis

    with running_redis() as server:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(server.process.pid, cpus)
        print(f"Redis for the run: {server.url} (stopped at the end)", flush=True)
        yield server.url, server


def reset_feed(url: str) -> None:
    """Each scenario starts on a new feed: ids from #1, no history of the last scenario."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def remote_workers(settings: MatrixSettings) -> RemoteWorkers | None:
    if not settings.generator_remote:
        return None
    return RemoteWorkers(settings.generator_processes, settings.master_bind)


@dataclass(frozen=True)
class ScaleOut:
    """A run's scale-out set-up: the Redis URL, and Locust workers started elsewhere."""

    feed_url: str | None = None
    remote: RemoteWorkers | None = None
    redis: Any = None  # the run's own RedisServer (None: none, or one given by URL)

    def plan(self, scenario: Scenario, base: Affinity) -> tuple[Affinity, ScaleOutPlan]:
        """One scenario's CPUs and set-up; its Redis feed emptied first."""
        if scenario.feed == "redis":
            if self.feed_url is None:
                raise RuntimeError("a Redis scenario, and no Redis for the run")
            reset_feed(self.feed_url)
        affinity, cores_short = scenario_affinity(base, scenario)
        redis = self.redis if scenario.feed == "redis" else None
        return affinity, ScaleOutPlan(self.feed_url, cores_short, self.remote, redis)
