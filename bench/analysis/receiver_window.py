"""The independent receiver's columns (pure): its latency for the window's messages, beside
the Locust users' (``measuring/receiver.py`` recorded it, ``measuring/receiver_part.py`` ran it).

The receiver's connections heard the same messages as the Locust users; only the window's count
(``after_id < id <= last_id``), each (connection, id) once. A window message a connection never
received is *missed*: the receiver is a check, and a check that lost messages says so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pushlab.bench.analysis import metrics
from pushlab.bench.core.window import Reduced


def receiver_columns(reduced: Reduced, record: dict[str, Any] | None) -> dict[str, Any]:
    """``receiver_latency_p50_ms`` … ``receiver_missed`` from the receiver's arrays."""
    if record is None:  # the window failed before the receiver reported
        return {"notes": "the independent receiver reported nothing"}
    window = reduced.narrowed
    after_id, last_id = int(window.before["last_id"]), int(window.after["last_id"])
    raw = record["arrays"]
    counted = metrics.first_receipts_in_window(
        raw["connection"], raw["message_id"], after_id, last_id
    )
    latency = metrics.latency_summary(
        metrics.latency_ms(raw["ts"][counted], raw["received_at"][counted])
    )
    connections = int(record["connections"])
    return {
        "receiver_connections": connections,
        "receiver_latency_p50_ms": latency.p50_ms,
        "receiver_latency_p99_ms": latency.p99_ms,
        "receiver_missed": max(connections * (last_id - after_id) - int(counted.size), 0),
    }


def receiver_gap_ms(row: Any) -> float:
    """The Locust users' wire p50 minus the receiver's p50 (NaN where either is missing)."""
    wire, receiver = row["wire_latency_p50_ms"], row["receiver_latency_p50_ms"]
    return math.nan if np.isnan(wire) or np.isnan(receiver) else float(wire - receiver)
