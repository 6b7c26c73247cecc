"""The slow consumer's part of a scenario: one client that stops reading, and what then.

For each push technique: Locust clients at a high publish rate of padded texts, and one more
client, the slow consumer (``slow_consumer.py``), that stops reading for ``stall_s`` a fifth of
the way into the window, then reads on. Three questions, three sets of columns
(``analysis/slow_window.py``):

- **memory**: the server's RSS just before the stall and its highest during it; the broadcast
  takes a slow client out of its loop past the high-water mark
  (``servers.broadcast.DEFAULT_HIGH_WATER_BYTES``), so the growth should stay near that;
- **the others**: their p99 latency for messages published before the stall and during it;
- **the slow one**: every message up to the window's last received, or named by a gap signal;
  ids neither received nor signalled are *lost silently* (must be 0).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pushlab.bench.analysis.slow_window import SlowRecord, slow_columns
from pushlab.bench.core.scenario import Part, ScenarioRun, Session
from pushlab.bench.measuring.sampling import rss_mb
from pushlab.bench.measuring.slow_consumer import SlowConsumer
from pushlab.servers.broadcast import DEFAULT_HIGH_WATER_BYTES

STALL_AT_FRACTION = 1 / 5
"""The stall starts this far into the window; it ends with as long again still to go."""
RSS_SAMPLE_S = 0.25
CATCH_UP_TIMEOUT_S = 30.0


def slow_window_s(stall_s: float) -> float:
    """A fifth of the window before the stall, a fifth after it."""
    return math.ceil(stall_s / (1 - 2 * STALL_AT_FRACTION))


@dataclass(frozen=True)
class SlowPart(Part):
    """One more client, not Locust's, that stops reading for ``stall_s`` in the window."""

    stall_s: float

    @property
    def key(self) -> str:
        return "slow"

    def id_suffix(self) -> str:
        return f"-slow{self.stall_s:g}"

    def words(self) -> str:
        return f", one client not reading for {self.stall_s:g} s"

    def session(self, run: ScenarioRun) -> Session:
        return SlowSession(self, run)

    def columns(self, reduced: Any) -> dict[str, Any]:
        return slow_columns(reduced, reduced.original.records.get(self.key))


class SlowSession(Session):
    """The slow consumer from before the publisher starts until after the drain; its stall,
    with the server's RSS sampled through it, inside the window."""

    def __init__(self, part: SlowPart, run: ScenarioRun) -> None:
        self.part, self.run = part, run
        self.consumer: SlowConsumer | None = None
        self.recorded: SlowRecord | None = None
        self.paused_at = self.resumed_at = math.nan
        self.rss_before_mb = self.rss_peak_mb = math.nan

    @contextlib.contextmanager
    def clients(self) -> Iterator[None]:
        host, port = self.run.server_address()
        cursor = int(self.run.stats()["last_id"])
        self.consumer = SlowConsumer(self.run.scenario.technique, host, port, cursor)
        try:
            yield
        finally:
            if self.recorded is None:  # a failed window: hang the consumer up
                self.consumer.finish(0, 0)

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=self._stall, args=(stop,), name="stall", daemon=True)
        thread.start()
        try:
            yield
        except BaseException:
            stop.set()
            raise
        finally:
            thread.join()

    def _stall(self, stop: threading.Event) -> None:
        assert self.consumer is not None
        pid = self.run.server_pid()
        if stop.wait(self.run.scenario.duration_s * STALL_AT_FRACTION):
            return
        self.rss_before_mb = self.rss_peak_mb = rss_mb(pid)
        self.paused_at = self.consumer.pause()
        stall_ends = time.monotonic() + self.part.stall_s
        while (left_s := stall_ends - time.monotonic()) > 0 and not stop.is_set():
            time.sleep(min(RSS_SAMPLE_S, left_s))
            self.rss_peak_mb = max(self.rss_peak_mb, rss_mb(pid))
        self.resumed_at = self.consumer.resume()

    def record(self, last_id: int) -> SlowRecord:
        """Wait until the slow consumer has every id up to ``last_id`` (or a gap for it)."""
        assert self.consumer is not None
        account = self.consumer.finish(last_id, CATCH_UP_TIMEOUT_S)
        self.recorded = SlowRecord(
            self.paused_at,
            self.resumed_at,
            self.rss_before_mb,
            self.rss_peak_mb,
            DEFAULT_HIGH_WATER_BYTES,
            account,
            last_id,
        )
        return self.recorded
