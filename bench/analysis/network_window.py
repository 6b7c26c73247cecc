"""The network and fault part of a measurement window, apart from the core reduction.

``measurement.py`` reduces any window to a row; a window through the emulator also carries the
emulator's record and, after a restart, deliveries from two feeds. This module gives the core
reduction the window it should describe (the old feed's part) and computes the network's and
the faults' columns from the whole of it, with ``recovery.py``. It also keeps the account every
window gets — messages lost, gaps signalled, reconnects — in one place (:func:`accounting`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from pushlab.bench.analysis import metrics, recovery
from pushlab.bench.core.window import Reduced, Window

DELIVERY_KEYS = ("user", "feed", "message_id", "ts", "received_at", "kernel_at")
NETWORK_KEYS = ("feed", "reconnect_user", "reconnect_at", "gap_user", "gap_feed", "gap_from")
ACCOUNT_COLUMNS = ("messages_lost", "gaps_signalled", "reconnects", "peak_reconnects_per_s")
ONE_ID_SEQUENCE = ("redis-restart", "redis-restart-empty", "redis-stall")
"""Faults after which ids never repeat, even across a new ``feed_id`` (an emptied Redis is
adopted as a new feed whose ids go on after the old one's): the window is one sequence."""
"""The core's share of ``recovery.fault_figures``: every window accounts for its messages."""


def with_network_arrays(deliveries: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The generator's arrays, with empty fault arrays if it wrote none (feed 0 throughout),
    and NaN kernel times if it wrote none (a user that reads no raw socket)."""
    empty = {key: np.zeros(0, dtype=np.int64) for key in (*NETWORK_KEYS, "gap_to")}
    empty["feed"] = np.zeros(len(deliveries["user"]), dtype=np.int64)
    empty["reconnect_at"] = np.zeros(0, dtype=np.float64)
    empty["kernel_at"] = np.full(len(deliveries["user"]), np.nan)  # no kernel timestamps
    return {**empty, **deliveries}


def old_feed_window(window: Window, record: recovery.NetworkRecord | None) -> Window:
    """The window the ordinary columns describe: after a restart, the old feed's part of it."""
    raw = with_network_arrays(window.deliveries)
    if record is None or record.fault != "restart":
        return replace(window, deliveries=raw)
    old = raw["feed"] == 0
    kept = {key: raw[key][old] for key in DELIVERY_KEYS}
    after = recovery.merged_after(record, raw, window.after)
    return replace(window, after=after, deliveries={**raw, **kept})


def accounting(window: Window, expected: set[int]) -> dict[str, Any]:
    """Every window's account of its messages: lost silently, signalled, and reconnects."""
    raw = with_network_arrays(window.deliveries)
    messages = recovery.window_messages(window.before, window.after, None, 0)
    figures = recovery.fault_figures(raw, expected, messages, None, window.opened_at)
    return {name: figures[name] for name in ACCOUNT_COLUMNS}


def network_columns(
    reduced: Reduced, part: Any, record: recovery.NetworkRecord | None
) -> dict[str, Any]:
    """The network's and the faults' columns (``recovery.py``) of a window through the
    emulator (``part``: the scenario's ``NetworkPart``)."""
    window, expected = reduced.original, reduced.expected_users
    raw = with_network_arrays(window.deliveries)
    if record is not None and record.fault in ONE_ID_SEQUENCE:
        raw = recovery.open_gaps_closed_at_next_feed(raw)
        raw = {
            **raw,
            "feed": np.zeros_like(raw["feed"]),
            "gap_feed": np.zeros_like(raw["gap_feed"]),
        }
    old_feed_last_id = int(reduced.narrowed.after["last_id"])
    messages = recovery.window_messages(window.before, window.after, record, old_feed_last_id)
    figures = recovery.fault_figures(raw, expected, messages, record, window.opened_at)
    duplicates = figures.pop("fault_duplicates")
    columns: dict[str, Any] = {
        **figures,
        "rtt_ms": part.rtt_ms,
        "jitter_ms": part.jitter_ms,
        "fault": part.fault,
        "resume": part.resume,
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
