"""What the browser lane's pages recorded, as the arrays of the generators' ``.npz``.

Each page (``servers/static/bench-page.js``) keeps its deliveries, the requests it started,
its states and the gaps it was told of (by the server, or by a new feed: open-ended); this
module turns a list of those records into the arrays ``generator.py`` writes for Locust's
users, so that the measurement reads a page as it reads a user. Pure: tested on hand-made records.

A page's *disconnect* is each time its client entered the ``reconnecting`` state; its
*reconnect* is each return from there to a state in which it can hear news. More arrays
than Locust's: every request a page started (``request_user``, ``request_at``), and each page
hidden or frozen (``lifecycle_user``; ``lifecycle_frozen`` 1, or 0 for hidden), and when it
was so until when it was shown again (``lifecycle_from``, ``lifecycle_until``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pushlab.bench.core.window import OPEN_END

CONNECTED_STATES = frozenset({"open", "held", "waiting"})
"""The client can hear news: a stream or socket open, a request held, a poll answered."""
BROKEN_STATE = "reconnecting"


def reconnects(states: list[list[Any]]) -> tuple[int, list[float]]:
    """How often a page's client broke, and when it was back each time."""
    disconnects, back_at, broken = 0, [], False
    for state, at in states:
        if state == BROKEN_STATE:
            disconnects += not broken
            broken = True
        elif broken and state in CONNECTED_STATES:
            back_at.append(float(at))
            broken = False
    return disconnects, back_at


def open_ended(gap: list[Any]) -> list[Any]:
    """A page's ``[feed, from_id, to_id]``; a new feed's gap has no ``to_id`` (``null``)."""
    feed, from_id, to_id = gap
    return [feed, from_id, OPEN_END if to_id is None else to_id]


def page_arrays(records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The ``.npz`` arrays of these pages; page ``i`` is user ``i + 1``."""
    deliveries = [(n, *d) for n, r in enumerate(records, 1) for d in r.get("deliveries", [])]
    gaps = [(n, *open_ended(g)) for n, r in enumerate(records, 1) for g in r.get("gaps", [])]
    requests = [(n, at) for n, r in enumerate(records, 1) for at in r.get("requestsAt", [])]
    changed = [
        (n, r["lifecycleState"] == "frozen", r["lifecycleFrom"], r.get("lifecycleUntil", math.nan))
        for n, r in enumerate(records, 1)
        if "lifecycleFrom" in r
    ]
    broken = [reconnects(r.get("states", [])) for r in records]
    back = [(n, at) for n, (_, times) in enumerate(broken, 1) for at in times]

    def column(rows: list[tuple[Any, ...]], index: int, dtype: type) -> np.ndarray:
        return np.array([row[index] for row in rows], dtype=dtype)

    return dict(
        user=column(deliveries, 0, np.int64),
        feed=column(deliveries, 1, np.int64),
        message_id=column(deliveries, 2, np.int64),
        ts=column(deliveries, 3, np.float64),
        received_at=column(deliveries, 4, np.float64),
        user_number=np.arange(1, len(records) + 1, dtype=np.int64),
        connected_at=np.array(
            [math.nan if r.get("connectedAt") is None else r["connectedAt"] for r in records],
            dtype=np.float64,
        ),
        disconnects=np.array([count for count, _ in broken], dtype=np.int64),
        reconnect_user=column(back, 0, np.int64),
        reconnect_at=column(back, 1, np.float64),
        gap_user=column(gaps, 0, np.int64),
        gap_feed=column(gaps, 1, np.int64),
        gap_from=column(gaps, 2, np.int64),
        gap_to=column(gaps, 3, np.int64),
        request_user=column(requests, 0, np.int64),
        request_at=column(requests, 1, np.float64),
        lifecycle_user=column(changed, 0, np.int64),
        lifecycle_frozen=column(changed, 1, np.int64),
        lifecycle_from=column(changed, 2, np.float64),
        lifecycle_until=column(changed, 3, np.float64),
    )
