"""When the drain after a window is over: every client holds its last message, or none is coming.

Late is not lost (``docs/bench.md``): after the window the generator waits until every client
holds the window's last message, while some client still makes progress. Two kinds of client are
late without moving their cursor, and the drain must wait for both:

- **A client that is away** (its connection broke; it has not yet asked ``/stats`` where the feed
  is) holds nothing yet, whatever its cursor. After a server restart on the memory feed the new
  feed counts from #1, so the cursor such a client kept from the old feed is larger than the new
  feed's last id: read as a position it would say "caught up" of a client that has not received
  one message of the new feed. Stopped there, it was counted as having lost them all.
- **A client waiting out its backoff** (``pushlab/reconnect_policy.py``: up to 10 s) is not
  stuck: its next attempt is due at a known time. The drain calls a client stuck only when
  ``quiet_s`` have passed with no progress (a cursor moved on, or a client came back; one
  going away is none) *and* since
  the latest attempt it was waiting for. Attempts are waited for up to the policy's longest
  wait after the last progress: a server that never comes back does not hold the drain to its
  limit, one failed attempt after another.

Pure, Locust- and gevent-free, so that the rule is tested on synthetic clients and clocks
(``tests/test_drain.py``); ``generator.py`` runs it over its users.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Draining(Protocol):
    """What the drain reads of a client (``locustfile.PushlabUser`` has it)."""

    feed_id: str  # the feed it last found ("" before it asked)
    cursor: int  # the newest id it holds, on that feed
    away: bool  # its connection broke and it has not found the feed again
    reconnect_due_at: float  # time.monotonic() of its latest reconnect attempt (-inf: none)


def on_feed(client: Draining, feed_id: str = "") -> bool:
    """Whether ``client`` reads feed ``feed_id``, the one the window closed on, and is not away
    ("": a server without feed ids, where any client that is back counts)."""
    return not client.away and (not feed_id or client.feed_id == feed_id)


def holds(client: Draining, last_id: int, feed_id: str = "") -> bool:
    """Whether ``client`` holds message ``last_id`` of feed ``feed_id``."""
    return on_feed(client, feed_id) and client.cursor >= last_id


@dataclass
class Drain:
    """The drain's state between two looks at the clients (``look``); its clock is the caller's."""

    last_id: int
    quiet_s: float
    longest_wait_s: float  # the reconnect policy's cap: the longest wait before an attempt
    feed_id: str = ""  # the feed the window closed on
    held: int = -1  # at the last look: the ids held by the clients back (capped at last_id)
    away: int = 2**62  # at the last look: the clients away
    progress_at: float = -math.inf

    def look(self, clients: Sequence[Draining], now: float) -> bool | None:
        """True once every client holds ``last_id``; False once the clients still behind made no
        progress for ``quiet_s``, nor since an attempt they were waiting for; else None."""
        behind = [client for client in clients if not holds(client, self.last_id, self.feed_id)]
        if not behind:
            return True
        back = [client for client in clients if on_feed(client, self.feed_id)]
        held = sum(min(client.cursor, self.last_id) for client in back)
        away = len(clients) - len(back)
        if held > self.held or away < self.away:  # a client going away is no progress
            self.progress_at = now
        self.held, self.away = held, away
        due = max(client.reconnect_due_at for client in behind)
        waited_for = max(self.progress_at, min(due, self.progress_at + self.longest_wait_s))
        return False if now - waited_for > self.quiet_s else None
