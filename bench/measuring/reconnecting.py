"""How a Locust user comes back after a break: the reconnect policy, and the gap signal read.

**Backoff.** A user whose connection broke waits before it tries again, and waits longer after
each failed try: the one policy every pushlab client runs (:mod:`pushlab.reconnect_policy`,
capped exponential backoff with full jitter), so the reconnect storms the bench measures are
the ones our terminal clients and the classroom page would cause. The bench measures the
result: the peak reconnect rate.

**Gaps.** A server that cannot give a returning client every message says which ids are gone
(:mod:`pushlab.protocol`): a ``"gap"`` field in a poll answer, a ``{"gap": …}`` WebSocket frame,
a close with code 4001 whose reason is the same object, or an SSE event of type ``gap``. The
functions below read each form and return a :class:`~pushlab.protocol.Gap` (or ``None``), so
that a user counts announced gaps apart from silent ones.

Gevent-free and Locust-free on purpose: the unit tests import it in an asyncio process.
"""

from __future__ import annotations

import json
from typing import Any

from pushlab import protocol
from pushlab.protocol import Gap


def gap_in_answer(body: dict[str, Any]) -> Gap | None:
    """The gap of a poll answer, or of a WebSocket frame: its ``"gap"`` field, if any."""
    return protocol.gap_from_json(body.get("gap"))


def gap_in_close(data: bytes) -> Gap | None:
    """The gap of a WebSocket close frame's payload (RFC 6455 §5.5.1: code, then reason)."""
    if len(data) < 2 or int.from_bytes(data[:2], "big") != protocol.GAP_CLOSE_CODE:
        return None
    return gap_in_answer(json.loads(data[2:].decode()))


def gap_in_event(event_type: str, data: str) -> Gap | None:
    """The gap of an SSE event of type ``gap`` (its data is the gap object)."""
    if event_type != protocol.GAP_EVENT:
        return None
    return protocol.gap_from_json(json.loads(data))
