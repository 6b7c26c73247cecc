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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from pushlab.bench.analysis import metrics
from pushlab.bench.analysis.network_window import network_columns, old_feed_window
from pushlab.bench.analysis.recovery import NetworkRecord
from pushlab.bench.core.scenario import Part, ScenarioRun, Session
from pushlab.bench.measuring import redis_faults
from pushlab.bench.measuring.processes import read_line, spawn, stop
from pushlab.bench.measuring.sampling import cpu_seconds

EMULATOR_START_TIMEOUT_S = 10.0
EMULATOR_ANSWER_TIMEOUT_S = 5.0
FAULT_AT_FRACTION = 1 / 3
"""The fault comes this far into the window: time before it to see the steady state, after it
to see the recovery."""


@dataclass(frozen=True)
class NetworkPart(Part):
    """A scenario through the emulator: its round trip, and the fault injected in its window."""

    rtt_ms: float = 0.0
    jitter_ms: float = 0.0
    fault: str = ""  # "", "drop", "stall", "restart", or a fault of the feed's Redis
    stall_s: float = 0.0  # stall only
    resume: bool = True  # False: after a reconnect, the clients start from the feed's present

    @property
    def key(self) -> str:
        return "network"

    def _named(self) -> list[tuple[str, str]]:
        """(id part, description part) for each setting."""
        named = [(f"-rtt{self.rtt_ms:g}", f", {self.rtt_ms:g} ms RTT")]
        if self.jitter_ms:
            named.append((f"-j{self.jitter_ms:g}", f" + 0–{self.jitter_ms:g} ms jitter"))
        if self.fault:
            stall = f"{self.stall_s:g}" if self.fault.endswith("stall") else ""
            words = f", {self.fault}" + (f" {stall} s" if stall else "")
            named.append((f"-{self.fault}{stall}", words))
        if not self.resume:
            named.append(("-noresume", ", no resume"))
        return named

    def id_suffix(self) -> str:
        """``-rtt100-j10``, ``-rtt0-drop``, ``-rtt0-stall2-noresume``."""
        return "".join(part for part, _words in self._named())

    def words(self) -> str:
        """``, 100 ms RTT + 0–10 ms jitter``, ``, 0 ms RTT, stall 2 s``."""
        return "".join(words for _part, words in self._named())

    def generator_args(self) -> list[str]:
        return [] if self.resume else ["--no-resume"]

    def session(self, run: ScenarioRun) -> Session:
        return NetworkSession(self, run)

    def narrow(self, window: Any) -> Any:
        return old_feed_window(window, window.records.get(self.key))

    def columns(self, reduced: Any) -> dict[str, Any]:
        return network_columns(reduced, self, reduced.original.records.get(self.key))


class Emulator:
    """The ``python -m pushlab.netem`` child and its line protocol."""

    def __init__(self, part: NetworkPart, target: str, cpus: frozenset[int], log: IO[bytes]):
        args = ["--target", target, "--rtt-ms", f"{part.rtt_ms:g}"]
        args += ["--jitter-ms", f"{part.jitter_ms:g}"]
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


class NetworkSession(Session):
    """The emulator in front of the server for the whole run; the fault inside the window,
    a third of the way in, on the harness's thread (``during``)."""

    def __init__(self, part: NetworkPart, run: ScenarioRun) -> None:
        self.part, self.run = part, run
        self.emulator: Emulator | None = None
        self.result: NetworkRecord | None = None

    @contextlib.contextmanager
    def path(self, url: str) -> Iterator[str]:
        self.emulator = Emulator(
            self.part, url.removeprefix("http://"), self.run.harness_cpus(), self.run.log
        )
        try:
            yield self.emulator.url
        finally:
            stop(self.emulator.process)

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        """The emulator's counters and CPU over the window; the fault comes in ``during``."""
        assert self.emulator is not None
        emulator = self.emulator
        counted_before = self.counters()
        cpu_before, clock_before = cpu_seconds(emulator.pid), time.monotonic()
        self.times: dict[str, Any] = {}
        yield
        cpu = metrics.cpu_percent(
            cpu_seconds(emulator.pid) - cpu_before, time.monotonic() - clock_before
        )
        counted = {name: n - counted_before[name] for name, n in self.counters().items()}
        self.result = NetworkRecord(cpu, counted, self.part.fault, **self.times)

    def during(self, duration_s: float) -> list[tuple[float, Callable[[], None]]]:
        """The fault, a third of the way into the window, on the harness's own thread (a
        restarted server is its child: started from a helper thread, it would be killed when
        that thread ends)."""
        if not self.part.fault:
            return []
        return [(duration_s * FAULT_AT_FRACTION, lambda: self.times.update(self.inject()))]

    def record(self, last_id: int) -> NetworkRecord | None:
        return self.result

    def counters(self) -> dict[str, int]:
        assert self.emulator is not None
        answer = self.emulator.command("counters")
        return {name: n for name, n in answer.items() if name not in ("event", "at")}

    def inject(self) -> dict[str, Any]:
        """The part's fault, now: when it began and ended (and, for a restart, the feeds)."""
        assert self.emulator is not None
        if self.part.fault == "drop":
            at = self.emulator.command("drop")["at"]
            return {"fault_at": at, "fault_ended_at": at}
        if self.part.fault == "stall":
            at = self.emulator.command("stall")["at"]
            time.sleep(self.part.stall_s)
            return {"fault_at": at, "fault_ended_at": self.emulator.command("release")["at"]}
        if self.part.fault.startswith("redis-"):
            return self.fault_redis()
        crash = self.run.stats()  # restart: SIGKILL, no goodbye to any client, as in a crash
        at = time.time()
        self.run.restart_server(signal.SIGKILL)
        reborn = self.run.stats()
        self.run.set_publisher(self.run.scenario.publish_rate)
        return {
            "fault_at": at,
            "fault_ended_at": time.time(),
            "crash_stats": crash,
            "reborn_stats": reborn,
        }

    def fault_redis(self) -> dict[str, Any]:
        """A fault of the feed's Redis (``redis_faults.py``), while the server and the clients
        go on: a crash with or without its data, or a stall. The server's ``/stats`` before and
        after say which feed the window's messages belong to."""
        server = self.run.redis_server()
        if server is None:
            raise RuntimeError(f"{self.part.fault}: the run has no redis-server of its own")
        crash = self.run.stats()
        at = time.time()
        if self.part.fault == "redis-stall":
            with redis_faults.redis_stalled(server):
                time.sleep(self.part.stall_s)  # the stall's length is the fault itself
        else:
            redis_faults.redis_restart(server, keep_data=self.part.fault == "redis-restart")
        ended = time.time()
        return {"fault_at": at, "fault_ended_at": ended, "crash_stats": crash}
