"""Wire facts that servers and clients must agree on, beyond the messages themselves.

Data is never lost silently. A server keeps a bounded history; a client that comes back with a
cursor older than that history (a late resume), or that reads so slowly that the history moves
past it (a slow consumer), cannot be given every message. It is told which ones it missed: a
**gap**, ids ``from_id`` to ``to_id`` inclusive, in the same JSON object on every technique:

- polling and long polling: a ``"gap"`` field in the answer, beside ``"messages"``;
- WebSocket: a text frame ``{"gap": {...}}`` before the messages that follow it; a slow consumer
  that fell past the history is closed with :data:`GAP_CLOSE_CODE` and the same object as the
  close reason (the client resumes with ``since=<to_id>``);
- SSE: an event of type ``gap`` whose ``id:`` is ``to_id``, so the browser's ``Last-Event-ID``
  resumes after the gap.

Dependency-free, like :mod:`pushlab.techniques`: clients, servers and Locust users import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

GAP_CLOSE_CODE = 4001
"""A private-use close code (RFC 6455 §7.4.2: 4000–4999 are for applications): "you fell
further behind than the history holds"."""

GAP_EVENT = "gap"
"""The SSE event type of a gap."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Messages ``from_id`` … ``to_id`` (inclusive) are gone: the history no longer holds them."""

    from_id: int
    to_id: int

    def __post_init__(self) -> None:
        if not 1 <= self.from_id <= self.to_id:
            raise ValueError(
                f"a gap runs from an id ≥ 1 to one ≥ it, not {self.from_id}–{self.to_id}"
            )

    @property
    def count(self) -> int:
        return self.to_id - self.from_id + 1

    def as_json(self) -> dict[str, int]:
        return {"from_id": self.from_id, "to_id": self.to_id}

    def frame_text(self) -> str:
        """The WebSocket text frame, and the close reason, that announce this gap."""
        return json.dumps({"gap": self.as_json()}, separators=(",", ":"))

    def describe(self) -> str:
        """``messages #4–#5 are gone`` — how a terminal client says it."""
        if self.count == 1:
            return f"message #{self.from_id} is gone"
        return f"messages #{self.from_id}–#{self.to_id} are gone"


def gap_from_json(value: Any) -> Gap | None:
    """Read a ``{"from_id": a, "to_id": b}`` object (or ``None``); refuse anything else."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"from_id", "to_id"}:
        raise ValueError(f"not a gap: {value!r}")
    from_id, to_id = value["from_id"], value["to_id"]
    if not (type(from_id) is int and type(to_id) is int):
        raise ValueError(f"a gap's ids are integers: {value!r}")
    return Gap(from_id, to_id)
