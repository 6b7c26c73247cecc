"""The lifecycle columns: what the hidden and the frozen pages heard, and how soon after.

From the browser generator's arrays (``measuring/page_records.py``): each hidden or frozen
page's state and times (``lifecycle_*``), its deliveries, the gaps the server announced to it
and its reconnects. For each state: the window's messages the pages received, those a gap
told them were gone, those lost silently (neither), the deliveries that reached the page's
code while it was hidden or frozen, the reconnects after it began, and, from the moment the
pages were shown again, the first news (median over the pages) and the last message
published before that moment (slowest page). Pure: tested on hand-made arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pushlab.bench.analysis.recovery import Told, announced_ids
from pushlab.bench.core.window import Reduced

STATE_CODES = {"hidden": 0, "frozen": 1}
FIGURES = ("pages", "received", "signalled", "lost", "heard_during", "reconnects")


def lifecycle_columns(reduced: Reduced) -> dict[str, Any]:
    """``hidden_*`` and ``frozen_*`` columns of the window (NaN or 0 where no page was so)."""
    columns: dict[str, Any] = {}
    for state, code in STATE_CODES.items():
        for name, value in state_figures(reduced, code).items():
            columns[f"{state}_{name}"] = value
    return columns


def state_figures(reduced: Reduced, code: int) -> dict[str, Any]:
    raw = reduced.original.deliveries
    empty = np.zeros(0, dtype=np.int64)
    chosen = raw.get("lifecycle_frozen", empty) == code
    users = raw.get("lifecycle_user", empty)[chosen].tolist()
    starts = raw.get("lifecycle_from", empty)[chosen].tolist()
    ends = raw.get("lifecycle_until", empty)[chosen].tolist()
    after_id = int(reduced.original.before["last_id"])
    last_id = int(reduced.original.after["last_id"])
    window = set(range(after_id + 1, last_id + 1))
    announced = announced_ids(raw)
    figures = dict.fromkeys(FIGURES, 0)
    resume_ms, caught_up_ms = [], []
    for who, start, end in zip(users, starts, ends, strict=True):
        mine = raw["user"] == who
        ids, at, ts = raw["message_id"][mine], raw["received_at"][mine], raw["ts"][mine]
        got = window & set(ids.tolist())
        told = {i for i in window - got if (0, i) in announced.get(who, Told())}
        figures["pages"] += 1
        figures["received"] += len(got)
        figures["signalled"] += len(told)
        figures["lost"] += len(window - got - told)
        figures["heard_during"] += int(((at > start) & (at < end)).sum())
        back = raw["reconnect_at"][raw["reconnect_user"] == who]
        figures["reconnects"] += int((back > start).sum())
        after = at[at >= end]
        if after.size:
            resume_ms.append((after.min() - end) * 1000)
        before = (ids > after_id) & (ids <= last_id) & (ts < end)
        if before.any():
            caught_up_ms.append(max((at[before].max() - end) * 1000, 0.0))
    return {
        **figures,
        "resume_ms": float(np.median(resume_ms)) if resume_ms else math.nan,
        "caught_up_ms": float(max(caught_up_ms)) if caught_up_ms else math.nan,
    }
