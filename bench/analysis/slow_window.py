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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pushlab.bench.analysis import metrics
from pushlab.bench.core.window import Reduced
from pushlab.protocol import Gap


@dataclass
class Account:
    """What the slow consumer received, and what it was told it missed."""

    first_id: int  # the first id it was owed (the cursor it connected with, plus one)
    received: list[int] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    reconnects: int = 0
    error: str = ""

    def owed(self, last_id: int) -> range:
        return range(self.first_id, last_id + 1)

    def lost_silently(self, last_id: int) -> int:
        """Ids up to ``last_id`` neither received nor named by a gap: must be 0."""
        told = {i for gap in self.gaps for i in range(gap.from_id, gap.to_id + 1)}
        known = set(self.received) | told
        return sum(1 for i in self.owed(last_id) if i not in known)

    def duplicates(self) -> int:
        return len(self.received) - len(set(self.received))

    def signalled(self) -> int:
        return sum(gap.count for gap in self.gaps)


@dataclass(frozen=True)
class SlowRecord:
    """What the harness saw of the slow consumer: its stall, the server's RSS, its account."""

    paused_at: float  # epoch s
    resumed_at: float
    rss_before_mb: float
    rss_peak_mb: float
    high_water_bytes: int
    account: Account
    last_id: int  # the window's last id: every id up to it is owed to the slow consumer


def p99_ms(latency_ms: np.ndarray) -> float:
    return float(np.percentile(latency_ms, 99)) if len(latency_ms) else math.nan


def slow_columns(reduced: Reduced, record: SlowRecord | None) -> dict[str, Any]:
    """The slow sweep's columns; nothing for a window without a slow consumer's record."""
    if record is None:
        return {}
    raw, counted = reduced.narrowed.deliveries, reduced.counted
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
        "notes": "; ".join(notes),
    }
