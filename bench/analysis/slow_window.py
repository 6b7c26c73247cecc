"""The slow-consumer part of a measurement window (issue 15; ``measuring/slow_sweep.py``).

Three questions, from one window: did the server's memory stay bounded while one client did
not read (RSS before the stall against its peak during it, beside the high-water mark the
broadcast uses)? Did the other clients notice (their p99 for messages published before the
stall against those published during it, both from this window)? And was the slow client given
every message, or told which it missed (its account: received, signalled by a gap, lost
silently)?
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from pushlab.bench.analysis import metrics

if TYPE_CHECKING:
    from pushlab.bench.analysis.measurement import Window


def p99_ms(latency_ms: np.ndarray) -> float:
    return float(np.percentile(latency_ms, 99)) if len(latency_ms) else math.nan


def slow_columns(window: Window, counted: np.ndarray) -> dict[str, Any]:
    """The slow sweep's columns; nothing for a window without a slow consumer."""
    record = window.slow
    if record is None:
        return {}
    raw = window.deliveries
    published = raw["ts"][counted]
    latency = metrics.latency_ms(published, raw["received_at"][counted])
    before = latency[published < record.paused_at]
    during = latency[(published >= record.paused_at) & (published < record.resumed_at)]
    account = record.account
    p99_before, p99_during = p99_ms(before), p99_ms(during)
    notes = []
    if account.error:
        notes.append(f"slow consumer: {account.error}")
    lost = account.lost_silently(record.last_id)
    if lost:
        notes.append(f"the slow consumer lost {lost} messages without a gap signal")
    return {
        "slow_stall_s": record.resumed_at - record.paused_at,
        "slow_rss_growth_kb": (record.rss_peak_mb - record.rss_before_mb) * 1024,
        "slow_high_water_kb": record.high_water_bytes / 1024,
        "others_p99_before_ms": p99_before,
        "others_p99_during_ms": p99_during,
        "others_p99_change": metrics.ratio(p99_during - p99_before, p99_before),
        "slow_received": len(set(account.received)),
        "slow_signalled": account.signalled(),
        "slow_lost": lost,
        "slow_duplicates": account.duplicates(),
        "slow_reconnects": account.reconnects,
        "slow_notes": "; ".join(notes),
    }
