"""How every pushlab client waits before it reconnects: one policy, its numbers written once.

The terminal clients (``clients/reconnect.py``), the bench's Locust users
(``bench/measuring/locustfile.py``, ``peer_users.py``) and the classroom page (which reads the
numbers from ``/api/config``) all run this policy, so the reconnect storms the bench measures
are the ones our own clients cause.

**Capped exponential backoff with full jitter** (Marc Brooker, "Exponential Backoff And
Jitter", AWS Architecture Blog, 2015): before attempt ``n`` (0, 1, 2, ...) wait a random time
drawn uniformly from ``[0, min(cap_s, first_wait_s · 2^n)]``.

- *Exponential*: a long outage costs few attempts; *capped*: a client still finds the server
  again within ``cap_s`` of its return.
- *Full jitter*: in the article's simulation of clients contending at once, full jitter was
  among the cheapest variants in calls and the quickest to finish; equal jitter (what our page
  and terminal clients used to run) did slightly more work and took much longer: it keeps half
  of every wait fixed, so a class cut together still comes back in the same half of each
  interval.
- *Jitter after the cap*: the cap bounds the ceiling and the draw happens under it. Capping the
  jittered wait instead (``min(cap, ceiling + jitter)``) makes every client that has reached the
  cap wait exactly ``cap_s``: after a long outage the fleet is back in lock step, a herd again.
  (Streamlit's browser client met exactly this: its clients converged on the maximum wait,
  re-synchronised where spreading mattered most, until it capped first and jittered after.)
- *The first wait matters most in a server-restart storm*: every client is cut in the same
  instant, and the first attempts of all of them land within ``[0, first_wait_s]``. At 0.25 s a
  class of 10,000 simulated clients arrives at 40,000 connections a second, while the server
  is still starting; at 1 s the same fleet is spread over a whole second, and a single client
  after a blip is still back in half a second on average.

Why these numbers: ``first_wait_s = 1`` for the storm above (gRPC's connection backoff also
starts at 1 s); ``cap_s = 10`` so that a page left open through a long outage is back within
10 s of the server (5 s on average) while a fleet at the cap makes one attempt per 5 s per
client on average. Standard library only: safe to import in a Locust (gevent) process.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

MAX_DOUBLINGS = 64
"""Past this many doublings every ceiling is the cap (and ``2**n`` stays a small float)."""


@dataclass(frozen=True)
class ReconnectPolicy:
    """Capped exponential backoff with full jitter (see the module's docstring)."""

    first_wait_s: float
    cap_s: float
    jitter: bool = True  # False: wait the whole ceiling (the bench's storm, for contrast only)

    def __post_init__(self) -> None:
        if not (0 < self.first_wait_s <= self.cap_s and math.isfinite(self.cap_s)):
            raise ValueError(
                f"a reconnect policy needs 0 < first_wait_s <= cap_s, finite; got "
                f"first_wait_s={self.first_wait_s}, cap_s={self.cap_s}"
            )

    def ceiling_s(self, attempt: int) -> float:
        """The longest wait before attempt ``attempt`` (0, 1, 2, ...): doubling, then capped."""
        if attempt < 0:
            raise ValueError(f"attempt must be at least 0, got {attempt}")
        return min(self.cap_s, self.first_wait_s * 2.0 ** min(attempt, MAX_DOUBLINGS))

    def wait_s(self, attempt: int, rng: random.Random) -> float:
        """The wait before attempt ``attempt``: uniform under the capped ceiling (without
        jitter: the ceiling itself, so that clients cut together come back together)."""
        if not self.jitter:
            return self.ceiling_s(attempt)
        return rng.uniform(0.0, self.ceiling_s(attempt))

    def as_json(self) -> dict[str, Any]:
        """The policy as the classroom page reads it from ``/api/config``."""
        jitter = "full" if self.jitter else "none"
        return {"first_wait_s": self.first_wait_s, "cap_s": self.cap_s, "jitter": jitter}


RECONNECT_POLICY = ReconnectPolicy(first_wait_s=1.0, cap_s=10.0)
"""The policy every pushlab client runs (the page reads it from ``/api/config``)."""
NO_JITTER_POLICY = replace(RECONNECT_POLICY, jitter=False)
"""The same without jitter: only the bench's reconnect storm runs it, to show what jitter buys."""


@dataclass
class Backoff:
    """One client's count of failed attempts in a row, and the wait before the next one.

    ``next_wait_s`` counts an attempt; ``reset`` once a connection works again."""

    policy: ReconnectPolicy = RECONNECT_POLICY
    rng: random.Random = field(default_factory=random.Random, compare=False)
    attempt: int = 0

    def next_wait_s(self) -> float:
        wait_s = self.policy.wait_s(self.attempt, self.rng)
        self.attempt += 1
        return wait_s

    def reset(self) -> None:
        self.attempt = 0
