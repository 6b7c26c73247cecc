"""Run scenarios: a server and a load generator per scenario, each on its own CPU.

For one scenario the harness

1. starts the technique's server (``python -m pushlab.servers``, publisher off) pinned to one
   CPU, and the Locust generator (``python -m pushlab.bench.measuring.generator``) pinned to
   the other;
2. waits until every client is connected: the generator says all its users can hear news, and
   for the techniques whose clients stay connected (long polling, WebSocket, SSE) the server's
   own count of held requests or open streams agrees;
3. turns the publisher on, warms up, then opens the measurement window with a ``/stats``
   snapshot and closes it with another: the window is every message published in between,
   and every server counter is the difference of the two snapshots;
4. turns the publisher off, lets the generator drain (every client receives the window's last
   message), stops everything, and hands the recorded :class:`Window` to
   ``bench/analysis/measurement.py``, which computes the row.

The harness keeps only processes and timing: the children's lifecycle is in ``processes.py``,
the ``/stats`` connection in ``stats_connection.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pushlab import techniques
from pushlab.bench.analysis.measurement import Measurement, measure
from pushlab.bench.core.scenario import Scenario, Session
from pushlab.bench.core.window import Window
from pushlab.bench.measuring.distributed import RemoteWorkers
from pushlab.bench.measuring.processes import copy_rest, read_line, spawn, stop
from pushlab.bench.measuring.sampling import ProcessSampler, rss_mb
from pushlab.bench.measuring.stats_connection import ServerConnection
from pushlab.bench.measuring.window import (
    Generator,
    connect_timeout_s,
    load_deliveries,
    time_window,
    wait_for_server_count,
)

SERVER_START_TIMEOUT_S = 20.0
DRAIN_MARGIN_S = 3.0


# --- CPUs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Affinity:
    """Which CPUs the server, the generator and the harness itself run on."""

    server: frozenset[int]
    generator: frozenset[int]
    harness: frozenset[int]

    @property
    def shared(self) -> bool:
        return bool(self.server & self.generator)

    def describe(self) -> dict[str, Any]:
        return {
            "server": sorted(self.server),
            "generator": sorted(self.generator),
            "harness": sorted(self.harness),
            "shared": self.shared,
        }


def plan_affinity() -> Affinity:
    """Server alone on the first CPU, generator (and the harness) on the second."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        everything = frozenset(cpus)
        return Affinity(everything, everything, everything)
    server, generator = frozenset(cpus[:1]), frozenset(cpus[1:2])
    harness = frozenset(cpus[2:]) or generator
    return Affinity(server, generator, harness)


# --- The server and the generator ----------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    host: str
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid


def start_server(
    technique: str,
    arrivals: str,
    cpus: frozenset[int],
    log: IO[bytes],
    publish_rate: float = 0,
    *,
    feed_url: str | None = None,
    workers: int = 1,
    port: int = 0,
    profile: Path | None = None,
    extra_args: tuple[str, ...] = (),
) -> Server:
    args = [technique, "--port", str(port), "--rate", f"{publish_rate:g}", "--arrivals", arrivals]
    args += extra_args  # what the scenario's parts ask of the server (``Part.server_args``)
    module = "pushlab.peers" if technique in techniques.PEERS else "pushlab.servers"  # issue 14
    if feed_url is not None and module == "pushlab.servers":  # issue 13: a shared feed, N workers
        args += ["--feed", feed_url, "--workers", str(workers)]
    if profile is not None:  # a cProfile of the server, written when it stops
        args += ["--profile", str(profile)]
    process = spawn(module, args, cpus, log)
    assert process.stdout is not None
    try:
        line = read_line(process.stdout, SERVER_START_TIMEOUT_S)
        url = line.strip().rsplit(" ", 1)[-1]
        if not line.startswith(f"pushlab {technique} listening on http://"):
            raise RuntimeError(f"unexpected first line from the server: {line!r}")
    except BaseException:
        stop(process)
        raise
    copy_rest(process.stdout, log)
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return Server(process, url, host, int(port))


def start_scenario_server(
    scenario: Scenario,
    cpus: frozenset[int],
    log: IO[bytes],
    feed_url: str | None,
    **options: Any,
) -> Server:
    """The scenario's server: its technique and arrivals, on its feed with its workers, with
    the options its parts ask for."""
    return start_server(
        scenario.technique,
        scenario.arrivals,
        cpus,
        log,
        feed_url=feed_url if scenario.feed == "redis" else None,
        workers=scenario.workers,
        extra_args=tuple(arg for part in scenario.parts for arg in part.server_args()),
        **options,
    )


# --- One scenario ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleOutPlan:
    """Issue 13's part of a scenario's set-up: the Redis feed's URL (for ``feed="redis"``),
    whether its processes had to share CPUs, and Locust workers started elsewhere."""

    feed_url: str | None = None
    cores_short: bool = False
    remote: RemoteWorkers | None = None
    redis: Any = None  # the run's own RedisServer, for a fault of the feed's Redis


@contextlib.contextmanager
def scenario_processes(
    scenario: Scenario,
    affinity: Affinity,
    work_dir: Path,
    feed_url: str | None = None,
    profile: bool = False,
) -> Iterator[tuple[Server, Path, IO[bytes]]]:
    """The server of one scenario, stopped whatever happens (``profile``: its cProfile goes to
    ``profiles/<scenario>.prof`` in the results directory)."""
    log_dir = work_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    profile_path = work_dir / "profiles" / f"{scenario.id}.prof" if profile else None
    with (log_dir / f"{scenario.id}.log").open("wb") as log:
        server = start_scenario_server(
            scenario, affinity.server, log, feed_url, profile=profile_path
        )
        try:
            yield server, log_dir, log
        finally:
            stop(server.process)


@dataclass
class Running:
    """One scenario while it runs: what its parts' hooks may use (``core/scenario.py``'s
    ``ScenarioRun``). A restart swaps the new server process in, so that whoever stops the
    old one stops the new."""

    scenario: Scenario
    server: Server
    connection: ServerConnection
    affinity: Affinity
    log: IO[bytes]
    feed_url: str | None
    url: str = ""
    redis: Any = None
    results_dir: Path = Path()
    raw_path: Path = Path()

    def server_pid(self) -> int:
        return self.server.pid

    def server_address(self) -> tuple[str, int]:
        return self.server.host, self.server.port

    def stats(self) -> dict[str, Any]:
        return self.connection.stats().body

    def set_publisher(self, rate: float) -> None:
        scenario = self.scenario
        self.connection.set_publisher(
            rate, scenario.arrivals, scenario.arrival_seed, scenario.text_bytes
        )

    def restart_server(self, signal_number: int) -> None:
        """Stop the server with ``signal_number`` and start it again on the same port (on a
        Redis feed the new process finds the old one's history: nothing is lost)."""
        self.server.process.send_signal(signal_number)
        self.server.process.wait()
        new = start_scenario_server(
            self.scenario, self.affinity.server, self.log, self.feed_url, port=self.server.port
        )
        self.server.process = new.process
        self.connection.reconnect()

    def harness_cpus(self) -> frozenset[int]:
        return self.affinity.harness

    def redis_server(self) -> Any:
        return self.redis


def run_scenario(
    scenario: Scenario,
    affinity: Affinity,
    work_dir: Path,
    plan: ScaleOutPlan | None = None,
    profile: bool = False,
) -> Measurement:
    """Run one scenario's processes, time its window, and reduce what it recorded to a row.

    The scenario's parts hook in at three places, each nesting in ``Scenario.parts`` order:
    ``path`` from the server's start to its stop (where the clients connect), ``clients``
    from every client connected until after the drain, ``window`` around the window's wait.
    It is one function, read top to bottom, because its order *is* the method: every step
    waits for the one before, and every way out must stop what the steps before started.
    """
    raw_path = work_dir / "raw" / f"{scenario.id}.npz"
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan or ScaleOutPlan()
    with (
        scenario_processes(scenario, affinity, work_dir, plan.feed_url, profile) as (
            server,
            _,
            log,
        ),
        contextlib.ExitStack() as paths,
    ):
        connection = ServerConnection(server.host, server.port)
        run = Running(
            scenario,
            server,
            connection,
            affinity,
            log,
            plan.feed_url,
            server.url,
            plan.redis,
            work_dir,
            raw_path,
        )
        sessions: list[Session] = [part.session(run) for part in scenario.parts]
        for session in sessions:
            run.url = paths.enter_context(session.path(run.url))
        sampler = ProcessSampler(server.pid)
        generator: Generator | None = None
        try:
            baseline_rss_mb = rss_mb(server.pid)
            sampler.start()
            generator = Generator(scenario, run.url, affinity.generator, raw_path, log, plan.remote)
            ready = generator.wait_for("ready", connect_timeout_s(scenario.clients) + 30)
            server_count_ok = wait_for_server_count(connection, scenario, ready["connected"])
            with contextlib.ExitStack() as clients:
                for session in sessions:
                    clients.enter_context(session.clients())
                sampler.phase = "warmup"
                run.set_publisher(scenario.publish_rate)
                time.sleep(scenario.warmup_s)
                timed = time_window(scenario, connection, generator, sampler, windowed(sessions))
                sampler.phase = "drain"
                connection.set_publisher(0, scenario.arrivals)
                drain_s = (scenario.poll_interval or 0) + DRAIN_MARGIN_S
                last_id = timed.after.body["last_id"]
                feed_id = str(timed.after.body.get("feed_id") or "")
                done = generator.finish(last_id, drain_s, feed_id)
                records = {
                    part.key: session.record(last_id)
                    for part, session in zip(scenario.parts, sessions, strict=True)
                }
        finally:
            sampler.stop()
            connection.close()
            if generator is not None:
                stop(generator.process, signal.SIGTERM)
    window = Window(
        scenario=scenario,
        before=timed.before.body,
        after=timed.after.body,
        overhead=timed.overhead,
        opened_at=timed.opened_at,
        start_monotonic=timed.start_monotonic,
        generator_cpu_percent=timed.generator_cpu_percent,
        baseline_rss_mb=baseline_rss_mb,
        samples=tuple(sampler.samples),
        generator_report={**done, "ready": ready, "server_count_ok": server_count_ok},
        deliveries=load_deliveries(raw_path),
        cores_short=plan.cores_short,
        records=records,
        closed_at=timed.closed_at,
    )
    return measure(window)


def windowed(sessions: list[Session]) -> Callable[[float], None]:
    """The window's wait, inside every part's ``window`` hook (a fault, a stall)."""

    def wait(duration_s: float) -> None:
        with contextlib.ExitStack() as hooks:
            for session in sessions:
                hooks.enter_context(session.window())
            started = time.monotonic()
            actions = sorted(
                (action for session in sessions for action in session.during(duration_s)),
                key=lambda timed: timed[0],
            )
            for at_s, action in actions:
                time.sleep(max(at_s - (time.monotonic() - started), 0))
                action()
            time.sleep(max(duration_s - (time.monotonic() - started), 0))

    return wait
