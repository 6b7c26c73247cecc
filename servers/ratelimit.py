"""Rate limits on publishing: a token bucket per client address.

Each address may publish ``rate`` messages per second on average and ``burst`` at once: the
bucket holds up to ``burst`` tokens, refills at ``rate`` per second, and each message takes one.
The defaults (20/s, burst 50) are far above what people typing in a chat produce, and far
below the thousands per second that one script can post to flood everyone's history. The
built-in publisher calls the feed directly and is never limited.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

IDLE_BUCKETS_KEPT = 10_000  # past this many addresses, full (idle) buckets are forgotten


@dataclass
class TokenBucket:
    tokens: float
    updated_s: float


class PublishLimiter:
    """``take(address)`` is None when ``address`` may publish now, else the seconds to wait."""

    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.refused = 0
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, address: str) -> float | None:
        if self.rate_per_s <= 0:
            return None  # limit switched off
        now = self._clock()
        bucket = self._buckets.get(address)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[address] = TokenBucket(float(self.burst), now)
        bucket.tokens = min(
            float(self.burst), bucket.tokens + (now - bucket.updated_s) * self.rate_per_s
        )
        bucket.updated_s = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        self.refused += 1
        return (1.0 - bucket.tokens) / self.rate_per_s

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) < IDLE_BUCKETS_KEPT:
            return
        full_after_s = self.burst / self.rate_per_s
        for address, bucket in list(self._buckets.items()):
            if now - bucket.updated_s >= full_after_s:
                del self._buckets[address]


LIMITER = web.AppKey("publish_limiter", PublishLimiter)


def refusal(limiter: PublishLimiter) -> str:
    return (
        f"too many messages: at most {limiter.rate_per_s:g} per second"
        f" (bursts of {limiter.burst}) from one address"
    )


def too_many(request: web.Request) -> web.Response | None:
    """429 with ``Retry-After`` (RFC 6585 §4) when the client's bucket is empty, else None."""
    limiter = request.app.get(LIMITER)  # an application built without one is not limited
    wait_s = None if limiter is None else limiter.take(request.remote or "")
    if limiter is None or wait_s is None:
        return None
    response = web.json_response(
        {"error": refusal(limiter), "retry_after_s": round(wait_s, 3)}, status=429
    )
    response.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
    return response
