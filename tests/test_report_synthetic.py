"""A small, made-up results directory for the plot and report tests — never a measurement.

The numbers come from ``bench.analysis.model`` plus a little seeded noise, so plots have the right
shapes, but they are SYNTHETIC: ``environment.json`` says so, the report prints a banner, and
the files live only in pytest's ``tmp_path``.

The tests at the bottom check that the fixture keeps the results-directory contract, so the
plot and report tests exercise the same shapes the harness writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pushlab.bench.analysis import model
from pushlab.bench.analysis.results import load_results
from pushlab.bench.analysis.row import FORMAT_VERSION, column_names
from pushlab.techniques import LONGPOLL_HOLD_S, NAMES, technique

SUMMARY_COLUMNS = list(column_names())

DURATION_S = 30.0
CLIENT_COUNTS = (10, 100, 1000)
CLIENTS_SWEEP_INTERVALS = (1.0, 0.25)
RATES = (0.1, 1.0, 10.0, 100.0)
INTERVALS = (0.25, 0.5, 1.0, 2.0, 4.0)
REQUEST_BYTES, ANSWER_OVERHEAD_BYTES, MESSAGE_BYTES = 260.0, 180.0, 90.0
CPU_US_PER_REQUEST, CPU_US_PER_FRAME = 55.0, 9.0
KB_PER_HELD_CLIENT = {"polling": 3.0, "longpoll": 18.0, "websocket": 31.0, "sse": 22.0}


def scenario_id(technique: str, clients: int, rate: float, interval: float | None = None) -> str:
    """Named as the harness names them: ``polling-c100-r1-i0.5``, ``sse-c1000-r20``."""
    name = f"{technique}-c{clients}-r{rate:g}"
    return name if interval is None else f"{name}-i{interval:g}"


def _row(
    rng: np.random.Generator,
    sweep: str,
    name: str,
    clients: int,
    rate: float,
    interval: float | None = None,
) -> dict[str, object]:
    """One scenario's summary row, computed from the models (+2% noise)."""
    transit_ms = 0.8 + 0.003 * clients
    duration_s = DURATION_S
    entry = technique(name)
    hold_s = LONGPOLL_HOLD_S if entry.holds_request and not entry.pushes else None
    if entry.polls:
        assert interval is not None
        per_message = model.polling_requests_per_message(rate, interval)
        empty = model.polling_empty_fraction(rate, interval)
        mean_ms = 1000 * model.polling_mean_latency_s(interval, transit_ms / 1000)
        p50, p95, p99 = (transit_ms + 1000 * q * interval for q in (0.5, 0.95, 0.99))
    elif hold_s is not None:
        gap_s = 2 * transit_ms / 1000
        per_message = model.longpoll_requests_per_message(rate, gap_s, hold_s)
        empty = model.longpoll_empty_fraction(rate, gap_s, hold_s)
        mean_ms = 1000 * model.longpoll_mean_latency_s(rate, transit_ms / 1000, gap_s, hold_s)
        p50, p95, p99 = transit_ms, 2.5 * transit_ms, 3 * transit_ms
    else:
        per_message = model.push_requests_per_message(rate, duration_s)
        empty = 0.0
        mean_ms = transit_ms * 1.1
        p50, p95, p99 = transit_ms, 1.8 * transit_ms, 2.5 * transit_ms
    noise = float(rng.normal(1.0, 0.02))
    deliveries_per_s = clients * rate
    requests_per_s = per_message * deliveries_per_s
    cpu_us = (CPU_US_PER_REQUEST * per_message + CPU_US_PER_FRAME) * noise
    kb_per_client = KB_PER_HELD_CLIENT[name] * noise
    bytes_in = requests_per_s * REQUEST_BYTES
    bytes_out = requests_per_s * ANSWER_OVERHEAD_BYTES + deliveries_per_s * MESSAGE_BYTES
    published = round(rate * duration_s)
    return {
        "scenario": scenario_id(name, clients, rate, interval),
        "sweep": sweep,
        "technique": name,
        "clients": clients,
        "publish_rate": rate,
        "arrivals": "poisson",
        "poll_interval": interval,
        "hold_s": hold_s,
        "duration_s": duration_s,
        "requests_per_s": requests_per_s,
        "target_requests_per_s": clients / interval if entry.polls and interval else None,
        "server_deliveries": published * clients,
        "requests_per_message": per_message,
        "empty_fraction": float(np.clip(empty * noise, 0, 1)),
        "messages_published": published,
        "messages_delivered": published * clients,
        "latency_mean_ms": mean_ms * noise,
        "latency_p50_ms": p50,
        "latency_p95_ms": p95,
        "latency_p99_ms": p99,
        "latency_max_ms": p99 * 1.5,
        "bytes_in_per_s": bytes_in,
        "bytes_out_per_s": bytes_out,
        "bytes_per_message": (bytes_in + bytes_out) / deliveries_per_s,
        "tcp_connections_opened": clients,
        "server_cpu_percent": cpu_us * deliveries_per_s / 1e4,
        "cpu_us_per_message": cpu_us,
        "rss_mb": 45.0 + clients * kb_per_client / 1024,
        "rss_kb_per_client": kb_per_client,
        "missed": 0,
        "duplicated": 0,
        "reordered": 0,
        "generator_cpu_percent": 20.0 + clients * 0.03,
        "generator_saturated": False,
        "clients_connected": clients,
        "load_achieved": True,
        "notes": "",
    }


def _rows(rng: np.random.Generator) -> list[dict[str, object]]:
    """Every sweep's rows; a scenario on two sweeps is one measurement written twice."""
    plan = []
    for clients in CLIENT_COUNTS:
        for name in NAMES:
            for interval in CLIENTS_SWEEP_INTERVALS if technique(name).polls else (None,):
                plan.append(("clients", name, clients, 1.0, interval))
    for rate in RATES:
        for name in NAMES:
            plan.append(("rate", name, 100, rate, 1.0 if technique(name).polls else None))
    for interval in INTERVALS:
        plan.append(("interval", "polling", 100, 1.0, interval))
    measured: dict[str, dict[str, object]] = {}
    rows = []
    for sweep, name, clients, rate, interval in plan:
        key = scenario_id(name, clients, rate, interval)
        if key not in measured:
            measured[key] = _row(rng, sweep, name, clients, rate, interval)
        rows.append({**measured[key], "sweep": sweep})
    return rows


def _flag_some(summary: pd.DataFrame) -> None:
    """Two rows the report must flag, and one with lost messages, like a hard real run."""
    at_1000 = summary["clients"] == 1000
    saturated = at_1000 & (summary["poll_interval"] == 0.25)
    summary.loc[saturated, ["generator_saturated", "generator_cpu_percent"]] = [True, 99.0]
    short = at_1000 & (summary["technique"] == "sse")
    summary.loc[short, ["load_achieved", "clients_connected", "notes"]] = [
        False,
        950,
        "50 connections refused",
    ]
    summary.loc[short, "missed"] = 3


def _latency_sample(row: pd.Series, rng: np.random.Generator, size: int = 3000) -> np.ndarray:
    transit = float(row["latency_p50_ms"]) if row["technique"] != "polling" else 0.8
    if row["technique"] == "polling":
        return transit + rng.uniform(0, 1000 * float(row["poll_interval"]), size)
    if row["technique"] == "longpoll":
        in_gap = rng.random(size) < 0.1
        return transit + in_gap * rng.uniform(0, 2 * transit, size) + rng.exponential(0.1, size)
    return transit * rng.lognormal(0.0, 0.3, size)


def _trace() -> dict[str, list[dict[str, object]]]:
    publishes = [0.35, 1.2, 1.4, 2.6]

    def publish(t: float, message_id: int) -> dict[str, object]:
        return {
            "t": t,
            "kind": "publish",
            "label": f"publish #{message_id}",
            "message_id": message_id,
        }

    def event(t: float, kind: str, label: str, message_id: int | None = None) -> dict[str, object]:
        return {"t": t, "kind": kind, "label": label, "message_id": message_id}

    base = [publish(t, index + 1) for index, t in enumerate(publishes)]
    polling = list(base)
    for second in np.arange(0.0, 3.01, 0.5):
        news = [index + 1 for index, t in enumerate(publishes) if second - 0.5 < t <= second]
        polling.append(event(second, "request", "GET /poll"))
        polling.append(event(second + 0.002, "response", "200", news[-1] if news else None))
    longpoll = [*base, event(0.0, "request", "GET /poll")]
    for index, t in enumerate(publishes):
        longpoll += [
            event(t + 0.001, "response", "200", index + 1),
            event(t + 0.002, "request", "GET /poll"),
        ]
    websocket = [*base, event(0.0, "request", "GET /ws"), event(0.002, "upgrade", "101")]
    websocket += [event(t + 0.001, "push", "frame", index + 1) for index, t in enumerate(publishes)]
    sse = [*base, event(0.0, "request", "GET /events"), event(0.002, "stream-open", "200")]
    sse += [event(t + 0.001, "push", "event", index + 1) for index, t in enumerate(publishes)]
    return {"polling": polling, "longpoll": longpoll, "websocket": websocket, "sse": sse}


def write_synthetic_results(
    out_dir: Path, edit: Callable[[pd.DataFrame], pd.DataFrame | None] | None = None, seed: int = 7
) -> Path:
    """Write a complete, SYNTHETIC results directory.

    ``edit`` may change the summary first, in place or by returning a new table.
    """
    rng = np.random.default_rng(seed)
    summary = pd.DataFrame(_rows(rng), columns=SUMMARY_COLUMNS)
    _flag_some(summary)
    if edit is not None:
        edited = edit(summary)
        summary = summary if edited is None else edited
    out_dir.mkdir(parents=True, exist_ok=True)
    summary.to_csv(out_dir / "summary.csv", index=False)
    (out_dir / "latency").mkdir(exist_ok=True)
    (out_dir / "server").mkdir(exist_ok=True)
    for _, row in summary.iterrows():
        latency = _latency_sample(row, rng)
        receive_ts = 1_764_300_000 + np.sort(rng.uniform(0, DURATION_S, latency.size))
        np.savez(
            out_dir / "latency" / f"{row['scenario']}.npz",
            latency_ms=latency,
            receive_ts=receive_ts,
        )
        t = np.arange(0, DURATION_S, 0.2)
        pd.DataFrame(
            {
                "t": t,
                "cpu_percent": row["server_cpu_percent"] * rng.normal(1, 0.05, t.size),
                "rss_mb": np.full(t.size, row["rss_mb"]),
                "num_fds": np.full(t.size, row["clients"] + 12),
                "num_connections": np.full(t.size, row["clients"]),
            }
        ).to_csv(out_dir / "server" / f"{row['scenario']}.csv", index=False)
    environment = {
        "format_version": FORMAT_VERSION,
        "synthetic": True,
        "cpu_model": "SYNTHETIC TEST FIXTURE (not a machine)",
        "cores": 4,
        "os": "synthetic",
        "python": "3.x",
        "aiohttp": "n/a",
        "locust": "n/a",
        "git_commit": "0000000",
        "command": "tests/test_report_synthetic.py",
        "affinity": "none",
        "started_utc": "2000-01-01T00:00:00Z",
        "finished_utc": "2000-01-01T00:10:00Z",
        "matrix": {
            "arrivals": "poisson",
            "arrival_seed": 4242,
            "hold_s": LONGPOLL_HOLD_S,
        },
    }
    (out_dir / "environment.json").write_text(json.dumps(environment, indent=2))
    (out_dir / "trace.json").write_text(json.dumps(_trace()))
    return out_dir


@pytest.fixture
def synthetic_dir(tmp_path: Path) -> Path:
    """A fresh synthetic results directory in this test's tmp_path."""
    return write_synthetic_results(tmp_path / "synthetic-run")


def test_synthetic_summary_has_every_contract_column(synthetic_dir: Path) -> None:
    summary = load_results(synthetic_dir).summary
    assert list(summary.columns) == list(column_names())


def test_synthetic_longpoll_rows_record_their_hold(synthetic_dir: Path) -> None:
    summary = load_results(synthetic_dir).summary
    held = summary["technique"].map(lambda name: not technique(name).pushes)
    held &= ~summary["technique"].map(lambda name: technique(name).polls)
    assert (summary.loc[held, "hold_s"] == LONGPOLL_HOLD_S).all()
    assert summary.loc[~held, "hold_s"].isna().all()


def test_synthetic_results_say_they_are_synthetic(synthetic_dir: Path) -> None:
    assert load_results(synthetic_dir).synthetic


def test_booleans_and_empty_intervals_load_with_their_types(synthetic_dir: Path) -> None:
    summary = load_results(synthetic_dir).summary
    assert summary["generator_saturated"].dtype == bool
    assert summary["load_achieved"].dtype == bool
    assert summary.loc[summary["technique"] == "sse", "poll_interval"].isna().all()
    assert (summary.loc[summary["technique"] != "sse", "notes"] == "").all()


def test_lowercase_booleans_load_as_booleans(synthetic_dir: Path) -> None:
    csv = synthetic_dir / "summary.csv"
    csv.write_text(csv.read_text().replace("False", "false").replace("True", "true"))
    summary = load_results(synthetic_dir).summary
    assert summary["generator_saturated"].sum() == 1
    assert (~summary["load_achieved"]).sum() == 1


def test_trace_events_load_in_time_order(synthetic_dir: Path) -> None:
    trace = load_results(synthetic_dir).trace
    assert set(trace) == set(NAMES)
    times = [event.t for event in trace["polling"]]
    assert times == sorted(times)
