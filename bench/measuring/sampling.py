"""Watching a process from outside with psutil: CPU, memory, file descriptors, connections."""

from __future__ import annotations

import contextlib
import os
import threading
import time

import psutil

from pushlab.bench.core.window import Sample

SAMPLE_HZ = 5.0


class ProcessSampler:
    """Samples one process ``hz`` times a second in a background thread.

    ``phase`` labels each sample (``connect``, ``warmup``, ``measure``, ``drain``) so the
    window's samples can be picked out afterwards.
    """

    def __init__(self, pid: int, hz: float = SAMPLE_HZ) -> None:
        self.process = psutil.Process(pid)
        self.period_s = 1.0 / hz
        self.phase = "connect"
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sampler-{pid}", daemon=True)

    def start(self) -> None:
        self.process.cpu_percent(None)  # the first call only sets the reference point
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                with self.process.oneshot():
                    sample = Sample(
                        monotonic=time.monotonic(),
                        phase=self.phase,
                        cpu_percent=self.process.cpu_percent(None),
                        rss_mb=self.process.memory_info().rss / 2**20,
                        num_fds=self.process.num_fds(),
                        num_connections=open_sockets(self.process.pid),
                    )
            except psutil.Error:
                return  # the process is gone
            self.samples.append(sample)
            next_at += self.period_s
            self._stop.wait(max(next_at - time.monotonic(), 0.0))

    def in_phase(self, phase: str) -> list[Sample]:
        return [sample for sample in self.samples if sample.phase == phase]


def open_sockets(pid: int) -> int:
    """The sockets a process holds open, from its file descriptors: its connections and
    listeners, and the few of its own (asyncio's self-pipe is a socket pair). Not psutil's
    ``net_connections``: that parses every socket of the machine (the clients' ends too) and
    maps them back to the process, and at 5 Hz with 1,000 clients it took a third of a core:
    the harness's core, which is the generator's."""
    fd_dir = f"/proc/{pid}/fd"
    if not os.path.isdir(fd_dir):  # not Linux: the slow, portable way
        return len(psutil.Process(pid).net_connections(kind="all"))
    count = 0
    try:
        with os.scandir(fd_dir) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):  # closed since it was listed
                    count += os.readlink(entry.path).startswith("socket:")
    except OSError as gone:
        raise psutil.NoSuchProcess(pid) from gone
    return count


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def busiest_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of a process and of each of its children (Locust's master and workers)."""
    process = psutil.Process(pid)
    found = {pid: cpu_seconds(pid)}
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            found[child.pid] = times.user + times.system
    return found


def busiest_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """The CPU seconds of the busiest process between two readings: a generator of N
    processes is at its limit when one of them is, not when their sum reaches a core."""
    return max((seconds - before.get(pid, 0.0) for pid, seconds in after.items()), default=0.0)


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20
