"""From one measurement window's raw data to one row of ``summary.csv`` (pure: no I/O, no clock).

The harness records a :class:`Window`: the two ``/stats`` snapshots that open and close it, the
bytes of its own ``/stats`` exchanges inside it, the clocks, the generator's CPU and report,
the server samples and every delivery. :func:`measure` reduces it to a :class:`Measurement`:
the typed :class:`~pushlab.bench.analysis.row.ResultRow` plus the per-delivery arrays and
samples that the results directory keeps beside it. Every figure is computed here, so every
figure can be checked on a hand-made window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pushlab.bench.analysis import metrics, wire
from pushlab.bench.analysis.network_window import accounting, with_network_arrays
from pushlab.bench.analysis.row import ResultRow, all_columns
from pushlab.bench.core.scenario import Scenario
from pushlab.bench.core.window import Reduced, Sample, Window, WindowOverhead
from pushlab.techniques import CLOSED_LOOP_S

__all__ = ["Measurement", "Window", "WindowOverhead", "failed_row", "measure"]

EXTENSION_NOTED_S = 0.2
"""A window extended by at least this much says so in its notes."""


@dataclass(frozen=True)
class Measurement:
    """One scenario's row, and the raw arrays the results directory keeps beside it."""

    scenario: Scenario
    row: ResultRow
    latency_ms: np.ndarray
    receive_ts: np.ndarray
    user: np.ndarray
    message_id: np.ndarray
    server_samples: list[dict[str, float | str]]


@dataclass(frozen=True)
class Deliveries:
    """What the clients' receipts say about the window's messages."""

    expected_users: set[int]
    check: metrics.SequenceCheck
    counted: np.ndarray  # indices of the first receipts of window messages
    latency_ms: np.ndarray


@dataclass(frozen=True)
class Requests:
    """The window's HTTP requests, counted where they were answered, against the target."""

    answered: float
    per_s: float
    target_per_s: float


def measure(window: Window) -> Measurement:
    """Reduce one window to its row, its first-receipt latencies and its server samples.

    Each of the scenario's parts may first narrow the window the core columns describe (after
    a server restart, the old feed's messages), then adds its own columns from the whole of it.
    """
    original = window
    window = replace(window, deliveries=with_network_arrays(window.deliveries))
    for part in window.scenario.parts:
        window = part.narrow(window)
    delta = metrics.stats_delta(window.before, window.after)
    deliveries = delivery_figures(window)
    requests = request_figures(window, delta)
    row = result_row(window, delta, deliveries, requests)
    reduced = Reduced(original, window, deliveries.expected_users, deliveries.counted)
    columns = accounting(window, deliveries.expected_users) | wire_columns(window, deliveries)
    notes = [row.notes, wire.wire_note(columns), late_note(columns["arrived_late"], row.missed)]
    for part in window.scenario.parts:
        own = part.columns(reduced)
        notes.append(own.pop("notes", ""))
        columns |= own
    columns["notes"] = "; ".join(filter(None, notes))
    row = row.with_columns(**columns)
    counted = deliveries.counted
    return Measurement(
        window.scenario,
        row,
        deliveries.latency_ms,
        window.deliveries["received_at"][counted],
        window.deliveries["user"][counted],
        window.deliveries["message_id"][counted],
        sample_rows(window.samples, window.start_monotonic),
    )


def window_ids(window: Window) -> tuple[int, int]:
    """The window's messages are the ids ``after_id < id <= last_id``."""
    return int(window.before["last_id"]), int(window.after["last_id"])


def expected_users(deliveries: dict[str, np.ndarray], opened_at: float) -> set[int]:
    """The clients that could hear news before the window opened: they must get every id."""
    return {
        int(number)
        for number, at in zip(deliveries["user_number"], deliveries["connected_at"], strict=True)
        if not math.isnan(at) and at <= opened_at
    }


def delivery_figures(window: Window) -> Deliveries:
    after_id, last_id = window_ids(window)
    raw = window.deliveries
    expected = expected_users(raw, window.opened_at)
    user, message_id = raw["user"], raw["message_id"]
    check = metrics.check_sequences(user, message_id, after_id, last_id, expected)
    counted = metrics.first_receipts_in_window(user, message_id, after_id, last_id)
    latency = metrics.latency_ms(raw["ts"][counted], raw["received_at"][counted])
    return Deliveries(expected, check, counted, latency)


def wire_columns(window: Window, deliveries: Deliveries) -> dict[str, Any]:
    """Wire latency and the generator's delay of the counted deliveries, and how many of them
    arrived late (``wire.py``)."""
    raw, counted = window.deliveries, deliveries.counted
    columns = wire.wire_figures(
        raw["ts"][counted], raw["received_at"][counted], raw["kernel_at"][counted]
    )
    columns["arrived_late"] = wire.arrived_late(raw["received_at"][counted], window.closed_at)
    return columns


def late_note(late: int, missed: int) -> str:
    """Late and lost, told apart, when something was lost."""
    if not missed:
        return ""
    return f"{late} deliveries arrived after the window closed (late), {missed} never arrived"


def request_figures(window: Window, delta: dict[str, float]) -> Requests:
    """Requests are counted where they are answered, not where they arrive: long polls held
    across either snapshot would otherwise tilt the counts by up to one request per client
    (1.13 requests per message at 1,000 clients, and a request rate to match)."""
    scenario = window.scenario
    answered = metrics.answered_requests(
        scenario.technique,
        delta["requests"],
        window.before["clients_connected"],
        window.after["clients_connected"],
    )
    per_s = metrics.ratio(answered, delta["uptime_s"])
    target = metrics.target_request_rate(
        scenario.technique, scenario.clients, scenario.poll_interval
    )
    return Requests(answered, per_s, target)


def result_row(
    window: Window, delta: dict[str, float], deliveries: Deliveries, requests: Requests
) -> ResultRow:
    """The row of ``summary.csv``: one constructor call, a line per core column, so that a
    reader finds each column's formula beside its name.

    Per-message costs divide the server's counters by the server's own count of deliveries in
    the same window: both sides of the ratio then share the same two snapshots, so a message
    published just before the window opened cannot add its re-asks to the window without its
    deliveries (long polling at 1,000 clients showed 1.16 otherwise).
    """
    scenario = window.scenario
    after_id, last_id = window_ids(window)
    bytes_in = delta["bytes_in"] - window.overhead.bytes_in  # less the harness's own /stats
    bytes_out = delta["bytes_out"] - window.overhead.bytes_out
    window_s = delta["uptime_s"]
    delivered = int(delta["messages_delivered"])
    latencies = metrics.latency_summary(deliveries.latency_ms)
    rss_window_mb = window_rss_mb(window.samples)
    cpu = window.generator_cpu_percent
    server_cpu = metrics.cpu_percent(delta["process_cpu_s"], window_s)
    closed_loop = scenario.poll_interval == CLOSED_LOOP_S
    check = deliveries.check
    return ResultRow(
        scenario=scenario.id,
        technique=scenario.technique,
        clients=scenario.clients,
        publish_rate=scenario.publish_rate,
        poll_interval=_number(scenario.poll_interval),
        hold_s=_number(scenario.hold_s),
        arrivals=scenario.arrivals,
        duration_s=round(window_s, 3),
        messages_published=last_id - after_id,
        messages_delivered=check.delivered,
        server_deliveries=delivered,
        clients_connected=len(deliveries.expected_users),
        requests_per_s=requests.per_s,
        target_requests_per_s=requests.target_per_s,
        requests_per_message=metrics.per_message(requests.answered, delivered),
        empty_fraction=metrics.ratio(delta["empty_responses"], requests.answered),
        latency_mean_ms=latencies.mean_ms,
        latency_p50_ms=latencies.p50_ms,
        latency_p95_ms=latencies.p95_ms,
        latency_p99_ms=latencies.p99_ms,
        latency_max_ms=latencies.max_ms,
        server_fanout_ms=metrics.ratio(delta.get("fanout_s", 0.0) * 1e3, delta.get("fanouts", 0)),
        bytes_in_per_s=metrics.ratio(bytes_in, window_s),
        bytes_out_per_s=metrics.ratio(bytes_out, window_s),
        bytes_per_message=metrics.per_message(bytes_in + bytes_out, delivered),
        tcp_connections_opened=int(delta["tcp_connections_opened"]),
        server_cpu_percent=server_cpu,
        cpu_us_per_message=metrics.per_message(delta["process_cpu_s"] * 1e6, delivered),
        rss_mb=rss_window_mb,
        rss_kb_per_client=(rss_window_mb - window.baseline_rss_mb) * 1024 / scenario.clients,
        missed=check.missed,
        duplicated=check.duplicated,
        reordered=check.reordered,
        generator_cpu_percent=cpu,
        generator_saturated=metrics.generator_saturated(
            cpu, requests.target_per_s, requests.per_s, server_cpu, closed_loop
        ),
        load_achieved=metrics.load_achieved(
            scenario.clients, len(deliveries.expected_users), requests.target_per_s, requests.per_s
        ),
        notes=window_notes(window, requests, server_cpu),
        **scale_out_columns(window, check.delivered, window_s),
    )


def scale_out_columns(window: Window, delivered: int, window_s: float) -> dict[str, Any]:
    """Issue 13's columns: the set-up, and the generators' clock offsets (measured by each
    Locust worker against the server and already taken out of its latencies)."""
    scenario = window.scenario
    offsets = window.deliveries.get("clock_offset_s", np.array([]))  # none: one local clock
    uncertainties = window.deliveries.get("clock_uncertainty_s", np.array([]))
    return {
        "feed": scenario.feed,
        "workers": scenario.workers,
        "generator_processes": scenario.generator_processes,
        "cores_short": window.cores_short,
        "deliveries_per_s": metrics.ratio(delivered, window_s),
        "clock_offset_ms": float(np.max(np.abs(offsets))) * 1000 if offsets.size else math.nan,
        "clock_uncertainty_ms": float(np.max(uncertainties)) * 1000
        if uncertainties.size
        else math.nan,
    }


def _number(value: float | None) -> float:
    return math.nan if value is None else value


def window_rss_mb(samples: tuple[Sample, ...]) -> float:
    """The server's mean resident memory over the samples taken in the window."""
    measured = [sample.rss_mb for sample in samples if sample.phase == "measure"]
    return float(np.mean(measured)) if measured else math.nan


def sample_rows(samples: tuple[Sample, ...], start_monotonic: float) -> list[dict[str, Any]]:
    """The server samples as ``server/<scenario>.csv`` rows, ``t`` in seconds from the window."""
    return [
        {
            "t": round(s.monotonic - start_monotonic, 3),
            "phase": s.phase,
            "cpu_percent": s.cpu_percent,
            "rss_mb": round(s.rss_mb, 3),
            "num_fds": s.num_fds,
            "num_connections": s.num_connections,
        }
        for s in samples
    ]


def window_notes(window: Window, requests: Requests, server_cpu_percent: float = math.nan) -> str:
    """The scenario's notes, and a word if the window had to be extended."""
    notes = scenario_notes(
        window.scenario,
        window.generator_report,
        window.deliveries,
        requests.target_per_s,
        requests.per_s,
        window.generator_cpu_percent,
    )
    if metrics.server_waited(window.scenario.poll_interval == CLOSED_LOOP_S, server_cpu_percent):
        waited = (
            f"closed loop with the server at {server_cpu_percent:.0f}% of a core:"
            " the clients set the pace"
        )
        notes = "; ".join(filter(None, [notes, waited]))
    if window.cores_short:
        shared = "fewer CPUs than server workers + generator processes: they shared CPUs"
        notes = "; ".join(filter(None, [notes, shared]))
    if window.overhead.extended_s >= EXTENSION_NOTED_S:
        extension = (
            f"window extended by {window.overhead.extended_s:.1f} s to hold a message or two"
        )
        notes = "; ".join(filter(None, [notes, extension]))
    return notes


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
    closes = report.get("connection_closes", {})
    if closes:
        reasons = "; ".join(f"{reason} ×{count}" for reason, count in closes.items())
        notes.append(f"HTTP connections closed: {reasons}")
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


def failed_row(scenario: Scenario, error: BaseException) -> ResultRow:
    """The row of a scenario that could not be measured: what was asked, NaN for every figure."""
    figures = {
        name: math.nan for name, column in all_columns().items() if column.kind in (int, float)
    }
    return ResultRow(technique=scenario.technique).with_columns(
        **{
            **figures,
            "scenario": scenario.id,
            "technique": scenario.technique,
            "clients": scenario.clients,
            "publish_rate": scenario.publish_rate,
            "poll_interval": _number(scenario.poll_interval),
            "hold_s": _number(scenario.hold_s),
            "arrivals": scenario.arrivals,
            "clients_connected": 0,
            "feed": scenario.feed,
            "workers": scenario.workers,
            "generator_processes": scenario.generator_processes,
            "notes": f"failed: {type(error).__name__}: {error}",
        }
    )
