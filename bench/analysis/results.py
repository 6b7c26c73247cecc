"""A results directory of the bench: its writer and its reader, side by side.

A results directory holds ``summary.csv`` (one :class:`~pushlab.bench.analysis.row.ResultRow` per
scenario and sweep), ``latency/<scenario>.npz``, ``server/<scenario>.csv``, ``environment.json``
(with the ``format_version`` of the row) and ``trace.json``. The bench writes it as it goes,
scenario by scenario, so an interrupted run still leaves a readable directory.
:func:`load_results` reads the small files at once and the large ones when asked, so a notebook
can open a run in a fraction of a second and still reach every delivered message; it refuses a
directory of a format it does not know, rather than guessing what its columns mean.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pushlab import techniques
from pushlab.bench.analysis.metrics import GENERATOR_CPU_LIMIT_PERCENT
from pushlab.bench.analysis.row import (
    FORMAT_VERSION,
    READABLE_VERSIONS,
    ResultRow,
    all_columns,
    column_names,
)
from pushlab.bench.core.columns import RENAMED_COLUMNS
from pushlab.bench.core.scenario import Scenario

if TYPE_CHECKING:
    from pushlab.bench.analysis.measurement import Measurement

__all__ = [
    "TECHNIQUES",
    "TECHNIQUE_NAMES",
    "Results",
    "TraceEvent",
    "load_results",
    "load_summary",
    "load_trace",
]

RESULTS_ROOT = Path("results")
"""Where runs go, relative to the current directory (so an installed pushlab works anywhere)."""

TECHNIQUES = techniques.NAMES
TECHNIQUE_NAMES = {name: entry.label for name, entry in techniques.TECHNIQUES.items()}
"""How each technique is written in titles and sentences (from :mod:`pushlab.techniques`)."""

GENERATOR_BUSY_PERCENT = GENERATOR_CPU_LIMIT_PERCENT
"""Generator CPU at or above this (percent of one core) is named as the reason for a flag."""

SERVER_SAMPLE_COLUMNS = ["t", "cpu_percent", "rss_mb", "num_fds", "num_connections", "phase"]


@dataclass(frozen=True)
class TraceEvent:
    """One thing that crossed the wire (or happened at the server) in a recorded trace."""

    t: float  # seconds since the trace started
    kind: str  # publish | request | response | push | upgrade | stream-open
    label: str
    message_id: int | None


@dataclass(frozen=True)
class Results:
    """One bench run: its summary table, environment and trace, plus lazy per-scenario files."""

    path: Path
    summary: pd.DataFrame
    environment: dict[str, Any]
    trace: dict[str, list[TraceEvent]] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """True for made-up fixtures (tests), which must never be shown as measurements."""
        return bool(self.environment.get("synthetic", False))

    def sweep(self, name: str) -> pd.DataFrame:
        """The rows of one sweep (``clients``, ``rate`` or ``interval``), possibly empty."""
        return self.summary[self.summary["sweep"] == name]

    def latency_ms(self, scenario: str) -> np.ndarray:
        """Delivery latency of every message to every client in one scenario (ms)."""
        with np.load(self.path / "latency" / f"{scenario}.npz") as arrays:
            return np.asarray(arrays["latency_ms"], dtype=float)

    def receive_ts(self, scenario: str) -> np.ndarray:
        """When each delivery in :meth:`latency_ms` was received (client clock, seconds)."""
        with np.load(self.path / "latency" / f"{scenario}.npz") as arrays:
            return np.asarray(arrays["receive_ts"], dtype=float)

    def message_ids(self, scenario: str) -> np.ndarray | None:
        """Which message each delivery in :meth:`latency_ms` was (None in runs without them)."""
        with np.load(self.path / "latency" / f"{scenario}.npz") as arrays:
            return np.asarray(arrays["message_id"]) if "message_id" in arrays.files else None

    def has_latency(self, scenario: str) -> bool:
        return (self.path / "latency" / f"{scenario}.npz").is_file()

    def server_samples(self, scenario: str) -> pd.DataFrame:
        """The server process sampled over the scenario: t, cpu_percent, rss_mb, num_fds, ..."""
        return pd.read_csv(self.path / "server" / f"{scenario}.csv")

    @cached_property
    def run_date(self) -> str:
        """The UTC date the run started, ``YYYY-MM-DD`` (or the directory name if unknown)."""
        started = str(self.environment.get("started_utc", ""))
        return started[:10] if started else self.path.name


def load_results(out_dir: str | Path) -> Results:
    """Read a results directory: ``summary.csv``, ``environment.json`` and ``trace.json``.

    Raises a one-line ``ValueError`` for a directory this pushlab cannot read (no
    ``environment.json``, or one written by another format version).
    """
    path = Path(out_dir)
    environment_file = path / "environment.json"
    if not environment_file.is_file():
        raise ValueError(
            f"{path} has no environment.json; this pushlab reads results of format "
            f"{FORMAT_VERSION}: re-run the bench"
        )
    environment = json.loads(environment_file.read_text())
    check_format(path, environment)
    trace_file = path / "trace.json"
    trace = load_trace(trace_file) if trace_file.is_file() else {}
    return Results(path, load_summary(path / "summary.csv"), environment, trace)


def check_format(path: Path, environment: Mapping[str, Any]) -> None:
    """Refuse a results directory of a format this pushlab cannot read (version 1 had no key)."""
    version = environment.get("format_version", 1)
    if version not in READABLE_VERSIONS:
        raise ValueError(
            f"{path} was written by format {version}; this pushlab reads format "
            f"{FORMAT_VERSION}: re-run the bench"
        )


def load_summary(csv_path: str | Path) -> pd.DataFrame:
    """Read ``summary.csv`` with each column's type from :func:`row.all_columns`.

    Booleans may be written ``True``/``true``/``1``; text is "" where empty (``notes`` with
    nothing to say); numbers are NaN where empty (``poll_interval`` for every technique but
    polling, the figures of a failed scenario). A count column stays whole (``int64``) unless a
    failed row left it empty.
    """
    summary = pd.read_csv(csv_path, keep_default_na=True)
    summary = summary.rename(
        columns={old: new for old, new in RENAMED_COLUMNS.items() if new not in summary}
    )
    for name, column in all_columns().items():
        if name not in summary:
            continue
        if column.kind is bool:
            summary[name] = summary[name].map(_as_bool).astype(bool)
        elif column.kind is str:
            summary[name] = (
                summary[name].astype(object).fillna("").astype(str)
            )  # an all-empty column reads as float
        else:
            values = pd.to_numeric(summary[name], errors="coerce").astype(float)
            whole = column.kind is int and not values.isna().any()
            summary[name] = values.astype("int64") if whole else values
    return summary


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value)


def load_trace(json_path: str | Path) -> dict[str, list[TraceEvent]]:
    """Read ``trace.json``: for each technique, its events in time order."""
    raw = json.loads(Path(json_path).read_text())
    return {
        technique: sorted(
            (
                TraceEvent(
                    t=float(event["t"]),
                    kind=str(event["kind"]),
                    label=str(event.get("label", "")),
                    message_id=None
                    if event.get("message_id") is None
                    else int(event["message_id"]),
                )
                for event in events
            ),
            key=lambda event: event.t,
        )
        for technique, events in raw.items()
    }


# --- Writing a results directory ------------------------------------------------------------


def new_run_dir(out: Path | None) -> Path:
    """``out`` if given, else ``results/<UTC timestamp>/``."""
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


def write_measurement(run_dir: Path, measurement: Measurement) -> None:
    """One scenario's first-receipt latencies and server samples."""
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
    pd.DataFrame(measurement.server_samples, columns=SERVER_SAMPLE_COLUMNS).to_csv(
        run_dir / "server" / f"{scenario_id}.csv", index=False
    )


def write_summary(
    run_dir: Path, matrix: list[tuple[str, Scenario]], rows: Mapping[str, ResultRow]
) -> pd.DataFrame:
    """One row per (sweep, scenario) measured so far, in matrix order."""
    table: list[dict[str, Any]] = []
    first_sweep: dict[str, str] = {}
    for sweep, scenario in matrix:
        if scenario.id not in rows:
            continue
        row = replace(rows[scenario.id], sweep=sweep)
        if scenario.id in first_sweep:
            shared = f"same measurement as the {first_sweep[scenario.id]} sweep's row"
            row = replace(row, notes="; ".join(filter(None, [row.notes, shared])))
        else:
            first_sweep[scenario.id] = sweep
        table.append(row.as_dict())
    summary = pd.DataFrame(table, columns=list(column_names()))
    summary.to_csv(run_dir / "summary.csv", index=False)
    return summary


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def remove_raw(run_dir: Path) -> None:
    """The generator's raw files: everything in them is now in latency/ and summary.csv."""
    raw = run_dir / "raw"
    if raw.is_dir():
        for file in raw.iterdir():
            file.unlink()
        raw.rmdir()
