"""A window through the emulator: its network columns, and loss and recovery after a fault.

Pure, like ``measurement.py``: the harness hands over a :class:`NetworkRecord` (the emulator's
CPU and counters, and the fault it injected, when and how) beside the generator's arrays.

A message is identified by its feed and its id: a server restart starts a new feed whose ids
count from #1 again (the old feed lived in the dead server's memory). For every client connected
before the window opened (the *expected* clients), a window message is

- **received** if the client got it, at least once (a second receipt is a *duplicate*);
- **announced** if the client was told it was gone: by the server (a gap signal,
  ``pushlab.protocol``), or by a new feed — a client that meets one knows it missed every
  message of the old feed after its cursor, a gap with an open end (``core.window.OPEN_END``);
- **lost** otherwise: never received and never announced — a silent loss.

**Recovery** is, per expected client, the time from the fault to the first message it received
after it; the row gives its median and maximum over the clients that recovered in the window.
**Reconnects** are the clients' reconnect attempts in the window; the **peak reconnect rate**
is the most attempts in any 100 ms span, per second: backoff with jitter should keep it well
below the rate at which the clients were cut (all of them in one instant, by a drop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pushlab.bench.analysis.metrics import STAT_COUNTERS
from pushlab.bench.core.window import OPEN_END

PEAK_SPAN_S = 0.1


@dataclass(frozen=True)
class NetworkRecord:
    """The emulator's side of one window, and the fault injected in it (if any)."""

    cpu_percent: float  # the emulator process, over the window
    counters: dict[str, int] = field(default_factory=dict)  # pushlab.netem.Counters' growth
    fault: str = ""
    fault_at: float = math.nan  # epoch s: when it was applied
    fault_ended_at: float = math.nan  # epoch s: stall released, or restarted server listening
    crash_stats: dict[str, Any] | None = None  # restart: the old server's last /stats
    reborn_stats: dict[str, Any] | None = None  # restart: the new server's first /stats


def onto_a_new_feed(record: NetworkRecord | None) -> bool:
    """A restart whose new server started a new feed (the memory feed: a new ``feed_id``, ids
    from #1). On a Redis feed (issue 13) the new server finds the old one's feed and ids go on:
    one feed throughout the window."""
    if record is None or record.fault != "restart":
        return False
    crash, reborn = record.crash_stats or {}, record.reborn_stats or {}
    return crash.get("feed_id") is None or crash.get("feed_id") != reborn.get("feed_id")


def merged_after(
    record: NetworkRecord, deliveries: dict[str, np.ndarray], after: dict[str, Any]
) -> dict[str, Any]:
    """For a restart: one closing snapshot that spans both servers.

    Each counter is what the old server counted up to the crash plus what the new one counted
    from its start to the window's end; ``last_id`` is the old feed's last id (the newest the
    clients saw of it, if that is later than the crash snapshot), so that the ordinary columns
    describe the old feed's messages and the fault columns both feeds'.
    """
    crash, reborn = record.crash_stats or {}, record.reborn_stats or {}
    merged = {**after, **{k: crash[k] + after[k] - reborn[k] for k in STAT_COUNTERS if k in crash}}
    if onto_a_new_feed(record):
        merged["last_id"] = old_feed_last_id(record, deliveries)
    return merged


def old_feed_last_id(record: NetworkRecord, deliveries: dict[str, np.ndarray]) -> int:
    crash_id = int((record.crash_stats or {}).get("last_id", 0))
    first_feed = deliveries["message_id"][deliveries["feed"] == 0]
    return max(crash_id, int(first_feed.max(initial=0)))


def window_messages(
    before: dict[str, Any], after: dict[str, Any], record: NetworkRecord | None, last_old_id: int
) -> set[tuple[int, int]]:
    """Every (feed, id) published in the window."""
    if onto_a_new_feed(record):
        old = range(int(before["last_id"]) + 1, last_old_id + 1)
        return {(0, i) for i in old} | {(1, i) for i in range(1, int(after["last_id"]) + 1)}
    return {(0, i) for i in range(int(before["last_id"]) + 1, int(after["last_id"]) + 1)}


def fault_figures(
    deliveries: dict[str, np.ndarray],
    expected: set[int],
    messages: set[tuple[int, int]],
    record: NetworkRecord | None,
    opened_at: float,
) -> dict[str, Any]:
    """The fault columns of the row (``messages_lost`` … ``peak_reconnects_per_s``)."""
    received: dict[int, set[tuple[int, int]]] = {who: set() for who in expected}
    duplicates = 0
    first_after: dict[int, float] = {}
    fault_at = record.fault_at if record is not None and record.fault else math.nan
    for who, feed, message_id, at in zip(
        deliveries["user"].tolist(),
        deliveries["feed"].tolist(),
        deliveries["message_id"].tolist(),
        deliveries["received_at"].tolist(),
        strict=True,
    ):
        if who not in received:
            continue
        key = (feed, message_id)
        if key in messages:
            duplicates += key in received[who]
            received[who].add(key)
        if at > fault_at and who not in first_after:
            first_after[who] = at
    announced = announced_ids(deliveries)
    lost = signalled = 0
    for who, got in received.items():
        missing = messages - got
        told = {key for key in missing if key in announced.get(who, Told())}
        signalled += len(told)
        lost += len(missing) - len(told)
    recovery_ms = np.array([(at - fault_at) * 1000 for at in first_after.values()])
    reconnect_at = deliveries["reconnect_at"]
    reconnect_at = np.sort(reconnect_at[reconnect_at >= opened_at])
    return {
        "messages_lost": lost,
        "fault_duplicates": duplicates,
        "gaps_signalled": signalled,
        "recovery_p50_ms": float(np.median(recovery_ms)) if recovery_ms.size else math.nan,
        "recovery_max_ms": float(recovery_ms.max()) if recovery_ms.size else math.nan,
        "recovered_clients": len(first_after) if record is not None and record.fault else 0,
        "reconnects": int(reconnect_at.size),
        "peak_reconnects_per_s": peak_rate(reconnect_at),
    }


@dataclass
class Told:
    """What one client was told is gone, as ``(feed, id) in told``: the ids of its closed gaps,
    and per feed the first id of an open-ended one (every id from there on)."""

    ids: set[tuple[int, int]] = field(default_factory=set)
    open_from: dict[int, int] = field(default_factory=dict)

    def __contains__(self, key: tuple[int, int]) -> bool:
        feed, message_id = key
        return key in self.ids or (feed in self.open_from and message_id >= self.open_from[feed])


def announced_ids(deliveries: dict[str, np.ndarray]) -> dict[int, Told]:
    """Per client, every (feed, id) it was told was gone: by a gap signal, or by a new feed."""
    told: dict[int, Told] = {}
    for who, feed, low, high in zip(
        deliveries["gap_user"].tolist(),
        deliveries["gap_feed"].tolist(),
        deliveries["gap_from"].tolist(),
        deliveries["gap_to"].tolist(),
        strict=True,
    ):
        mine = told.setdefault(who, Told())
        if high == OPEN_END:
            mine.open_from[feed] = min(low, mine.open_from.get(feed, low))
        else:
            mine.ids.update((feed, i) for i in range(low, high + 1))
    return told


def open_gaps_closed_at_next_feed(deliveries: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays with each open-ended gap closed before the first id its client received from
    the next feed (dropped if it received none past the gap's start).

    For a fault after which ids never repeat (an emptied Redis adopted as a new feed whose ids
    go on), the window is read as one sequence: an open end there would also cover the new
    feed's ids, and hide a silent loss among them."""
    gap_to = deliveries["gap_to"].copy()
    kept = np.ones(gap_to.size, dtype=bool)
    for index in np.flatnonzero(gap_to == OPEN_END).tolist():
        who, feed = deliveries["gap_user"][index], deliveries["gap_feed"][index]
        later = (deliveries["user"] == who) & (deliveries["feed"] == feed + 1)
        new_ids = deliveries["message_id"][later]
        first_new = int(new_ids.min()) if new_ids.size else 0
        gap_to[index] = first_new - 1
        kept[index] = first_new - 1 >= deliveries["gap_from"][index]
    gap_keys = ("gap_user", "gap_feed", "gap_from")
    return {
        **deliveries,
        **{key: deliveries[key][kept] for key in gap_keys},
        "gap_to": gap_to[kept],
    }


def peak_rate(times: np.ndarray, span_s: float = PEAK_SPAN_S) -> float:
    """The most events in any ``span_s``-long stretch, per second (``times`` sorted)."""
    if times.size == 0:
        return 0.0
    ends = np.searchsorted(times, times + span_s, side="left")
    return float(np.max(ends - np.arange(times.size))) / span_s
