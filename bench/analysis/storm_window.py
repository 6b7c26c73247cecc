"""The reconnect storm's columns: connections arriving after a restart, and when all are back.

From the generator's arrays: the reconnect attempts (a Locust user's ``reconnect_at``, taken
as it opens its new connection; a page's every request, ``request_at``), and each client's
first delivery from the new server's feed (a message of the old feed still in flight after
the kill is not a return). The arrivals are kept as a
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
    raw = reduced.original.deliveries
    rates = arrivals_per_s(arrival_times(raw), record.fault_at)
    back_s = back_after_s(raw, reduced.expected_users, record.fault_at)
    return {
        "storm_jitter": "full" if jitter else "none",
        "storm_down_s": record.fault_ended_at - record.fault_at,
        "storm_peak_per_s": float(rates.max()) if rates.size else math.nan,
        "storm_back_p50_s": float(np.median(back_s)) if back_s.size else math.nan,
        "storm_all_back_s": float(back_s.max()) if back_s.size else math.nan,
        "storm_back_clients": int(back_s.size),
        "storm_arrivals": series_text(rates),
    }


def back_after_s(raw: dict[str, np.ndarray], clients: set[int], restart_at: float) -> np.ndarray:
    """Each client's first message from the new feed (it is back, on the new server's feed
    from its start), in seconds after the restart; clients never back are left out."""
    new = raw["feed"] >= 1
    first: dict[int, float] = {}
    for who, at in zip(raw["user"][new].tolist(), raw["received_at"][new].tolist(), strict=True):
        if who in clients:
            first[who] = min(at, first.get(who, math.inf))
    return np.array(sorted(first.values()), dtype=float) - restart_at
