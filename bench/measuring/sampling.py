"""Watching a process from outside with psutil: CPU, memory, file descriptors, connections."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
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
                        num_connections=tcp_connections(self.process),
                    )
            except psutil.Error:
                return  # the process is gone
            self.samples.append(sample)
            next_at += self.period_s
            self._stop.wait(max(next_at - time.monotonic(), 0.0))

    def in_phase(self, phase: str) -> list[Sample]:
        return [sample for sample in self.samples if sample.phase == phase]


def tcp_connections(process: psutil.Process) -> int:
    """How many TCP sockets (IPv4 and IPv6, listening ones too) a process holds: what
    ``len(process.net_connections(kind="tcp"))`` counts, for a fraction of its CPU.

    psutil reads ``/proc/net/tcp``, for which the kernel prints every TCP socket of the
    machine, those in TIME_WAIT included: with the thousands a bench leaves behind, 17 ms of
    system time per sample, five samples a second. Here the kernel is asked through netlink
    (``sock_diag``, as ``ss`` asks) for the inodes of the sockets that can belong to a
    process (TIME_WAIT ones have none), and the process's own are counted among them.
    Without netlink (not Linux), psutil counts."""
    try:
        tcp = _tcp_inodes(socket.AF_INET) | _tcp_inodes(socket.AF_INET6)
    except (AttributeError, OSError):  # no AF_NETLINK, or no sock_diag
        return len(process.net_connections(kind="tcp"))
    held = 0
    try:
        for fd in os.scandir(f"/proc/{process.pid}/fd"):
            with contextlib.suppress(OSError):  # an fd closed while we looked
                target = os.readlink(fd.path)
                held += target.startswith("socket:[") and int(target[8:-1]) in tcp
    except FileNotFoundError:
        raise psutil.NoSuchProcess(process.pid) from None
    return held


NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
TCP_STATES_WITH_AN_INODE = 0xFFF & ~(1 << 6)  # TCP_ESTABLISHED … TCP_CLOSING, not TIME_WAIT
NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
INET_DIAG_INODE_AT = NLMSG_HEADER.size + 4 + 48 + 16  # inet_diag_msg: 4 bytes, sockid, 4 u32


def _tcp_inodes(family: int) -> set[int]:
    """The inodes of the machine's TCP sockets of ``family`` (``linux/inet_diag.h``)."""
    request = struct.pack("=BBBxI48x", family, socket.IPPROTO_TCP, 0, TCP_STATES_WITH_AN_INODE)
    header = NLMSG_HEADER.pack(
        NLMSG_HEADER.size + len(request), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0
    )
    inodes: set[int] = set()
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as diag:
        diag.sendall(header + request)
        while True:
            data = diag.recv(1 << 16)
            at = 0
            while at < len(data):
                length, kind = NLMSG_HEADER.unpack_from(data, at)[:2]
                if kind == NLMSG_DONE:
                    return inodes
                if kind == NLMSG_ERROR:
                    raise OSError("sock_diag refused the request")
                inodes.add(struct.unpack_from("=I", data, at + INET_DIAG_INODE_AT)[0])
                at += (length + 3) & ~3


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
