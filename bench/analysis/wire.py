"""Wire latency apart from the load generator's delay, and late apart from lost (pure).

Every delivery has three times on one clock: ``ts`` (the server published it), ``kernel_at``
(the client's kernel received its last byte: ``measuring/wire_socket.py``; NaN where the path
gives none) and ``received_at`` (the client's user code handled it). So

    observed latency = wire latency (kernel_at − ts) + generator delay (received_at − kernel_at)

The wire latency belongs to the technique; the generator delay is the bench's own, the time a
message waited in the generator's process for its client's turn. Means add up where
percentiles do not, so the generator's *share* is its mean delay over the mean observed latency,
over the deliveries the kernel stamped. A row where it exceeds :data:`GENERATOR_SHARE_LIMIT`
is flagged whatever the generator's CPU: one busy core can delay every message without
looking saturated.

Late is not lost: a window message that arrived after the window closed (in the drain) was
late; one that never arrived before the drain ended is missed (``metrics.check_sequences``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

GENERATOR_SHARE_LIMIT = 0.25
"""A row whose generator added more than this share of the observed latency is flagged."""

WIRE_STAMPED_ENOUGH = 0.99
"""The share of deliveries with a kernel receive time above which the wire columns stand for
the whole row."""

WIRE_COLUMNS = (
    "wire_latency_p50_ms",
    "wire_latency_p99_ms",
    "generator_delay_p50_ms",
    "generator_delay_p99_ms",
    "generator_share",
    "generator_delayed",
    "wire_stamped",
)


def wire_figures(ts: np.ndarray, received_at: np.ndarray, kernel_at: np.ndarray) -> dict[str, Any]:
    """The wire columns of the counted deliveries (NaN, never a guess, where nothing was
    stamped: a path without kernel timestamps, or no deliveries)."""
    ts, received_at, kernel_at = (np.asarray(a, dtype=float) for a in (ts, received_at, kernel_at))
    stamped = ~np.isnan(kernel_at)
    columns: dict[str, Any] = dict.fromkeys(WIRE_COLUMNS, math.nan)
    columns["generator_delayed"] = False
    columns["wire_stamped"] = float(stamped.mean()) if ts.size else math.nan
    if not stamped.any():
        return columns
    wire_ms = (kernel_at[stamped] - ts[stamped]) * 1e3
    delay_ms = (received_at[stamped] - kernel_at[stamped]) * 1e3
    observed_ms = wire_ms + delay_ms
    wire_p50, wire_p99 = np.percentile(wire_ms, [50, 99])
    delay_p50, delay_p99 = np.percentile(delay_ms, [50, 99])
    share = float(delay_ms.mean() / observed_ms.mean()) if observed_ms.mean() > 0 else math.nan
    columns.update(
        wire_latency_p50_ms=float(wire_p50),
        wire_latency_p99_ms=float(wire_p99),
        generator_delay_p50_ms=float(delay_p50),
        generator_delay_p99_ms=float(delay_p99),
        generator_share=share,
        generator_delayed=generator_delayed(share),
    )
    return columns


def generator_delayed(share: float) -> bool:
    """The generator added more than :data:`GENERATOR_SHARE_LIMIT` of the observed latency."""
    return share > GENERATOR_SHARE_LIMIT  # NaN (nothing stamped): not flagged, nothing known


def wire_note(columns: dict[str, Any]) -> str:
    """The row's note when the generator's share is over the limit."""
    if not columns["generator_delayed"]:
        return ""
    return (
        f"the generator added {columns['generator_share']:.0%} of the observed latency"
        f" (wire p50 {columns['wire_latency_p50_ms']:.3g} ms,"
        f" generator delay p50 {columns['generator_delay_p50_ms']:.3g} ms)"
    )


def arrived_late(received_at: np.ndarray, closed_at: float) -> int:
    """Counted deliveries that arrived after the window closed, in the drain: late, not lost
    (0 when the window's closing time is unknown)."""
    if math.isnan(closed_at):
        return 0
    return int(np.sum(np.asarray(received_at, dtype=float) > closed_at))
