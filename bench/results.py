"""Load a results directory written by the bench, and shape it for plots, tables and findings.

A results directory (see ``docs/CONTRACT.md``) holds ``summary.csv`` (one row per scenario),
``latency/<scenario>.npz``, ``server/<scenario>.csv``, ``environment.json`` and ``trace.json``.
:func:`load_results` reads the small files at once and the large ones when asked, so a notebook
can open a run in a fraction of a second and still reach every delivered message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from servers.config import TECHNIQUES

__all__ = [
    "TECHNIQUES",
    "TECHNIQUE_NAMES",
    "Results",
    "Series",
    "TraceEvent",
    "default_publish_rate",
    "flag_reason",
    "flagged",
    "largest_common_clients",
    "load_results",
    "load_summary",
    "load_trace",
    "series",
    "series_label",
    "transit_estimate_ms",
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


# --- Shaping rows into series ---------------------------------------------------------------


def flagged(frame: pd.DataFrame) -> pd.Series:
    """Rows whose numbers describe the load generator's limits, not the server's.

    A saturated generator or a load not achieved means the server saw less than the scenario
    asked for. Those rows stay in every table and plot — marked, never dropped.
    """
    return frame["generator_saturated"].astype(bool) | ~frame["load_achieved"].astype(bool)


def flag_reason(row: pd.Series) -> str:
    """Why a row is flagged, in words for a table cell ("" if it is not).

    Says what was short: the generator's CPU, the clients that connected, or (polling) the
    request rate it managed against the one asked for (``target_requests_per_s``, if present).
    """
    cpu = row.get("generator_cpu_percent", math.nan)
    connected = row.get("clients_connected", math.nan)
    target = row.get("target_requests_per_s", math.nan)
    short_of_clients = not pd.isna(connected) and connected < row["clients"]
    short_of_rate = not pd.isna(target) and row["requests_per_s"] < target
    rate = f"{row['requests_per_s']:,.3g} of {target:,.3g} requests/s"
    reasons = []
    if bool(row["generator_saturated"]):
        if not pd.isna(cpu) and cpu >= GENERATOR_BUSY_PERCENT:
            reasons.append(f"generator saturated ({cpu:.0f}% CPU)")
        else:
            reasons.append(
                f"generator saturated ({rate})" if short_of_rate else "generator saturated"
            )
    if not bool(row["load_achieved"]):
        if short_of_clients:
            reasons.append(f"load not achieved ({connected:,.0f}/{row['clients']:,.0f} connected)")
        elif short_of_rate and not reasons:
            reasons.append(f"load not achieved ({rate})")
        else:
            reasons.append("load not achieved")
    return "; ".join(reasons)


def series_label(technique: str, poll_interval: float | None = None) -> str:
    """``"WebSocket"``, ``"polling every 1 s"``: how one line is named in legends and text."""
    name = TECHNIQUE_NAMES.get(technique, technique)
    if technique == "polling" and poll_interval is not None and not math.isnan(poll_interval):
        return f"{name} every {poll_interval:g} s"
    return name


@dataclass(frozen=True)
class Series:
    """The rows of one line on a plot: one technique (and, for polling, one poll interval)."""

    technique: str
    poll_interval: float | None
    rows: pd.DataFrame

    @property
    def label(self) -> str:
        return series_label(self.technique, self.poll_interval)


def series(frame: pd.DataFrame, x: str | None = None) -> Iterator[Series]:
    """Split rows into lines: techniques in the canonical order, polling by poll interval.

    With ``x``, each line's rows are sorted by that column, ready to draw.
    """
    order = {technique: index for index, technique in enumerate(TECHNIQUES)}
    keys = (
        frame[["technique", "poll_interval"]]
        .drop_duplicates()
        .assign(order=lambda keys: keys["technique"].map(order).fillna(len(order)))
        .sort_values(["order", "poll_interval"])
    )
    for technique, poll_interval in keys[["technique", "poll_interval"]].itertuples(index=False):
        if pd.isna(poll_interval):
            rows = frame[(frame["technique"] == technique) & frame["poll_interval"].isna()]
            interval = None
        else:
            rows = frame[
                (frame["technique"] == technique) & (frame["poll_interval"] == poll_interval)
            ]
            interval = float(poll_interval)
        yield Series(technique, interval, rows.sort_values(x) if x else rows)


def largest_common_clients(rows: pd.DataFrame, techniques: Sequence[str] | None = None) -> float:
    """The largest client count at which every technique (of ``rows``, or those named) was
    measured — the fairest single point to compare them at."""
    if techniques is not None:
        rows = rows[rows["technique"].isin(techniques)]
    if rows.empty:
        raise ValueError("no rows to compare")
    per_technique = [set(group["clients"]) for _, group in rows.groupby("technique")]
    common = set.intersection(*per_technique)
    return float(max(common or set(rows["clients"])))


def default_publish_rate(frame: pd.DataFrame) -> float:
    """The publish rate a sweep's figures show: 1 msg/s if it was measured, else the commonest."""
    rates = frame["publish_rate"].dropna()
    if rates.empty:
        raise ValueError("no rows with a publish rate")
    if (np.isclose(rates, 1.0)).any():
        return 1.0
    return float(rates.mode().iloc[0])


def transit_estimate_ms(
    summary: pd.DataFrame, clients: float, publish_rate: float
) -> tuple[float, str]:
    """One-way transit ``d`` for the models, and where it came from (for the legend).

    The models need ``d`` but nobody measures it directly. A pushed message's latency *is* one
    transit, so the median WebSocket (else SSE) latency at the same load is an independent
    estimate — independent of the polling rows the model is compared with.
    """
    for technique in ("websocket", "sse"):
        same_load = summary[
            (summary["technique"] == technique)
            & (summary["clients"] == clients)
            & np.isclose(summary["publish_rate"], publish_rate)
        ]
        medians = same_load["latency_p50_ms"].dropna()
        if not medians.empty:
            source = f"{TECHNIQUE_NAMES[technique]} median at the same load"
            return float(medians.median()), source
    pushed = summary.loc[summary["technique"].isin(["websocket", "sse"]), "latency_p50_ms"].dropna()
    if not pushed.empty:
        return float(pushed.min()), "lowest pushed median in this run"
    return 0.0, "no pushed technique measured: transit taken as 0"
