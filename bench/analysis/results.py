"""Load a results directory written by the bench, and shape it for plots, tables and findings.

A results directory (see ``docs/CONTRACT.md``) holds ``summary.csv`` (one row per scenario),
``latency/<scenario>.npz``, ``server/<scenario>.csv``, ``environment.json`` and ``trace.json``.
:func:`load_results` reads the small files at once and the large ones when asked, so a notebook
can open a run in a fraction of a second and still reach every delivered message.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pushlab.servers.config import TECHNIQUES

__all__ = [
    "TECHNIQUES",
    "TECHNIQUE_NAMES",
    "Results",
    "TraceEvent",
    "load_results",
    "load_summary",
    "load_trace",
]

TECHNIQUE_NAMES = {
    "polling": "polling",
    "longpoll": "long polling",
    "websocket": "WebSocket",
    "sse": "SSE",
}
"""How each technique is written in titles and sentences."""

BOOLEAN_COLUMNS = ("generator_saturated", "load_achieved")
GENERATOR_BUSY_PERCENT = 90.0
"""Generator CPU at or above this (percent of one core) is named as the reason for a flag."""
TEXT_COLUMNS = ("scenario", "sweep", "technique", "arrivals", "notes")


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
    """Read a results directory: ``summary.csv``, ``environment.json`` and ``trace.json``."""
    path = Path(out_dir)
    environment_file = path / "environment.json"
    environment = json.loads(environment_file.read_text()) if environment_file.is_file() else {}
    trace_file = path / "trace.json"
    trace = load_trace(trace_file) if trace_file.is_file() else {}
    return Results(path, load_summary(path / "summary.csv"), environment, trace)


def load_summary(csv_path: str | Path) -> pd.DataFrame:
    """Read ``summary.csv`` with the types the contract promises.

    Booleans may be written ``True``/``true``/``1``; ``poll_interval`` is empty (→ NaN) for every
    technique but polling; ``notes`` is empty (→ "") when there is nothing to say.
    """
    summary = pd.read_csv(csv_path, keep_default_na=True)
    for column in BOOLEAN_COLUMNS:
        if column in summary:
            summary[column] = summary[column].map(_as_bool).astype(bool)
    for column in TEXT_COLUMNS:
        if column in summary:
            summary[column] = summary[column].fillna("").astype(str)
    if "poll_interval" in summary:
        summary["poll_interval"] = pd.to_numeric(summary["poll_interval"], errors="coerce")
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
