"""``python -m bench``: measure the four techniques on this machine (what ``make bench`` runs).

Every scenario gets a fresh server process pinned to one CPU and a Locust generator pinned to
the other; see ``bench/harness.py`` for how a scenario runs and ``bench/scenarios.py`` for the
matrix. Results go to ``results/<UTC timestamp>/`` (``results/latest`` points at the newest),
or to ``--out DIR``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import random
import resource
import shlex
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pushlab.bench.measuring import harness
from pushlab.bench.measuring.scenarios import (
    DEFAULT,
    FULL,
    QUICK,
    SWEEPS,
    TECHNIQUES,
    MatrixSettings,
    Scenario,
    build_matrix,
    unique_scenarios,
)
from pushlab.bench.measuring.trace import trace_all
from pushlab.servers.config import ServerConfig

RESULTS_ROOT = Path("results")
MAX_PUBLISH_RATE = ServerConfig.max_publish_rate  # the servers refuse a faster publisher
MIN_PUBLISH_RATE = 0.01  # one message in 100 s: a window then lasts 300 s (three messages)
MIN_POLL_INTERVAL = 0.01
MAX_POLL_INTERVAL = 600
MAX_WINDOW_S = 3600  # no single measurement window longer than an hour
MAX_CLIENTS = 20_000  # four times --full's largest; each client is a socket on both sides

SUMMARY_COLUMNS = [
    "sweep",
    "scenario",
    "technique",
    "clients",
    "publish_rate",
    "poll_interval",
    "arrivals",
    "duration_s",
    "messages_published",
    "messages_delivered",
    "server_deliveries",
    "clients_connected",
    "requests_per_s",
    "target_requests_per_s",
    "requests_per_message",
    "empty_fraction",
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_max_ms",
    "bytes_in_per_s",
    "bytes_out_per_s",
    "bytes_per_message",
    "tcp_connections_opened",
    "server_cpu_percent",
    "cpu_us_per_message",
    "rss_mb",
    "rss_kb_per_client",
    "missed",
    "duplicated",
    "reordered",
    "generator_cpu_percent",
    "generator_saturated",
    "load_achieved",
    "notes",
]


def number_list(kind: type, least: float, most: float) -> Any:
    """Comma-separated numbers, each from ``least`` to ``most`` (nan and inf are refused)."""

    def parse(text: str) -> tuple[Any, ...]:
        try:
            values = tuple(kind(part) for part in text.split(",") if part.strip())
        except ValueError:
            message = f"expected numbers separated by commas: {text!r}"
            raise argparse.ArgumentTypeError(message) from None
        if not values or not all(least <= value <= most for value in values):
            raise argparse.ArgumentTypeError(
                f"expected numbers from {least:g} to {most:g}: {text!r}"
            )
        return values

    return parse


def seconds(least: float, most: float, *, zero_allowed: bool) -> Any:
    """A finite number of seconds in range; ``--duration 0`` is refused, not silently ignored."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        low_ok = value >= least if zero_allowed else value > least
        if not (low_ok and value <= most):  # also false for nan
            bound = "at least" if zero_allowed else "above"
            message = f"expected seconds {bound} {least:g} and at most {most:g}: {text!r}"
            raise argparse.ArgumentTypeError(message)
        return value

    return parse


def name_list(allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}: {text!r}")
        return names

    return parse


def seed_number(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= seed < 2**64:
        raise argparse.ArgumentTypeError(f"a seed is 0 to 2^64 − 1: {text!r}")
    return seed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure polling, long polling, WebSocket and SSE on this machine.",
        epilog="Default matrix (~5 min on 2 cores): the four techniques at 10, 100 and 1,000 "
        "clients at 1 msg/s (polling every 1 s); publish rates 0.2–20 msg/s at 100 clients; "
        "polling every 0.25–4 s at 100 clients. Windows are 6 s after a 1.5 s warm-up "
        "(longer when messages are rare).",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a reduced matrix in about a minute")
    size.add_argument(
        "--full", action="store_true", help="larger: up to 5,000 clients for push, 15 s windows"
    )
    parser.add_argument(
        "--techniques", type=name_list(TECHNIQUES), help="e.g. polling,websocket (default: all)"
    )
    parser.add_argument(
        "--sweeps", type=name_list(SWEEPS), help="clients,rate,interval (default: all three)"
    )
    parser.add_argument(
        "--clients", type=number_list(int, 1, MAX_CLIENTS), help="client counts, e.g. 10,100"
    )
    parser.add_argument(
        "--rates",
        type=number_list(float, MIN_PUBLISH_RATE, MAX_PUBLISH_RATE),
        help="publish rates (msg/s)",
    )
    parser.add_argument(
        "--intervals",
        type=number_list(float, MIN_POLL_INTERVAL, MAX_POLL_INTERVAL),
        help="poll intervals (s)",
    )
    parser.add_argument(
        "--duration", type=seconds(0, 3600, zero_allowed=False), help="measurement window (s)"
    )
    parser.add_argument(
        "--warmup", type=seconds(0, 600, zero_allowed=True), help="warm-up before each window (s)"
    )
    parser.add_argument("--arrivals", choices=("poisson", "periodic"), help="default poisson")
    parser.add_argument(
        "--seed",
        type=seed_number,
        help="seed of the Poisson arrivals, shared by every scenario (default: a new one per "
        "run, printed and kept in environment.json; pass it again to repeat the arrivals)",
    )
    parser.add_argument("--out", type=Path, help="write here instead of results/<timestamp>/")
    parser.add_argument("--no-trace", action="store_true", help="skip recording trace.json")
    parser.add_argument("--no-report", action="store_true", help="skip plots and report.md")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> tuple[str, MatrixSettings]:
    mode = "quick" if args.quick else "full" if args.full else "default"
    settings = {"quick": QUICK, "full": FULL, "default": DEFAULT}[mode]
    changes: dict[str, Any] = {}
    if args.techniques:
        changes["techniques"] = args.techniques
    if args.sweeps:
        changes["sweeps"] = args.sweeps
    if args.clients:
        changes["clients"], changes["push_clients"] = args.clients, ()
    if args.rates:
        changes["rates"] = args.rates
    if args.intervals:
        changes["intervals"] = args.intervals
    if args.duration is not None:
        changes["duration_s"] = args.duration
    if args.warmup is not None:
        changes["warmup_s"] = args.warmup
    if args.arrivals:
        changes["arrivals"] = args.arrivals
    # A seed is drawn even for periodic arrivals (unused there), so every run records one.
    changes["arrival_seed"] = random.randrange(2**32) if args.seed is None else args.seed
    return mode, replace(settings, **changes)


# --- Environment ----------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_commit() -> tuple[str, bool]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False
    return commit, dirty


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def describe_environment(
    mode: str, settings: MatrixSettings, affinity: harness.Affinity
) -> dict[str, Any]:
    commit, dirty = git_commit()
    packages = ("aiohttp", "locust", "gevent", "geventhttpclient", "websocket-client", "psutil")
    return {
        "started_utc": utc_now(),
        "finished_utc": None,
        "command": shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
        "argv": sys.argv,
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "cpus_available": sorted(os.sched_getaffinity(0)),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {name: package_version(name) for name in packages},
        "aiohttp": package_version("aiohttp"),
        "locust": package_version("locust"),
        "git_commit": commit,
        "git_dirty": dirty,
        "affinity": affinity.describe(),
        "cpu_shared": affinity.shared,
        "rlimit_nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
        "mode": mode,
        "matrix": asdict(settings),
        "ws_compress": False,
        "sample_hz": 5,
        "window": "messages published between two /stats snapshots; server counters are their "
        "differences, minus the harness's own /stats exchange (measured exactly)",
        "interrupted": False,
    }


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- Writing results ------------------------------------------------------------------------


def result_dir(out: Path | None) -> Path:
    if out is not None:
        return out
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return RESULTS_ROOT / stamp


def point_latest(run_dir: Path) -> None:
    """``results/latest`` → the newest run (relative, so the tree can be moved)."""
    latest = RESULTS_ROOT / "latest"
    with contextlib.suppress(FileNotFoundError):
        latest.unlink()
    latest.symlink_to(run_dir.name, target_is_directory=True)


def write_measurement(run_dir: Path, measurement: harness.Measurement) -> None:
    scenario_id = measurement.scenario.id
    (run_dir / "latency").mkdir(parents=True, exist_ok=True)
    (run_dir / "server").mkdir(parents=True, exist_ok=True)
    np.savez(
        run_dir / "latency" / f"{scenario_id}.npz",
        latency_ms=measurement.latency_ms.astype(np.float64),
        receive_ts=measurement.receive_ts.astype(np.float64),
        user=measurement.user.astype(np.int64),
        message_id=measurement.message_id.astype(np.int64),
    )
    columns = ["t", "cpu_percent", "rss_mb", "num_fds", "num_connections", "phase"]
    pd.DataFrame(measurement.server_samples, columns=columns).to_csv(
        run_dir / "server" / f"{scenario_id}.csv", index=False
    )


def failed_row(scenario: Scenario, error: BaseException) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS, math.nan)
    row.update(
        scenario=scenario.id,
        technique=scenario.technique,
        clients=scenario.clients,
        publish_rate=scenario.publish_rate,
        poll_interval=scenario.poll_interval,
        arrivals=scenario.arrivals,
        clients_connected=0,
        generator_saturated=False,
        load_achieved=False,
        notes=f"failed: {type(error).__name__}: {error}",
    )
    return row


def write_summary(
    run_dir: Path, matrix: list[tuple[str, Scenario]], rows: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    """One row per (sweep, scenario) measured so far, in matrix order."""
    table, first_sweep = [], {}
    for sweep, scenario in matrix:
        if scenario.id not in rows:
            continue
        row = {**rows[scenario.id], "sweep": sweep}
        if scenario.id in first_sweep:
            shared = f"same measurement as the {first_sweep[scenario.id]} sweep's row"
            row["notes"] = "; ".join(filter(None, [row["notes"], shared]))
        else:
            first_sweep[scenario.id] = sweep
        table.append(row)
    summary = pd.DataFrame(table, columns=SUMMARY_COLUMNS)
    summary.to_csv(run_dir / "summary.csv", index=False)
    return summary


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


# --- Progress -------------------------------------------------------------------------------


def clock(seconds: float) -> str:
    seconds = max(round(seconds), 0)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """The scenario in hand, how many are left, and an ETA from the measured overhead."""

    def __init__(self, scenarios: list[Scenario]) -> None:
        self.scenarios = scenarios
        self.overheads: list[float] = []

    def overhead_s(self, scenario: Scenario) -> float:
        base = 2.5 + scenario.clients / 800
        if not self.overheads:
            return base
        return base + float(np.mean(self.overheads))

    def eta_s(self, index: int) -> float:
        return sum(s.duration_s + s.warmup_s + self.overhead_s(s) for s in self.scenarios[index:])

    def starting(self, index: int) -> None:
        scenario = self.scenarios[index]
        left = len(self.scenarios) - index - 1
        print(
            f"[{index + 1}/{len(self.scenarios)}] {scenario.describe()}"
            f" — {left} left after this, ETA {clock(self.eta_s(index))}",
            flush=True,
        )

    def finished(self, scenario: Scenario, elapsed_s: float) -> None:
        base = 2.5 + scenario.clients / 800
        self.overheads.append(elapsed_s - scenario.duration_s - scenario.warmup_s - base)


def describe_row(row: dict[str, Any], elapsed_s: float) -> str:
    def ms(value: float) -> str:
        return "–" if math.isnan(value) else f"{value:.1f} ms"

    text = (
        f"    {row['clients_connected']}/{row['clients']} connected,"
        f" {row['messages_delivered']} deliveries of {row['messages_published']} messages,"
        f" p50 {ms(row['latency_p50_ms'])}, p99 {ms(row['latency_p99_ms'])},"
        f" {row['requests_per_message']:.2f} req/msg,"
        f" server CPU {row['server_cpu_percent']:.0f}%,"
        f" generator CPU {row['generator_cpu_percent']:.0f}% ({elapsed_s:.1f} s)"
    )
    if row["missed"] or row["duplicated"] or row["reordered"]:
        text += (
            f"\n    missed {row['missed']}, duplicated {row['duplicated']},"
            f" reordered {row['reordered']}"
        )
    if row["generator_saturated"]:
        text += "\n    FLAG: the generator may have been the limit, not the server"
    if not row["load_achieved"]:
        text += "\n    FLAG: the offered load was not achieved"
    if row["notes"]:
        text += f"\n    notes: {row['notes']}"
    return text


# --- The run --------------------------------------------------------------------------------


def record_trace(
    run_dir: Path, techniques: tuple[str, ...], affinity: harness.Affinity, seconds: float
) -> None:
    print("Recording a few seconds of each technique for trace.json …", flush=True)
    servers: dict[str, harness.Server] = {}
    log_dir = run_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "trace.log").open("wb") as log:
        try:
            for technique in techniques:
                servers[technique] = harness.start_server(
                    technique, "periodic", affinity.server, log
                )
            urls = {technique: server.url for technique, server in servers.items()}
            write_json(run_dir / "trace.json", asyncio.run(trace_all(urls, seconds)))
        finally:
            for server in servers.values():
                harness.stop(server.process)


def make_report(run_dir: Path) -> bool:
    if importlib.util.find_spec("pushlab.bench.presentation.report") is None:
        print(
            "bench.presentation.report is not available yet: no plots or report.md this time "
            "(the results directory is complete; run `write_report` on it later).",
            flush=True,
        )
        return True
    from pushlab.bench.presentation.report import write_report

    try:
        write_report(run_dir)
    except Exception:
        traceback.print_exc()
        print(f"writing the report failed; the measurements in {run_dir} are intact.", flush=True)
        return False
    print(f"Report: {run_dir / 'report.md'}", flush=True)
    return True


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: where is it stuck?
    # Ctrl-C must stop the run even when started from a shell that ignores SIGINT for
    # background jobs (Python then keeps SIG_IGN instead of raising KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    mode, settings = settings_from(args)
    matrix = build_matrix(settings)
    scenarios = unique_scenarios(matrix)
    longest = max(scenarios, key=lambda s: s.duration_s)
    if longest.duration_s > MAX_WINDOW_S:
        print(
            f"bench: {longest.describe()} would need a {longest.duration_s:,.0f} s window"
            f" (at most {MAX_WINDOW_S} s): choose a higher rate, shorter interval or duration",
            file=sys.stderr,
        )
        return 2
    run_dir = result_dir(args.out)
    affinity = harness.plan_affinity()
    environment = describe_environment(mode, settings, affinity)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "environment.json", environment)
    except OSError as error:
        print(f"bench: cannot write results to {run_dir}: {error.strerror}", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, affinity.harness)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    print(f"pushlab bench ({mode}): {len(scenarios)} scenarios → {run_dir}", flush=True)
    if affinity.shared:
        print(
            "Only one CPU: server and generator share it, so every figure includes the other's "
            "load.",
            flush=True,
        )
    else:
        print(
            f"Server on CPU {sorted(affinity.server)}, generator on CPU "
            f"{sorted(affinity.generator)}.",
            flush=True,
        )
    if settings.arrivals == "poisson":
        print(
            f"Poisson arrivals from seed {settings.arrival_seed}, the same in every scenario "
            f"(--seed {settings.arrival_seed} repeats them).",
            flush=True,
        )

    started = time.monotonic()
    rows: dict[str, dict[str, Any]] = {}
    progress = Progress(scenarios)
    interrupted = False
    try:
        for index, scenario in enumerate(scenarios):
            progress.starting(index)
            scenario_started = time.monotonic()
            try:
                measurement = harness.run_scenario(scenario, affinity, run_dir)
            except (OSError, RuntimeError, TimeoutError, ValueError, KeyError) as error:
                rows[scenario.id] = failed_row(scenario, error)
                print(f"    FAILED: {type(error).__name__}: {error}", flush=True)
            else:
                write_measurement(run_dir, measurement)
                rows[scenario.id] = measurement.row
                elapsed_s = time.monotonic() - scenario_started
                print(describe_row(measurement.row, elapsed_s), flush=True)
            progress.finished(scenario, time.monotonic() - scenario_started)
            write_summary(run_dir, matrix, rows)
        if not args.no_trace:
            record_trace(run_dir, settings.techniques, affinity, settings.trace_s)
    except KeyboardInterrupt:
        interrupted = True
        print("\nInterrupted: stopping every process; partial results are kept.", flush=True)
    finally:
        harness.stop_all_children()
        environment.update(
            finished_utc=utc_now(),
            wall_time_s=round(time.monotonic() - started, 1),
            interrupted=interrupted,
        )
        write_json(run_dir / "environment.json", environment)
        remove_raw(run_dir)

    summary = write_summary(run_dir, matrix, rows)
    if args.out is None:
        point_latest(run_dir)
    flagged = summary[
        summary["generator_saturated"].astype(bool) | ~summary["load_achieved"].astype(bool)
    ]
    print(
        f"Done in {clock(time.monotonic() - started)}: {len(summary)} rows in "
        f"{run_dir / 'summary.csv'}"
        + (f"; {len(flagged)} flagged (see the notes column)" if len(flagged) else ""),
        flush=True,
    )
    if interrupted:
        return 130
    report_ok = args.no_report or make_report(run_dir)
    return 0 if report_ok else 1


def remove_raw(run_dir: Path) -> None:
    """The generator's raw files: everything in them is now in latency/ and summary.csv."""
    raw = run_dir / "raw"
    if raw.is_dir():
        for file in raw.iterdir():
            file.unlink()
        raw.rmdir()


if __name__ == "__main__":
    sys.exit(main())
