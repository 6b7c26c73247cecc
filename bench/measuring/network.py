"""The emulated network of one scenario, and the fault the harness injects through it.

**Where the emulator runs.** ``pushlab.netem`` runs as a process of its own
(``python -m pushlab.netem``), pinned to the harness's CPU — not the server's, whose every
cycle the row charges to the technique (the server's CPU is read from its own process and its
``/stats``, so the emulator's work is never counted as the server's, and it does not steal the
server's core either); not inside the generator, whose gevent loop it would slow down, nor
inside the harness, whose clocks time the window. Its own CPU is measured over the window
(``netem_cpu_percent``): a row whose emulator was near a full core says so in its notes.
Only the clients' traffic goes through it; the harness's ``/stats`` connection goes straight to
the server, so the window's snapshots are not delayed by the emulated round trip.

**Faults**, once per scenario, a third of the way into the window, while the publisher keeps
publishing: ``drop`` and ``stall`` are commands to the emulator (a stall is released after
``stall_s``); ``restart`` kills the server with SIGKILL — no goodbye to any client, as in a
crash — and starts it again on the same port, with a new, empty feed.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from pushlab.bench.analysis import metrics
from pushlab.bench.analysis.recovery import NetworkRecord
from pushlab.bench.measuring.network_matrix import FAULT_AT_FRACTION
from pushlab.bench.measuring.processes import read_line, spawn, stop
from pushlab.bench.measuring.sampling import cpu_seconds
from pushlab.bench.measuring.scenarios import Scenario
from pushlab.bench.measuring.stats_connection import ServerConnection

EMULATOR_START_TIMEOUT_S = 10.0
EMULATOR_ANSWER_TIMEOUT_S = 5.0


class Emulator:
    """The ``python -m pushlab.netem`` child and its line protocol."""

    def __init__(self, scenario: Scenario, target: str, cpus: frozenset[int], log: IO[bytes]):
        args = ["--target", target, "--rtt-ms", f"{scenario.rtt_ms or 0:g}"]
        args += ["--jitter-ms", f"{scenario.jitter_ms:g}"]
        self.process = spawn("pushlab.netem", args, cpus, log, stdin=True)
        assert self.process.stdout is not None
        try:
            line = read_line(self.process.stdout, EMULATOR_START_TIMEOUT_S)
            if not line.startswith("pushlab netem listening on http://"):
                raise RuntimeError(f"unexpected first line from the emulator: {line!r}")
        except BaseException:
            stop(self.process)
            raise
        self.url = line.strip().rsplit(" ", 1)[-1]

    @property
    def pid(self) -> int:
        return self.process.pid

    def command(self, name: str) -> dict[str, Any]:
        """Send one command; its JSON answer (with ``at``, the emulator's clock, and counters)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{name}\n".encode())
        self.process.stdin.flush()
        return json.loads(read_line(self.process.stdout, EMULATOR_ANSWER_TIMEOUT_S))


@contextlib.contextmanager
def emulated(
    scenario: Scenario, server_url: str, cpus: frozenset[int], log: IO[bytes]
) -> Iterator[Emulator | None]:
    """The scenario's emulator in front of the server (None on loopback), stopped at the end."""
    if scenario.rtt_ms is None:
        yield None
        return
    emulator = Emulator(scenario, server_url.removeprefix("http://"), cpus, log)
    try:
        yield emulator
    finally:
        stop(emulator.process)


@dataclass
class FaultInjector:
    """Sleeps through the window, injecting the scenario's fault at its time; then the record.

    ``restart_server(port)`` starts a new server process on the port and returns it; the
    injector swaps it into ``server_process`` so that whoever stops the old one stops the new.
    """

    scenario: Scenario
    emulator: Emulator
    connection: ServerConnection
    server_process: Callable[[], subprocess.Popen[bytes]]
    restart_server: Callable[[], subprocess.Popen[bytes]]
    record: NetworkRecord | None = None

    def wait(self, duration_s: float) -> None:
        """Used as the window's sleep: the fault a third of the way in, then the rest."""
        counted_before = self.counters()
        cpu_before, clock_before = cpu_seconds(self.emulator.pid), time.monotonic()
        fault_in_s = duration_s * FAULT_AT_FRACTION if self.scenario.fault else duration_s
        time.sleep(fault_in_s)
        fault = {"drop": self.drop, "stall": self.stall, "restart": self.restart}
        times = fault[self.scenario.fault]() if self.scenario.fault else {}
        time.sleep(max(duration_s - (time.monotonic() - clock_before), 0))
        cpu = metrics.cpu_percent(
            cpu_seconds(self.emulator.pid) - cpu_before, time.monotonic() - clock_before
        )
        counted = {name: n - counted_before[name] for name, n in self.counters().items()}
        self.record = NetworkRecord(cpu, counted, self.scenario.fault, **times)

    def counters(self) -> dict[str, int]:
        answer = self.emulator.command("counters")
        return {name: n for name, n in answer.items() if name not in ("event", "at")}

    def drop(self) -> dict[str, Any]:
        at = self.emulator.command("drop")["at"]
        return {"fault_at": at, "fault_ended_at": at}

    def stall(self) -> dict[str, Any]:
        at = self.emulator.command("stall")["at"]
        time.sleep(self.scenario.stall_s)
        return {"fault_at": at, "fault_ended_at": self.emulator.command("release")["at"]}

    def restart(self) -> dict[str, Any]:
        crash = self.connection.stats().body
        process = self.server_process()
        at = time.time()
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.restart_server()
        self.connection.reconnect()
        reborn = self.connection.stats().body
        scenario = self.scenario
        self.connection.set_publisher(
            scenario.publish_rate, scenario.arrivals, scenario.arrival_seed
        )
        return {
            "fault_at": at,
            "fault_ended_at": time.time(),
            "crash_stats": crash,
            "reborn_stats": reborn,
        }
