"""The measurement window: opened and closed by two ``/stats`` snapshots, on the harness's clock.

The harness (``harness.py``) owns the server; this module owns the load generator's child and
the timing between the snapshots: the
window is every message published between the snapshots, every server counter is their
difference, and the harness's own ``/stats`` exchanges inside it are counted so that
``bench/analysis/measurement.py`` can take them out.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from pushlab import techniques
from pushlab.bench.analysis import metrics
from pushlab.bench.core.scenario import Scenario
from pushlab.bench.core.window import WindowOverhead
from pushlab.bench.measuring.arguments import DRAIN_LIMIT_S
from pushlab.bench.measuring.distributed import RemoteWorkers, generator_module
from pushlab.bench.measuring.processes import spawn
from pushlab.bench.measuring.sampling import ProcessSampler, busiest_cpu_seconds, busiest_delta
from pushlab.bench.measuring.stats_connection import Exchange, ServerConnection

MIN_MESSAGES_MEASURED = 2
"""A window with fewer messages is extended (Poisson arrivals can leave a short one empty)."""
SERVER_COUNT_TIMEOUT_S = 10.0
PROGRESS_GRACE_S = 30.0
"""A generator that reports progress (clients connected so far) gets this long again to be
ready: starting its clients may take longer than a fixed timeout (a browser's pages)."""


class Generator:
    """The ``python -m pushlab.bench.measuring.generator`` child and its line protocol."""

    def __init__(
        self,
        scenario: Scenario,
        url: str,  # where the clients connect: the server, or what a part put in front of it
        cpus: frozenset[int],
        raw: Path,
        log: IO[bytes],
        remote: RemoteWorkers | None = None,
    ) -> None:
        args = [scenario.technique, "--host", url, "--clients", str(scenario.clients)]
        args += ["--out", str(raw), "--connect-timeout", f"{connect_timeout_s(scenario.clients):g}"]
        if scenario.poll_interval is not None:
            args += ["--poll-interval", f"{scenario.poll_interval:g}"]
        if scenario.hold_s is not None:
            args += ["--hold", f"{scenario.hold_s:g}"]
        for part in scenario.parts:
            args += part.generator_args()
        module, extra = generator_for(scenario, remote)
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
            if message["event"] == "progress":  # still connecting clients: not stuck
                deadline = max(deadline, time.monotonic() + PROGRESS_GRACE_S)
            if message["event"] == "waiting":  # --generator-master: workers start elsewhere
                print(
                    f"Waiting for {message['workers']} Locust workers: {message['command']}",
                    flush=True,
                )
            if message["event"] == "exit":
                raise RuntimeError(f"the generator exited before {event!r} (see its log)")

    def finish(self, last_id: int, drain_s: float, feed_id: str = "") -> dict[str, Any]:
        """Stop the window at ``last_id`` of feed ``feed_id`` and wait for the drain's account."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"stop {last_id} {drain_s:g} {feed_id}".strip().encode() + b"\n")
        self.process.stdin.flush()
        done = self.wait_for("done", DRAIN_LIMIT_S + 60)
        self.process.wait(timeout=30)
        return done


def generator_for(scenario: Scenario, remote: RemoteWorkers | None) -> tuple[str, list[str]]:
    """The generator's module and extra options: a part's own (its clients are not Locust's;
    one process, no workers), else Locust's, alone or as a master with workers."""
    own = [module for part in scenario.parts if (module := part.generator_module()) is not None]
    if len(own) > 1:
        raise ValueError(f"{scenario.id}: two parts bring their own clients: {own}")
    return (own[0], []) if own else generator_module(scenario, remote)


def connect_timeout_s(clients: int) -> float:
    return 20.0 + clients / 100


@dataclass(frozen=True)
class TimedWindow:
    """The two snapshots of one window, and the clocks read around them."""

    before: Exchange
    after: Exchange
    overhead: WindowOverhead
    opened_at: float  # epoch s, just after the opening snapshot
    start_monotonic: float
    generator_cpu_percent: float
    closed_at: float  # epoch s, just after the closing snapshot


def time_window(
    scenario: Scenario,
    connection: ServerConnection,
    generator: Generator,
    sampler: ProcessSampler,
    wait: Callable[[float], None] = time.sleep,  # the fault sweep injects its fault in it
) -> TimedWindow:
    """Open the window with a snapshot, wait its duration, close it with another."""
    sampler.phase = "measure"
    generator_cpu_before, clock_before = busiest_cpu_seconds(generator.pid), time.monotonic()
    before = connection.stats()
    opened_at = time.time()
    wait(scenario.duration_s)
    after, overhead = close_window(connection, before, scenario)
    closed_at = time.time()
    generator_cpu = busiest_delta(generator_cpu_before, busiest_cpu_seconds(generator.pid))
    generator_wall = time.monotonic() - clock_before
    return TimedWindow(
        before,
        after,
        overhead,
        opened_at,
        clock_before,
        metrics.cpu_percent(generator_cpu, generator_wall),
        closed_at,
    )


def load_deliveries(raw_path: Path) -> dict[str, np.ndarray]:
    """The generator's ``.npz``: every delivery and every user, as arrays."""
    with np.load(raw_path) as raw:
        return {key: raw[key] for key in raw.files}


def close_window(
    connection: ServerConnection, before: Exchange, scenario: Scenario
) -> tuple[Exchange, WindowOverhead]:
    """Take the closing snapshot; if fewer than ``MIN_MESSAGES_MEASURED`` messages were
    published (Poisson arrivals can leave a short window empty), extend the window in steps
    (whole poll intervals for polling) for up to its planned duration, plus one step. A
    scenario that publishes nothing is never extended.

    The opening snapshot's answer, and every later question (and every answer but the last),
    crossed the server's sockets inside the window: the harness takes them out of the counts.
    """
    step_s = scenario.poll_interval or 0.25
    deadline = time.monotonic() + scenario.duration_s
    started = time.monotonic()
    bytes_in, bytes_out = 0, before.bytes_received
    after = connection.stats()
    published = after.body["last_id"] - before.body["last_id"]
    # Nothing to wait for where nothing is published (the saturation sweep's empty answers).
    extend = scenario.publish_rate > 0 and published < MIN_MESSAGES_MEASURED
    while extend:
        bytes_in, bytes_out = bytes_in + after.bytes_sent, bytes_out + after.bytes_received
        time.sleep(step_s)
        after = connection.stats()
        enough = after.body["last_id"] - before.body["last_id"] >= MIN_MESSAGES_MEASURED
        if enough or time.monotonic() + step_s > deadline:
            # One more step, so that the message that ended the wait is delivered inside
            # the window too (a polling client hears of it at its next poll).
            bytes_in, bytes_out = bytes_in + after.bytes_sent, bytes_out + after.bytes_received
            time.sleep(step_s)
            after = connection.stats()
            extend = False
    bytes_in += after.bytes_sent
    return after, WindowOverhead(bytes_in, bytes_out, time.monotonic() - started)


def wait_for_server_count(connection: ServerConnection, scenario: Scenario, clients: int) -> bool:
    """For held requests and open streams, the server's own count must reach the clients'."""
    if not techniques.behaviour(scenario.technique).holds_request:
        return True
    deadline = time.monotonic() + SERVER_COUNT_TIMEOUT_S
    while time.monotonic() < deadline:
        if connection.stats().body["clients_connected"] >= clients:
            return True
        time.sleep(0.05)
    return False
