"""The network and fault part of a measurement window (issue 12), apart from the core reduction.

``measurement.py`` reduces any window to a row; a window through the emulator also carries the
emulator's record and, after a restart, deliveries from two feeds. This module gives the core
reduction the window it should describe (the old feed's part) and computes the fault columns
from the whole of it, with ``recovery.py``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from pushlab.bench.analysis import metrics, recovery

if TYPE_CHECKING:  # measurement imports this module: its Window type, for annotations only
    from pushlab.bench.analysis.measurement import Window

DELIVERY_KEYS = ("user", "feed", "message_id", "ts", "received_at")
NETWORK_KEYS = ("feed", "reconnect_user", "reconnect_at", "gap_user", "gap_feed", "gap_from")


def with_network_arrays(deliveries: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The generator's arrays, with empty fault arrays if it wrote none (feed 0 throughout)."""
    empty = {key: np.zeros(0, dtype=np.int64) for key in (*NETWORK_KEYS, "gap_to")}
    empty["feed"] = np.zeros(len(deliveries["user"]), dtype=np.int64)
    empty["reconnect_at"] = np.zeros(0, dtype=np.float64)
    return {**empty, **deliveries}


def old_feed_window(window: Window) -> Window:
    """The window the ordinary columns describe: after a restart, the old feed's part of it."""
    raw = with_network_arrays(window.deliveries)
    record = window.network
    if record is None or record.fault != "restart":
        return replace(window, deliveries=raw)
    old = raw["feed"] == 0
    kept = {key: raw[key][old] for key in DELIVERY_KEYS}
    after = recovery.merged_after(record, raw, window.after)
    return replace(window, after=after, deliveries={**raw, **kept})


def network_columns(
    window: Window, expected: set[int], old_feed_after: dict[str, Any]
) -> dict[str, Any]:
    """The network's and the faults' columns (``recovery.py``)."""
    scenario, record = window.scenario, window.network
    raw = with_network_arrays(window.deliveries)
    messages = recovery.window_messages(
        window.before, window.after, record, int(old_feed_after["last_id"])
    )
    figures = recovery.fault_figures(raw, expected, messages, record, window.opened_at)
    duplicates = figures.pop("fault_duplicates")
    columns: dict[str, Any] = {
        **figures,
        "rtt_ms": math.nan if scenario.rtt_ms is None else scenario.rtt_ms,
        "jitter_ms": scenario.jitter_ms if scenario.rtt_ms is not None else math.nan,
        "fault": scenario.fault,
        "resume": scenario.resume,
    }
    notes = []
    if record is not None:
        columns["netem_cpu_percent"] = record.cpu_percent
        columns["netem_connections_opened"] = record.counters.get("connections_opened", 0)
        if record.cpu_percent >= metrics.GENERATOR_CPU_LIMIT_PERCENT:
            notes.append(f"emulator CPU {record.cpu_percent:.0f}% of a core: it may be the limit")
        if record.fault == "restart":
            columns["duplicated"] = duplicates  # over both feeds
            new = sum(feed == 1 for feed, _id in messages)
            notes.append(
                f"restart: {len(messages) - new} messages of the old feed in the window, {new} of"
                " the new; the old feed lived in the killed server's memory"
                if recovery.onto_a_new_feed(record)
                else "restart: the new server found the same feed (it outlived the process)"
            )
        silent = len(expected) - figures["recovered_clients"]
        if record.fault and silent > 0:
            notes.append(f"{silent} clients received nothing after the fault")
    columns["notes"] = "; ".join(notes)
    return columns
