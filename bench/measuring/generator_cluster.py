"""The load generator as Locust's master and workers (Locust's distributed mode), in the same
line protocol as ``generator.py``:

    python -m pushlab.bench.measuring.generator_cluster sse --host http://127.0.0.1:8004 \
        --clients 10000 --processes 2 --out raw.npz          # master + 2 local workers
    python -m pushlab.bench.measuring.generator_cluster sse --host … --worker \
        --master-host HOST --master-port PORT                 # one more worker, anywhere

Locust's master spreads the users over the workers; every delivery is logged in its worker
(``DeliveryLog``), and the master sees only Locust's aggregated statistics. pushlab's raw
data travels on Locust's own channel, as custom messages:

- each worker sends ``pushlab_status`` (users connected, the lowest cursor) four times a second:
  the master knows when every client can hear news, and when the drain is over;
- the master sends ``pushlab_stop`` (the window's last id and feed, the drain's limit); each worker
  drains, then sends ``pushlab_done`` with its raw arrays, which the master merges into one
  ``.npz`` (user numbers made unique per worker).

**Clocks.** Latency is receive time − the server's publish time, two clocks when a worker runs
elsewhere. Before it starts, each worker asks the server's ``/stats`` (``server_time``)
``CLOCK_ROUNDS`` times and keeps the fastest round trip, like NTP: ``offset = server_time −
midpoint``, uncertain by half that round trip. Its receive times are moved to the server's clock
by the offset when it exceeds that uncertainty, and both travel with its data
(``clock_offset_s``, ``clock_uncertainty_s``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import gevent
import gevent.event
import numpy as np
from locust.env import Environment  # importing Locust patches sockets for gevent

from pushlab.bench.measuring.arguments import DRAIN_LIMIT_S
from pushlab.bench.measuring.generator import (
    DeliveryLog,
    build_parser,
    configure_users,
    delivery_arrays,
    drain,
    emit,
    locust_counts,
    read_stop,
    running_users,
)
from pushlab.limits import raise_open_files_limit

CLOCK_ROUNDS = 16
STATUS_PERIOD_S = 0.25
USER_NUMBER_STRIDE = 10_000_000  # worker k's users are numbered k·stride + n
WORKERS_JOIN_TIMEOUT_S = 60.0


def clock_offset(host: str, rounds: int = CLOCK_ROUNDS) -> tuple[float, float]:
    """``(offset_s, uncertainty_s)`` of the server's clock from this one (fastest round trip)."""
    best: tuple[float, float] | None = None
    for _ in range(rounds):
        sent = time.time()
        with urllib.request.urlopen(host + "/stats", timeout=10) as answer:
            server_time = json.load(answer)["server_time"]
        received = time.time()
        half_trip = (received - sent) / 2
        if best is None or half_trip < best[1]:
            best = (server_time - (sent + half_trip), half_trip)
    assert best is not None
    return best


def encode(arrays: dict[str, np.ndarray]) -> dict[str, list[Any]]:
    return {name: [array.dtype.str, array.tobytes()] for name, array in arrays.items()}


def decode(payload: dict[str, list[Any]]) -> dict[str, np.ndarray]:
    return {name: np.frombuffer(raw, dtype=dtype) for name, (dtype, raw) in payload.items()}


# --- A worker ------------------------------------------------------------------------------


def run_worker(args: argparse.Namespace) -> int:
    """One Locust worker; its receive times are moved to the server's clock when the measured
    offset is larger than its uncertainty (on one machine it is not: nothing is moved)."""
    offset_s, uncertainty_s = clock_offset(args.host)
    shift_s = offset_s if abs(offset_s) > uncertainty_s else 0.0
    environment = Environment(user_classes=[configure_users(args)])
    log = DeliveryLog()
    log.attach(environment)
    runner = environment.create_worker_runner(args.master_host, args.master_port)
    finished = gevent.event.Event()

    def on_stop(environment: Environment, msg: Any) -> None:
        last_id, drain_s = msg.data["last_id"], msg.data["drain_s"]
        feed_id = msg.data.get("feed_id", "")
        drained = drain(environment, last_id, drain_s, feed_id) if last_id > 0 else True
        arrays = delivery_arrays(log, running_users(environment))
        arrays["received_at"] = arrays["received_at"] + shift_s  # to the server's clock
        arrays["kernel_at"] = arrays["kernel_at"] + shift_s
        arrays["connected_at"] = arrays["connected_at"] + shift_s
        arrays["user"] = arrays["user"] + runner.worker_index * USER_NUMBER_STRIDE
        arrays["user_number"] = arrays["user_number"] + runner.worker_index * USER_NUMBER_STRIDE
        arrays["clock_offset_s"] = np.array([offset_s])
        arrays["clock_uncertainty_s"] = np.array([uncertainty_s])
        data = {"index": runner.worker_index, "drained": drained, "arrays": encode(arrays)}
        runner.send_message("pushlab_done", data)
        finished.set()

    runner.register_message("pushlab_stop", on_stop, concurrent=True)
    while not finished.is_set():
        users = running_users(environment)
        connected = [user for user in users if user.connected_at is not None]
        status = {
            "index": runner.worker_index,
            "connected": len(connected),
            "min_cursor": min((user.cursor for user in connected), default=0),
        }
        if runner.worker_index >= 0:
            runner.send_message("pushlab_status", status)
        finished.wait(STATUS_PERIOD_S)
    gevent.sleep(1.0)  # let the done message leave before the process does
    return 0


# --- The master ----------------------------------------------------------------------------


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def worker_argv(args: argparse.Namespace, master_host: str, master_port: int) -> list[str]:
    return [
        *("-m", "pushlab.bench.measuring.generator_cluster", args.technique, "--host", args.host),
        *("--poll-interval", f"{args.poll_interval:g}", "--hold", f"{args.hold:g}"),
        *("--clients", "0", "--out", os.devnull, "--worker"),
        *("--master-host", master_host, "--master-port", str(master_port)),
    ]


def start_local_workers(args: argparse.Namespace, port: int) -> list[subprocess.Popen[bytes]]:
    """N workers, each pinned to one CPU of the generator's (round robin if fewer)."""
    cpus = sorted(os.sched_getaffinity(0))
    workers = []
    for index in range(args.processes):
        command = [sys.executable, *worker_argv(args, "127.0.0.1", port)]
        worker = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sys.stderr)
        os.sched_setaffinity(worker.pid, {cpus[index % len(cpus)]})
        workers.append(worker)
    return workers


def wait_for(condition: Any, timeout_s: float, progress: Any = None) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        if progress is not None:
            progress()
        gevent.sleep(0.1)
    return True


def run_master(args: argparse.Namespace) -> int:
    expected = args.expect_workers or args.processes
    environment = Environment(user_classes=[configure_users(args)])
    port = free_port(args.master_bind)
    runner = environment.create_master_runner(args.master_bind, port)
    statuses: dict[int, dict[str, Any]] = {}
    results: dict[int, dict[str, Any]] = {}
    runner.register_message(
        "pushlab_status", lambda environment, msg: statuses.update({msg.data["index"]: msg.data})
    )
    runner.register_message(
        "pushlab_done", lambda environment, msg: results.update({msg.data["index"]: msg.data})
    )
    local = [] if args.expect_workers else start_local_workers(args, port)
    if args.expect_workers:
        command = shlex.join(["python", *worker_argv(args, args.master_bind, port)])
        emit("waiting", workers=expected, command=command)
    try:
        if not wait_for(lambda: runner.worker_count >= expected, WORKERS_JOIN_TIMEOUT_S):
            emit("ready", connected=0, clients=args.clients, timed_out=True)
            return 1
        runner.start(args.clients, spawn_rate=args.spawn_rate or max(args.clients, 1.0))

        def connected() -> int:
            return sum(status["connected"] for status in statuses.values())

        all_connected = wait_for(
            lambda: connected() >= args.clients,
            args.connect_timeout,
            lambda: emit("progress", connected=connected(), clients=args.clients),
        )
        emit("ready", connected=connected(), clients=args.clients, timed_out=not all_connected)

        last_id, drain_s, feed_id = read_stop()
        stop = {"last_id": last_id, "drain_s": drain_s, "feed_id": feed_id}
        runner.send_message("pushlab_stop", stop)
        wait_for(lambda: len(results) >= expected, DRAIN_LIMIT_S + 60)
        merged = merge([decode(result["arrays"]) for _, result in sorted(results.items())])
        np.savez(args.out, **merged)
        drained = len(results) >= expected and all(r["drained"] for r in results.values())
        emit(
            "done",
            deliveries=len(merged["user"]),
            drained=drained,
            workers=len(results),
            **locust_counts(environment),
        )
    finally:
        runner.quit()
        for worker in local:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def merge(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The workers' arrays as one generator's (their clock columns: one entry per worker)."""
    if not parts:
        raise RuntimeError("no Locust worker sent its deliveries")
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("python -m pushlab.bench.measuring.generator_cluster")
    parser.add_argument("--processes", type=int, default=0, help="local Locust workers")
    parser.add_argument("--expect-workers", type=int, default=0, help="workers from elsewhere")
    parser.add_argument("--master-bind", default="127.0.0.1")
    parser.add_argument("--worker", action="store_true", help="be one Locust worker")
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    args = parser.parse_args(argv)
    raise_open_files_limit()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("locust.runners").setLevel(logging.ERROR)
    if args.worker:
        return run_worker(args)
    if not (args.processes or args.expect_workers):
        parser.error("give --processes N, --expect-workers K or --worker")
    return run_master(args)


if __name__ == "__main__":
    sys.exit(main())
