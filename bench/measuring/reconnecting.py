"""How a Locust user comes back after a break: backoff with jitter, and the gap signal read.

**Backoff.** A user whose connection broke waits before it tries again, and waits longer after
each failed try: ``uniform(0, min(cap, base · 2^attempt))`` — capped exponential backoff with
"full jitter" (the AWS Architecture Blog's "Exponential Backoff and Jitter", 2015). Without the
jitter, every client cut by the same fault would come back in the same instant, again and again
(a thundering herd); with it their returns spread over the whole interval. The bench measures
the result: the peak reconnect rate.

**Gaps.** A server that cannot give a returning client every message says which ids are gone
(:mod:`pushlab.protocol`): a ``"gap"`` field in a poll answer, a ``{"gap": …}`` WebSocket frame,
a close with code 4001 whose reason is the same object, or an SSE event of type ``gap``. The
functions below read each form and return a :class:`~pushlab.protocol.Gap` (or ``None``), so
that a user counts announced gaps apart from silent ones.

Gevent-free and Locust-free on purpose: the unit tests import it in an asyncio process.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from pushlab import protocol
from pushlab.protocol import Gap

BACKOFF_BASE_S = 0.25
"""The first wait is under a quarter of a second: a client cut by a blip is back at once."""
BACKOFF_CAP_S = 4.0
"""No wait is longer than 4 s: a restarted server is found within a few seconds."""


@dataclass
class Backoff:
    """The next wait before a reconnect; :meth:`reset` once the connection works again."""

    base_s: float = BACKOFF_BASE_S
    cap_s: float = BACKOFF_CAP_S
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_wait_s(self) -> float:
        ceiling_s = min(self.cap_s, self.base_s * 2**self.attempt)
        self.attempt = min(self.attempt + 1, 32)  # 2**32 · base is past any cap
        return self.rng.uniform(0, ceiling_s)

    def reset(self) -> None:
        self.attempt = 0


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
