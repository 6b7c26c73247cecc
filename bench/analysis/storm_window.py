"""The reconnect storm's columns: connections arriving after a restart, and when all are back.

From the generator's arrays: the reconnect attempts (a Locust user's ``reconnect_at``, taken
as it opens its new connection; a page's every request, ``request_at``), and each client's
first delivery after the restart (``recovery.fault_figures``). The arrivals are kept as a
series of counts per ``BIN_S`` from the restart (a text column), so that the figure can be
drawn from ``summary.csv``. Pure: tested on hand-made arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pushlab.bench.analysis import recovery
from pushlab.bench.core.window import Reduced

BIN_S = 0.5
SERIES_S = 30.0
"""The series covers this long after the restart."""


def arrival_times(raw: dict[str, np.ndarray]) -> np.ndarray:
    """When clients opened connections or sent requests (pages) / reconnected (Locust)."""
    return raw["request_at"] if "request_at" in raw else raw["reconnect_at"]


def arrivals_per_s(times: np.ndarray, restart_at: float) -> np.ndarray:
    """Arrivals per second in each ``BIN_S`` from the restart, for ``SERIES_S``."""
    edges = restart_at + np.arange(0.0, SERIES_S + BIN_S / 2, BIN_S)
    counts, _ = np.histogram(times, bins=edges)
    return counts / BIN_S


def series_text(rates: np.ndarray) -> str:
    return " ".join(f"{rate:g}" for rate in rates)


def series_of(text: str) -> np.ndarray:
    """The per-second rates a ``storm_arrivals`` cell holds."""
    return np.array([float(x) for x in str(text).split()], dtype=float)


def storm_columns(
    reduced: Reduced, record: recovery.NetworkRecord | None, jitter: bool
) -> dict[str, Any]:
    if record is None:
        return {"storm_jitter": "full" if jitter else "none"}
    window = reduced.original
    raw = window.deliveries
    messages = recovery.window_messages(
        window.before, window.after, record, int(reduced.narrowed.after["last_id"])
    )
    figures = recovery.fault_figures(
        raw, reduced.expected_users, messages, record, window.opened_at
    )
    rates = arrivals_per_s(arrival_times(raw), record.fault_at)
    down_s = record.fault_ended_at - record.fault_at
    return {
        "storm_jitter": "full" if jitter else "none",
        "storm_down_s": down_s,
        "storm_peak_per_s": float(rates.max()) if rates.size else math.nan,
        "storm_back_p50_s": figures["recovery_p50_ms"] / 1000,
        "storm_all_back_s": figures["recovery_max_ms"] / 1000,
        "storm_back_clients": figures["recovered_clients"],
        "storm_arrivals": series_text(rates),
    }
