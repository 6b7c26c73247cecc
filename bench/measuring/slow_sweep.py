"""The slow-consumer sweep (``--sweeps slow``, issue 15): one client stops reading; what then?

For each push technique (WebSocket, SSE): ``slow_clients`` Locust clients (100 by default) at
``slow_rate`` (200 msg/s) of ``slow_text_bytes`` texts (4 KiB), and one more client, the slow
consumer (``slow_consumer.py``), that stops reading for ``slow_stall_s`` (30 s) a fifth of the
way into the window, then reads on. The window is long enough to see the others before, during
and after the stall. Three questions, three sets of columns (``analysis/slow_window.py``):

- **memory**: the server's RSS just before the stall and its highest during it; the broadcast
  takes a slow client out of its loop past the high-water mark
  (``servers.broadcast.DEFAULT_HIGH_WATER_BYTES``), so the growth should stay near that;
- **the others**: their p99 latency for messages published before the stall and during it;
- **the slow one**: every message up to the window's last received, or named by a gap signal;
  ids neither received nor signalled are *lost silently* (must be 0).

The warm-up fills the feed's history first (``history ÷ rate``), so that the history's own
growth is not counted as the slow client's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pushlab.bench.measuring.sampling import rss_mb
from pushlab.bench.measuring.slow_consumer import SLOW_TECHNIQUES, Account, SlowConsumer
from pushlab.servers.broadcast import DEFAULT_HIGH_WATER_BYTES
from pushlab.servers.feed import DEFAULT_HISTORY_SIZE

if TYPE_CHECKING:
    from pushlab.bench.measuring.scenarios import MatrixSettings, Scenario

SWEEP = "slow"
STALL_AT_FRACTION = 1 / 5
"""The stall starts this far into the window; it ends with as long again still to go."""
RSS_SAMPLE_S = 0.25
CATCH_UP_TIMEOUT_S = 30.0

Builder = Callable[["MatrixSettings", str, int, float, float], "Scenario"]


def slow_window_s(stall_s: float) -> float:
    """A fifth of the window before the stall, a fifth after it."""
    return math.ceil(stall_s / (1 - 2 * STALL_AT_FRACTION))


def slow_rows(settings: MatrixSettings, build: Builder) -> list[tuple[str, Scenario]]:
    if SWEEP not in settings.sweeps:
        return []
    rows = []
    for name in settings.techniques:
        if name not in SLOW_TECHNIQUES:
            continue
        base = build(settings, name, settings.slow_clients, settings.slow_rate, 1.0)
        warmup_s = max(base.warmup_s, DEFAULT_HISTORY_SIZE / settings.slow_rate + 1)
        rows.append(
            (
                SWEEP,
                replace(
                    base,
                    duration_s=slow_window_s(settings.slow_stall_s),
                    warmup_s=warmup_s,
                    slow_stall_s=settings.slow_stall_s,
                    text_bytes=settings.slow_text_bytes,
                ),
            )
        )
    return rows


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


@dataclass
class SlowStall:
    """The window's sleep for the slow sweep: the stall at its time, RSS sampled through it."""

    scenario: Scenario
    consumer: SlowConsumer
    server_pid: int
    paused_at: float = math.nan
    resumed_at: float = math.nan
    rss_before_mb: float = math.nan
    rss_peak_mb: float = math.nan

    def wait(self, duration_s: float) -> None:
        started = time.monotonic()
        time.sleep(duration_s * STALL_AT_FRACTION)
        self.rss_before_mb = self.rss_peak_mb = rss_mb(self.server_pid)
        self.paused_at = self.consumer.pause()
        stall_ends = time.monotonic() + self.scenario.slow_stall_s
        while (left_s := stall_ends - time.monotonic()) > 0:
            time.sleep(min(RSS_SAMPLE_S, left_s))
            self.rss_peak_mb = max(self.rss_peak_mb, rss_mb(self.server_pid))
        self.resumed_at = self.consumer.resume()
        time.sleep(max(duration_s - (time.monotonic() - started), 0))

    def record(self, last_id: int) -> SlowRecord:
        """Wait until the slow consumer has every id up to ``last_id`` (or a gap for it)."""
        account = self.consumer.finish(last_id, CATCH_UP_TIMEOUT_S)
        return SlowRecord(
            self.paused_at,
            self.resumed_at,
            self.rss_before_mb,
            self.rss_peak_mb,
            DEFAULT_HIGH_WATER_BYTES,
            account,
            last_id,
        )
