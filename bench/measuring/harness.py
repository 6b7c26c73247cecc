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
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pushlab import techniques
from pushlab.bench.analysis.measurement import Measurement, Window, measure
from pushlab.bench.measuring import network
from pushlab.bench.measuring.distributed import RemoteWorkers, generator_module
from pushlab.bench.measuring.processes import copy_rest, read_line, spawn, stop
from pushlab.bench.measuring.sampling import (
    ProcessSampler,
    rss_mb,
)
from pushlab.bench.measuring.scenarios import Scenario
from pushlab.bench.measuring.slow_consumer import SlowConsumer
from pushlab.bench.measuring.slow_sweep import SlowRecord, SlowStall
from pushlab.bench.measuring.stats_connection import ServerConnection
from pushlab.bench.measuring.window import (
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
) -> Server:
    args = [technique, "--port", str(port), "--rate", f"{publish_rate:g}", "--arrivals", arrivals]
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
    """The scenario's server: its technique and arrivals, on its feed with its workers."""
    return start_server(
        scenario.technique,
        scenario.arrivals,
        cpus,
        log,
        feed_url=feed_url if scenario.feed == "redis" else None,
        workers=scenario.workers,
        **options,
    )


class Generator:
    """The ``python -m pushlab.bench.measuring.generator`` child and its line protocol."""

    def __init__(
        self,
        scenario: Scenario,
        server: Server,
        cpus: frozenset[int],
        raw: Path,
        log: IO[bytes],
        remote: RemoteWorkers | None = None,
        url: str | None = None,  # where the clients connect: the emulator, if there is one
    ) -> None:
        args = [scenario.technique, "--host", url or server.url, "--clients", str(scenario.clients)]
        args += ["--out", str(raw), "--connect-timeout", f"{connect_timeout_s(scenario.clients):g}"]
        if scenario.poll_interval is not None:
            args += ["--poll-interval", f"{scenario.poll_interval:g}"]
        if scenario.longpoll_hold_s is not None:
            args += ["--hold", f"{scenario.longpoll_hold_s:g}"]
        if not scenario.resume:
            args.append("--no-resume")
        module, extra = generator_module(scenario, remote)
        self.process = spawn(module, args + extra, cpus, log, stdin=True)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read_events, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read_events(self) -> None:
        assert self.process.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            for line in self.process.stdout:
                with contextlib.suppress(json.JSONDecodeError):
                    self.events.put(json.loads(line))
        self.events.put({"event": "exit"})

    def wait_for(self, event: str, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                message = self.events.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise TimeoutError(f"the generator sent no {event!r} in {timeout_s:g} s") from None
            if message["event"] == event:
                return message
            if message["event"] == "waiting":  # --generator-master: workers start elsewhere
                print(
                    f"Waiting for {message['workers']} Locust workers: {message['command']}",
                    flush=True,
                )
            if message["event"] == "exit":
                raise RuntimeError(f"the generator exited before {event!r} (see its log)")

    def finish(self, last_id: int, drain_s: float) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"stop {last_id} {drain_s:g}\n".encode())
        self.process.stdin.flush()
        done = self.wait_for("done", drain_s + 60)
        self.process.wait(timeout=30)
        return done


def connect_timeout_s(clients: int) -> float:
    return 20.0 + clients / 100


# --- One scenario ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleOutPlan:
    """Issue 13's part of a scenario's set-up: the Redis feed's URL (for ``feed="redis"``),
    whether its processes had to share CPUs, and Locust workers started elsewhere."""

    feed_url: str | None = None
    cores_short: bool = False
    remote: RemoteWorkers | None = None


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


def run_scenario(
    scenario: Scenario,
    affinity: Affinity,
    work_dir: Path,
    plan: ScaleOutPlan | None = None,
    profile: bool = False,
) -> Measurement:
    """Run one scenario's processes, time its window, and reduce what it recorded to a row."""
    raw_path = work_dir / "raw" / f"{scenario.id}.npz"
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan or ScaleOutPlan()
    with (
        scenario_processes(scenario, affinity, work_dir, plan.feed_url, profile) as (
            server,
            _,
            log,
        ),
        network.emulated(scenario, server.url, affinity.harness, log) as emulator,
    ):
        connection = ServerConnection(server.host, server.port)
        injector: network.FaultInjector | None = None
        sampler = ProcessSampler(server.pid)
        generator: Generator | None = None
        stall: SlowStall | None = None
        slow: SlowRecord | None = None
        try:
            baseline_rss_mb = rss_mb(server.pid)
            sampler.start()
            url = emulator.url if emulator is not None else None
            generator = Generator(
                scenario, server, affinity.generator, raw_path, log, plan.remote, url
            )
            ready = generator.wait_for("ready", connect_timeout_s(scenario.clients) + 30)
            server_count_ok = wait_for_server_count(connection, scenario, ready["connected"])

            if scenario.slow_stall_s:  # one more client, not Locust's: it will stop reading
                cursor = connection.stats().body["last_id"]
                consumer = SlowConsumer(scenario.technique, server.host, server.port, cursor)
                stall = SlowStall(scenario, consumer, server.pid)
            sampler.phase = "warmup"
            connection.set_publisher(
                scenario.publish_rate,
                scenario.arrivals,
                scenario.arrival_seed,
                scenario.text_bytes,
            )
            time.sleep(scenario.warmup_s)

            if emulator is not None:
                injector = fault_injector(
                    scenario, emulator, connection, server, affinity, log, plan.feed_url
                )
            wait = time.sleep if injector is None else injector.wait
            wait = wait if stall is None else stall.wait
            timed = time_window(scenario, connection, generator, sampler, wait)

            sampler.phase = "drain"
            connection.set_publisher(0, scenario.arrivals)
            drain_s = (scenario.poll_interval or 0) + DRAIN_MARGIN_S
            done = generator.finish(timed.after.body["last_id"], drain_s)
            if stall is not None:
                slow = stall.record(timed.after.body["last_id"])
        finally:
            if stall is not None and slow is None:  # a failed window: hang the consumer up
                stall.consumer.finish(0, 0)
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
        network=None if injector is None else injector.record,
        slow=slow,
    )
    return measure(window)


def fault_injector(
    scenario: Scenario,
    emulator: network.Emulator,
    connection: ServerConnection,
    server: Server,
    affinity: Affinity,
    log: IO[bytes],
    feed_url: str | None = None,
) -> network.FaultInjector:
    """The window's sleep through the emulator; a restart swaps the new process into ``server``.

    On a Redis feed the new process finds the old one's history (issue 13): nothing is lost.
    """

    def restart() -> subprocess.Popen[bytes]:
        new = start_scenario_server(scenario, affinity.server, log, feed_url, port=server.port)
        server.process = new.process
        return new.process

    return network.FaultInjector(scenario, emulator, connection, lambda: server.process, restart)
