"""Run scenarios: a server and a load generator per scenario, each on its own CPU.

For one scenario the harness

1. starts the technique's server (``python -m servers``, publisher off) pinned to one CPU, and
   the Locust generator (``python -m bench.measuring.generator``) pinned to the other;
2. waits until every client is connected: the generator says all its users can hear news, and
   for long polling, WebSocket and SSE the server's own count of held requests or open
   streams agrees;
3. turns the publisher on, warms up, then opens the measurement window with a ``/stats``
   snapshot and closes it with another: the window is every message published in between,
   and every server counter is the difference of the two snapshots;
4. turns the publisher off, lets the generator drain (every client receives the window's last
   message), stops everything, and computes the row with ``bench/metrics.py``.

Children run in their own sessions and die with the harness (``PR_SET_PDEATHSIG``); every exit
path, Ctrl-C included, stops them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from pushlab.bench.analysis import metrics
from pushlab.bench.measuring.sampling import ProcessSampler, cpu_seconds, rss_mb
from pushlab.bench.measuring.scenarios import Scenario

SERVER_START_TIMEOUT_S = 20.0
DRAIN_MARGIN_S = 3.0
MIN_MESSAGES_MEASURED = 2
STOP_TIMEOUT_S = 5.0
_LIVE_CHILDREN: set[subprocess.Popen[Any]] = set()


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


# --- Child processes ------------------------------------------------------------------------


ORPHAN_GUARD = """
import ctypes, os, runpy, signal, sys
try:  # PR_SET_PDEATHSIG: get SIGTERM when the harness dies, even by SIGKILL (Linux only)
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)
except (AttributeError, OSError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit("the harness is already gone")
sys.argv = [sys.argv[2], *sys.argv[3:]]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""
"""Runs ``python -m MODULE ARGS`` in a child that dies with the harness. Done after exec, not
in ``preexec_fn``, which is unsafe in a process with threads (a child can deadlock between
fork and exec, holding the harness's stdout open)."""


def spawn(
    module: str, args: list[str], cpus: frozenset[int], log: IO[bytes], *, stdin: bool = False
) -> subprocess.Popen[bytes]:
    """``python -m module args...`` in its own session, pinned to ``cpus``."""
    command = [sys.executable, "-c", ORPHAN_GUARD, str(os.getpid()), module, *args]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,  # Ctrl-C reaches the harness only; it stops the children
    )
    _LIVE_CHILDREN.add(process)
    with contextlib.suppress(OSError):
        os.sched_setaffinity(process.pid, cpus)
    return process


def stop(process: subprocess.Popen[Any], first_signal: int = signal.SIGINT) -> None:
    """Ask politely, then firmly, then kill; always reap."""
    for signum in (first_signal, signal.SIGTERM):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
    if process.poll() is None:
        process.kill()
        process.wait()
    # Close stdin only. stdout may be mid-read in a pump thread that holds the reader's lock:
    # closing it here could block the main thread where no Ctrl-C reaches it. The thread sees
    # end-of-file now that the child is gone, and the file closes when it is collected.
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    _LIVE_CHILDREN.discard(process)


def stop_all_children() -> None:
    for process in list(_LIVE_CHILDREN):
        stop(process)


def read_line(stream: IO[bytes], timeout_s: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            raise TimeoutError(f"no output within {timeout_s:g} s")
    return stream.readline().decode()


def copy_rest(stream: IO[bytes], log: IO[bytes]) -> None:
    """Keep a child's stdout flowing into its log (a full pipe would block the child)."""

    def pump() -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in stream:
                log.write(line)
                log.flush()

    threading.Thread(target=pump, daemon=True).start()


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
    technique: str, arrivals: str, cpus: frozenset[int], log: IO[bytes], publish_rate: float = 0
) -> Server:
    args = [technique, "--port", "0", "--rate", f"{publish_rate:g}", "--arrivals", arrivals]
    process = spawn("pushlab.servers", args, cpus, log)
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


class ServerConnection:
    """One kept-alive HTTP/1.1 connection for ``/stats`` and ``/publisher``.

    Hand-made so that the bytes it exchanges are known exactly: the server's meter counts
    them too, and the harness takes them out of the window's byte counts. One connection for
    the whole scenario adds nothing to ``tcp_connections_opened``.
    """

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.host = f"{host}:{port}"
        self.buffer = b""

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Exchange:
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        sent = head.encode() + b"\r\n" + payload
        self.sock.sendall(sent)
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        header_end = self.buffer.index(b"\r\n\r\n") + 4
        headers = self.buffer[:header_end].decode("latin-1").lower()
        length = int(headers.split("content-length:", 1)[1].split("\r\n", 1)[0])
        while len(self.buffer) < header_end + length:
            self._receive()
        response = self.buffer[: header_end + length]
        self.buffer = self.buffer[header_end + length :]
        return Exchange(json.loads(response[header_end:]), len(sent), len(response))

    def _receive(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the stats connection")
        self.buffer += chunk

    def stats(self) -> Exchange:
        return self.request("GET", "/stats")

    def set_publisher(self, publish_rate: float, arrivals: str, seed: int | None = None) -> None:
        body: dict[str, Any] = {"publish_rate": publish_rate, "arrivals": arrivals}
        if seed is not None:
            body["seed"] = seed
        self.request("POST", "/publisher", body)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@dataclass(frozen=True)
class Exchange:
    body: dict[str, Any]
    bytes_sent: int
    bytes_received: int


class Generator:
    """The ``python -m bench.measuring.generator`` child and its line protocol."""

    def __init__(
        self, scenario: Scenario, server: Server, cpus: frozenset[int], raw: Path, log: IO[bytes]
    ) -> None:
        args = [scenario.technique, "--host", server.url, "--clients", str(scenario.clients)]
        args += ["--out", str(raw), "--connect-timeout", f"{connect_timeout_s(scenario.clients):g}"]
        if scenario.poll_interval is not None:
            args += ["--poll-interval", f"{scenario.poll_interval:g}"]
        self.process = spawn("pushlab.bench.measuring.generator", args, cpus, log, stdin=True)
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


@dataclass
class Measurement:
    """Everything one scenario produced, before it is reduced to a row."""

    scenario: Scenario
    row: dict[str, Any]
    latency_ms: np.ndarray
    receive_ts: np.ndarray
    user: np.ndarray
    message_id: np.ndarray
    server_samples: list[dict[str, float | str]]


@contextlib.contextmanager
def scenario_processes(
    scenario: Scenario, affinity: Affinity, work_dir: Path
) -> Iterator[tuple[Server, Path, IO[bytes]]]:
    """The server of one scenario, stopped whatever happens."""
    log_dir = work_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{scenario.id}.log").open("wb") as log:
        server = start_server(scenario.technique, scenario.arrivals, affinity.server, log)
        try:
            yield server, log_dir, log
        finally:
            stop(server.process)


def run_scenario(scenario: Scenario, affinity: Affinity, work_dir: Path) -> Measurement:
    raw_path = work_dir / "raw" / f"{scenario.id}.npz"
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    with scenario_processes(scenario, affinity, work_dir) as (server, _log_dir, log):
        connection = ServerConnection(server.host, server.port)
        sampler = ProcessSampler(server.pid)
        generator: Generator | None = None
        try:
            baseline_rss_mb = rss_mb(server.pid)
            sampler.start()
            generator = Generator(scenario, server, affinity.generator, raw_path, log)
            ready = generator.wait_for("ready", connect_timeout_s(scenario.clients) + 30)
            server_count_ok = wait_for_server_count(connection, scenario, ready["connected"])

            sampler.phase = "warmup"
            connection.set_publisher(
                scenario.publish_rate, scenario.arrivals, scenario.arrival_seed
            )
            time.sleep(scenario.warmup_s)

            sampler.phase = "measure"
            generator_cpu_before, clock_before = cpu_seconds(generator.pid), time.monotonic()
            before = connection.stats()
            window_opened_at = time.time()
            time.sleep(scenario.duration_s)
            after, overhead = close_window(connection, before, scenario)
            generator_cpu = cpu_seconds(generator.pid) - generator_cpu_before
            generator_wall = time.monotonic() - clock_before
            window_start_monotonic = clock_before

            sampler.phase = "drain"
            connection.set_publisher(0, scenario.arrivals)
            drain_s = (scenario.poll_interval or 0) + DRAIN_MARGIN_S
            done = generator.finish(after.body["last_id"], drain_s)
        finally:
            sampler.stop()
            connection.close()
            if generator is not None:
                stop(generator.process, signal.SIGTERM)
    with np.load(raw_path) as raw:
        deliveries = {key: raw[key] for key in raw.files}
    return summarise(
        scenario,
        before,
        after,
        deliveries,
        generator_cpu_percent=metrics.cpu_percent(generator_cpu, generator_wall),
        window_opened_at=window_opened_at,
        window_start_monotonic=window_start_monotonic,
        baseline_rss_mb=baseline_rss_mb,
        sampler=sampler,
        overhead=overhead,
        generator_report={**done, "ready": ready, "server_count_ok": server_count_ok},
    )


@dataclass(frozen=True)
class WindowOverhead:
    """Bytes of the harness's own ``/stats`` exchanges that the server metered in the window."""

    bytes_in: int
    bytes_out: int
    extended_s: float


def close_window(
    connection: ServerConnection, before: Exchange, scenario: Scenario
) -> tuple[Exchange, WindowOverhead]:
    """Take the closing snapshot; if fewer than ``MIN_MESSAGES_MEASURED`` messages were
    published (Poisson arrivals can leave a short window empty), extend the window in steps
    (whole poll intervals for polling) for up to its planned duration, plus one step.

    The opening snapshot's answer, and every later question (and every answer but the last),
    crossed the server's sockets inside the window: the harness takes them out of the counts.
    """
    step_s = scenario.poll_interval or 0.25
    deadline = time.monotonic() + scenario.duration_s
    started = time.monotonic()
    bytes_in, bytes_out = 0, before.bytes_received
    after = connection.stats()
    extend = after.body["last_id"] - before.body["last_id"] < MIN_MESSAGES_MEASURED
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
    if scenario.technique == "polling":
        return True
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if connection.stats().body["clients_connected"] >= clients:
            return True
        time.sleep(0.05)
    return False


def summarise(
    scenario: Scenario,
    before: Exchange,
    after: Exchange,
    deliveries: dict[str, np.ndarray],
    *,
    generator_cpu_percent: float,
    window_opened_at: float,
    window_start_monotonic: float,
    baseline_rss_mb: float,
    sampler: ProcessSampler,
    overhead: WindowOverhead,
    generator_report: dict[str, Any],
) -> Measurement:
    delta = metrics.stats_delta(before.body, after.body)
    bytes_in = delta["bytes_in"] - overhead.bytes_in  # less the harness's own /stats traffic
    bytes_out = delta["bytes_out"] - overhead.bytes_out
    window_s = delta["uptime_s"]
    after_id, last_id = int(before.body["last_id"]), int(after.body["last_id"])

    connected_at = deliveries["connected_at"]
    expected = {
        int(number)
        for number, at in zip(deliveries["user_number"], connected_at, strict=True)
        if not math.isnan(at) and at <= window_opened_at
    }
    user, message_id = deliveries["user"], deliveries["message_id"]
    check = metrics.check_sequences(user, message_id, after_id, last_id, expected)
    counted = metrics.first_receipts_in_window(user, message_id, after_id, last_id)
    latency = metrics.latency_ms(deliveries["ts"][counted], deliveries["received_at"][counted])
    latencies = metrics.latency_summary(latency)

    # Requests are counted where they are answered, not where they arrive: long polls held
    # across either snapshot would otherwise tilt the counts by up to one request per client
    # (1.13 requests per message at 1,000 clients, and a request rate to match).
    requests = metrics.answered_requests(
        scenario.technique,
        delta["requests"],
        before.body["clients_connected"],
        after.body["clients_connected"],
    )
    requests_per_s = metrics.ratio(requests, window_s)
    target = metrics.target_request_rate(
        scenario.technique, scenario.clients, scenario.poll_interval
    )
    saturated = metrics.generator_saturated(generator_cpu_percent, target, requests_per_s)
    achieved = metrics.load_achieved(scenario.clients, len(expected), target, requests_per_s)

    measured = sampler.in_phase("measure")
    rss_window_mb = float(np.mean([s.rss_mb for s in measured])) if measured else math.nan
    # Per-message costs divide the server's counters by the server's own count of deliveries
    # in the same window: both sides of the ratio then share the same two snapshots, so a
    # message published just before the window opened cannot add its re-asks to the window
    # without its deliveries (long polling at 1,000 clients showed 1.16 otherwise).
    delivered = int(delta["messages_delivered"])
    notes = scenario_notes(
        scenario, generator_report, deliveries, target, requests_per_s, generator_cpu_percent
    )
    if overhead.extended_s >= 0.2:
        extension = f"window extended by {overhead.extended_s:.1f} s to hold a message or two"
        notes = "; ".join(filter(None, [notes, extension]))
    row: dict[str, Any] = {
        "sweep": "",
        "scenario": scenario.id,
        "technique": scenario.technique,
        "clients": scenario.clients,
        "publish_rate": scenario.publish_rate,
        "poll_interval": scenario.poll_interval,
        "arrivals": scenario.arrivals,
        "duration_s": round(window_s, 3),
        "messages_published": last_id - after_id,
        "messages_delivered": check.delivered,
        "server_deliveries": delivered,
        "clients_connected": len(expected),
        "requests_per_s": requests_per_s,
        "requests_per_message": metrics.per_message(requests, delivered),
        "empty_fraction": metrics.ratio(delta["empty_responses"], requests),
        "latency_mean_ms": latencies.mean_ms,
        "latency_p50_ms": latencies.p50_ms,
        "latency_p95_ms": latencies.p95_ms,
        "latency_p99_ms": latencies.p99_ms,
        "latency_max_ms": latencies.max_ms,
        "bytes_in_per_s": metrics.ratio(bytes_in, window_s),
        "bytes_out_per_s": metrics.ratio(bytes_out, window_s),
        "bytes_per_message": metrics.per_message(bytes_in + bytes_out, delivered),
        "tcp_connections_opened": int(delta["tcp_connections_opened"]),
        "server_cpu_percent": metrics.cpu_percent(delta["process_cpu_s"], window_s),
        "cpu_us_per_message": metrics.per_message(delta["process_cpu_s"] * 1e6, delivered),
        "rss_mb": rss_window_mb,
        "rss_kb_per_client": (rss_window_mb - baseline_rss_mb) * 1024 / scenario.clients,
        "missed": check.missed,
        "duplicated": check.duplicated,
        "reordered": check.reordered,
        "generator_cpu_percent": generator_cpu_percent,
        "generator_saturated": saturated,
        "load_achieved": achieved,
        "target_requests_per_s": target,
        "notes": notes,
    }
    samples = [
        {
            "t": round(s.monotonic - window_start_monotonic, 3),
            "phase": s.phase,
            "cpu_percent": s.cpu_percent,
            "rss_mb": round(s.rss_mb, 3),
            "num_fds": s.num_fds,
            "num_connections": s.num_connections,
        }
        for s in sampler.samples
    ]
    return Measurement(
        scenario,
        row,
        latency,
        deliveries["received_at"][counted],
        user[counted],
        message_id[counted],
        samples,
    )


def scenario_notes(
    scenario: Scenario,
    report: dict[str, Any],
    deliveries: dict[str, np.ndarray],
    target: float,
    achieved: float,
    generator_cpu_percent: float,
) -> str:
    """What a reader of the row should know: flags spelled out, and anything odd."""
    notes = []
    if generator_cpu_percent >= metrics.GENERATOR_CPU_LIMIT_PERCENT:
        notes.append(f"generator CPU {generator_cpu_percent:.0f}% of a core")
    if not metrics.rate_achieved(target, achieved):
        notes.append(f"polls {achieved:.0f}/s of {target:.0f}/s asked")
    ready = report.get("ready", {})
    if ready.get("timed_out"):
        notes.append(f"only {ready.get('connected')}/{scenario.clients} clients connected in time")
    if not report.get("server_count_ok", True):
        notes.append("the server counted fewer connected clients than the generator")
    if not report.get("drained", True):
        notes.append("not every client received the window's last message before the drain ended")
    disconnects = int(np.sum(deliveries["disconnects"]))
    if disconnects:
        notes.append(f"{disconnects} disconnects")
    failures = sum(
        failed
        for name, (_count, failed) in report.get("requests", {}).items()
        if not name.startswith("DELIVER")
    )
    if failures:
        notes.append(f"{failures} failed requests ({'; '.join(report.get('errors', [])[:2])})")
    return "; ".join(notes)
