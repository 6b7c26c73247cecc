"""One bench run: every scenario of the matrix in turn, then the trace and the report.

The results directory is written as the run goes (``summary.csv`` after every scenario), so a
run stopped by Ctrl-C or ``SIGTERM`` still leaves every finished row behind; every child
process is stopped on every way out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import math
import os
import signal
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from pushlab.bench.analysis.environment import describe_environment, utc_now
from pushlab.bench.analysis.measurement import failed_row
from pushlab.bench.analysis.results import (
    new_run_dir,
    point_latest,
    remove_raw,
    write_json,
    write_measurement,
    write_summary,
)
from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.core.matrix import unique_scenarios
from pushlab.bench.core.scenario import MatrixSettings, Scenario
from pushlab.bench.core.sweep import Sweep, chosen
from pushlab.bench.measuring import floor, harness
from pushlab.bench.measuring.processes import stop, stop_all_children
from pushlab.bench.measuring.sampling import SAMPLE_HZ
from pushlab.bench.measuring.scale_out import ScaleOut, redis_for_run, remote_workers
from pushlab.bench.measuring.trace import trace_all

EXIT_INTERRUPTED = 130
EXIT_CANNOT_START = 2

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


def describe_row(row: ResultRow, elapsed_s: float) -> str:
    def ms(value: float) -> str:
        return "–" if math.isnan(value) else f"{value:.1f} ms"

    text = (
        f"    {row.clients_connected}/{row.clients} connected,"
        f" {row.messages_delivered} deliveries of {row.messages_published} messages,"
        f" p50 {ms(row.latency_p50_ms)}, p99 {ms(row.latency_p99_ms)},"
        f" {row.requests_per_message:.2f} req/msg,"
        f" server CPU {row.server_cpu_percent:.0f}%,"
        f" generator CPU {row.generator_cpu_percent:.0f}% ({elapsed_s:.1f} s)"
    )
    if row.missed or row.duplicated or row.reordered:
        text += f"\n    missed {row.missed}, duplicated {row.duplicated}, reordered {row.reordered}"
    if row.generator_saturated:
        text += "\n    FLAG: the generator may have been the limit, not the server"
    if not row.load_achieved:
        text += "\n    FLAG: the offered load was not achieved"
    if row.notes:
        text += f"\n    notes: {row.notes}"
    return text


def announce(
    mode: str, count: int, run_dir: Path, settings: MatrixSettings, affinity: harness.Affinity
) -> None:
    """What the run is about to do, and on which CPUs."""
    print(f"pushlab bench ({mode}): {count} scenarios → {run_dir}", flush=True)
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
                stop(server.process)


def make_report(run_dir: Path, prog: str) -> bool:
    """Plots and ``report.md``; a failure leaves the measurements intact and says so."""
    from pushlab.bench.presentation.report import write_report  # matplotlib: only when needed

    try:
        write_report(run_dir)
    except ValueError as error:  # a results directory the report cannot read: one line
        print(f"{prog}: {error}", file=sys.stderr, flush=True)
        return False
    except Exception:
        traceback.print_exc()
        print(f"writing the report failed; the measurements in {run_dir} are intact.", flush=True)
        return False
    print(f"Report: {run_dir / 'report.md'}", flush=True)
    return True


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def measure_all(
    scenarios: list[Scenario],
    matrix: list[tuple[str, Scenario]],
    affinity: harness.Affinity,
    run_dir: Path,
    rows: dict[str, ResultRow],
    scale: ScaleOut | None = None,
    profiled: frozenset[str] = frozenset(),
) -> None:
    """Every scenario in turn; ``summary.csv`` is rewritten after each one; the servers of the
    scenarios ``profiled`` names (by id) are profiled."""
    progress = Progress(scenarios)
    scale = scale or ScaleOut()
    for index, scenario in enumerate(scenarios):
        progress.starting(index)
        scenario_started = time.monotonic()
        try:
            scenario_cpus, plan = scale.plan(scenario, affinity)
            profile = scenario.id in profiled
            measurement = harness.run_scenario(scenario, scenario_cpus, run_dir, plan, profile)
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


def measure_adaptive(
    sweep: Sweep,
    settings: MatrixSettings,
    matrix: list[tuple[str, Scenario]],
    affinity: harness.Affinity,
    run_dir: Path,
    rows: dict[str, ResultRow],
) -> None:
    """An adaptive sweep (the capacity search): each step it asks for is measured as any
    scenario and kept under the sweep; a step the matrix already measured is not measured
    again."""
    assert sweep.search is not None

    def step(scenario: Scenario) -> ResultRow:
        matrix.append((sweep.name, scenario))
        if scenario.id not in rows:
            measure_all([scenario], matrix, affinity, run_dir, rows)
        return rows[scenario.id]

    rows.update(sweep.search(settings, step))
    write_summary(run_dir, matrix, rows)


def run_bench(
    args: argparse.Namespace,
    mode: str,
    settings: MatrixSettings,
    matrix: list[tuple[str, Scenario]],
    *,
    prog: str,
    command: str,
) -> int:
    """Run the matrix into a results directory; 0, 1 (the report failed), 2 or 130.

    One function because its ``try``/``finally`` is the promise that every way out — the
    end, Ctrl-C, ``SIGTERM``, an error — stops every child and leaves ``environment.json``
    and the finished rows behind."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: where is it stuck?
    # Ctrl-C must stop the run even when started from a shell that ignores SIGINT for
    # background jobs (Python then keeps SIG_IGN instead of raising KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    scenarios = unique_scenarios(matrix)
    run_dir = new_run_dir(args.out)
    affinity = harness.plan_affinity()
    environment = describe_environment(command, mode, settings, affinity.describe(), SAMPLE_HZ)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "environment.json", environment)
    except OSError as error:
        print(f"{prog}: cannot write results to {run_dir}: {error.strerror}", file=sys.stderr)
        return EXIT_CANNOT_START
    every_cpu = os.sched_getaffinity(0)
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, affinity.harness)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    announce(mode, len(scenarios), run_dir, settings, affinity)

    started = time.monotonic()
    rows: dict[str, ResultRow] = {}
    interrupted = False
    try:
        profiled = frozenset(getattr(args, "profile", None) or ())
        with redis_for_run(settings, scenarios, affinity.server) as (feed_url, redis):
            scale = ScaleOut(feed_url, remote_workers(settings), redis)
            measure_all(scenarios, matrix, affinity, run_dir, rows, scale, profiled)
            for sweep in chosen(settings):
                if sweep.search is not None:
                    measure_adaptive(sweep, settings, matrix, affinity, run_dir, rows)
        if settings.peers or any(sweep.measures_floor for sweep in chosen(settings)):
            environment[floor.KEY] = floor.measure(affinity, run_dir)
        if not args.no_trace:
            record_trace(run_dir, settings.techniques, affinity, settings.trace_s)
    except KeyboardInterrupt:
        interrupted = True
        print("\nInterrupted: stopping every process; partial results are kept.", flush=True)
    finally:
        stop_all_children()
        environment.update(
            finished_utc=utc_now(),
            wall_time_s=round(time.monotonic() - started, 1),
            interrupted=interrupted,
        )
        write_json(run_dir / "environment.json", environment)
        remove_raw(run_dir)

    conclude(run_dir, matrix, rows, started, latest=args.out is None)
    with contextlib.suppress(OSError):  # nothing is measured now: the report may use every CPU
        os.sched_setaffinity(0, every_cpu)
    # An interrupted run still reports the rows it finished (the report says it was cut short).
    report_ok = args.no_report or not rows or make_report(run_dir, prog)
    if interrupted:
        return EXIT_INTERRUPTED
    return 0 if report_ok else 1


def conclude(
    run_dir: Path,
    matrix: list[tuple[str, Scenario]],
    rows: dict[str, ResultRow],
    started: float,
    *,
    latest: bool,
) -> None:
    """The final ``summary.csv``, ``results/latest``, and a line on what the run found."""
    summary = write_summary(run_dir, matrix, rows)
    if latest:
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
