"""The figures of one scenario, computed from raw measurements (pure functions, no I/O).

The generator hands over every delivery as four parallel arrays in arrival order (``user``,
``message_id``, ``ts`` = server publish time, ``received_at`` = client receive time; both epoch
seconds on one clock), and the harness hands over two ``/stats`` snapshots of the server. The
measurement window is defined by message ids: a message counts if it was published between the
two snapshots, i.e. ``after_id < id <= last_id``. Everything here is about that window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pushlab.techniques import behaviour as technique_entry  # peers behave as theirs

GENERATOR_CPU_LIMIT_PERCENT = 90.0
"""A generator process this busy (percent of one core) may be the bottleneck itself."""

SERVER_BUSY_PERCENT = 90.0
"""In a closed loop, a server less busy than this (percent of one core) was waiting for its
clients."""

ACHIEVED_RATE_FRACTION = 0.9
"""An achieved request rate below this share of the target means the load was not offered."""


@dataclass(frozen=True)
class LatencySummary:
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def latency_summary(latency_ms: np.ndarray) -> LatencySummary:
    """Mean, median, 95th and 99th percentile (linear interpolation) and maximum; NaN if empty."""
    values = np.asarray(latency_ms, dtype=float)
    if values.size == 0:
        return LatencySummary(math.nan, math.nan, math.nan, math.nan, math.nan)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return LatencySummary(
        mean_ms=float(values.mean()),
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
        max_ms=float(values.max()),
    )


@dataclass(frozen=True)
class SequenceCheck:
    """What the window's ids say about delivery to every client."""

    delivered: int  # first receipts of window ids, summed over clients
    missed: int  # window ids an expected client never received
    duplicated: int  # receipts of an id that client already had
    reordered: int  # first receipts of an id lower than one that client already had


def check_sequences(
    user: np.ndarray,
    message_id: np.ndarray,
    after_id: int,
    last_id: int,
    expected_users: set[int] | frozenset[int],
) -> SequenceCheck:
    """Count deliveries, gaps, duplicates and reordering, per client, in arrival order.

    ``expected_users`` are the clients that should have received every id of the window (those
    connected before it opened); a window id one of them lacks is *missed*. Ids outside the
    window still count when deciding whether a later id arrived out of order.
    """
    seen: dict[int, set[int]] = {}
    highest: dict[int, int] = {}
    delivered = duplicated = reordered = 0
    for who, message in zip(user.tolist(), message_id.tolist(), strict=True):
        in_window = after_id < message <= last_id
        had = seen.setdefault(who, set())
        if message in had:
            duplicated += in_window
            continue
        had.add(message)
        if in_window:
            delivered += 1
            reordered += message < highest.get(who, -1)
        highest[who] = max(highest.get(who, -1), message)
    window_size = max(last_id - after_id, 0)
    missed = 0
    for who in expected_users:
        received = sum(1 for m in seen.get(who, ()) if after_id < m <= last_id)
        missed += window_size - received
    return SequenceCheck(delivered, missed, duplicated, reordered)


def first_receipts_in_window(
    user: np.ndarray, message_id: np.ndarray, after_id: int, last_id: int
) -> np.ndarray:
    """Indices of the deliveries that count for latency: each (client, id) once, in the window."""
    in_window = (message_id > after_id) & (message_id <= last_id)
    indices = np.flatnonzero(in_window)
    if indices.size == 0:
        return indices
    pairs = np.stack([user[indices], message_id[indices]], axis=1)
    _, first = np.unique(pairs, axis=0, return_index=True)  # first occurrence of each pair
    return np.sort(indices[first])


def latency_ms(ts: np.ndarray, received_at: np.ndarray) -> np.ndarray:
    """Delivery latency: receive time minus the server's publish time, in milliseconds."""
    return (np.asarray(received_at, dtype=float) - np.asarray(ts, dtype=float)) * 1000.0


def ratio(part: float, whole: float) -> float:
    """``part / whole``, or NaN when there is nothing to divide by."""
    return part / whole if whole else math.nan


def per_message(total: float, messages: int) -> float:
    """A cost spread over delivered messages (requests, bytes, CPU µs); NaN if none."""
    return ratio(total, messages)


def answered_requests(
    technique: str, requests_arrived: float, held_before: float, held_after: float
) -> float:
    """Requests the server *answered* in a window, from its arrival count and held requests.

    The server counts a request when it arrives. A long poll that arrived just before the window
    opened is answered inside it, and one that arrives near the end is still held when the window
    closes: arrivals are then off by the change in held requests (``clients_connected`` at the
    two snapshots). Answers are what carry messages, so the bench counts answers, for the request
    rate and per message alike. Polling holds nothing; WebSocket and SSE make no requests after
    the upgrade.
    """
    entry = technique_entry(technique)
    if not entry.holds_request or entry.pushes:
        return requests_arrived
    return requests_arrived + held_before - held_after


def cpu_percent(cpu_seconds: float, wall_seconds: float) -> float:
    """CPU time over wall time, in percent of one core."""
    return 100.0 * ratio(cpu_seconds, wall_seconds)


def target_request_rate(technique: str, clients: int, poll_interval_s: float | None) -> float:
    """Requests per second the scenario asks for: only a polling technique has one (clients ÷
    interval)."""
    if technique_entry(technique).polls and poll_interval_s:
        return clients / poll_interval_s
    return math.nan


def rate_achieved(target_per_s: float, achieved_per_s: float) -> bool:
    """True when there is no target, or at least 90% of it was reached."""
    return math.isnan(target_per_s) or achieved_per_s >= ACHIEVED_RATE_FRACTION * target_per_s


def generator_saturated(
    generator_cpu_percent: float,
    target_per_s: float,
    achieved_per_s: float,
    server_cpu_percent: float = math.nan,
    closed_loop: bool = False,
) -> bool:
    """The generator, not the server, may have been the limit.

    Either its CPU was near one full core (gevent runs every user on one core), or it did not
    manage to send the requests the scenario asked for, or, in a closed loop (the saturation
    sweep: each client asks again as its answer arrives), the server had CPU to spare: every
    request is either at the server or at the clients, so a server that idles was waiting
    for the clients.
    """
    busy = generator_cpu_percent >= GENERATOR_CPU_LIMIT_PERCENT
    return (
        busy
        or not rate_achieved(target_per_s, achieved_per_s)
        or server_waited(closed_loop, server_cpu_percent)
    )


def server_waited(closed_loop: bool, server_cpu_percent: float) -> bool:
    """In a closed loop, the server's CPU stayed below ``SERVER_BUSY_PERCENT``."""
    return closed_loop and not server_cpu_percent >= SERVER_BUSY_PERCENT  # NaN: it waited


def load_achieved(
    clients: int, clients_connected: int, target_per_s: float, achieved_per_s: float
) -> bool:
    """Every client was connected for the whole window, and the request rate (polling) was met."""
    return clients_connected >= clients and rate_achieved(target_per_s, achieved_per_s)


STAT_COUNTERS = (
    "requests",
    "empty_responses",
    "messages_published",
    "messages_delivered",
    "bytes_in",
    "bytes_out",
    "tcp_connections_opened",
    "fanout_s",
    "fanouts",
    "process_cpu_s",
    "uptime_s",
)


def stats_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """How much each of the server's ``/stats`` counters grew between two snapshots."""
    return {key: after[key] - before[key] for key in STAT_COUNTERS if key in before}
