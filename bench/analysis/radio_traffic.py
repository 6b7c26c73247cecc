"""Each technique's traffic as one client would see it, made up from the rules of the technique,
to run the radio model at rates and intervals a bench run did not measure.

A run measures a few points; the lines between them, the crossovers and the heartbeat finding
need the model at any rate. These timelines follow what the servers do (``servers/``) with the
sizes of writes a run measured (:func:`write_sizes`):

- **polling**: a request up and its answer down every ``poll_interval_s``, news or not, the
  answer growing with the messages it carries;
- **long polling**: an answer down at each message and the question asked again at once; with
  no news for ``hold_s``, an empty answer and the question again (RFC 6202 §2.1);
- **WebSocket**: a frame down per message; the server's ping every ``ws_ping_s`` and the
  client's pong (aiohttp's ``heartbeat`` restarts its timer on the pong, not on what it sends);
- **SSE**: an event down per message; the server's keep-alive comment every ``sse_keepalive_s``
  on one timer for all streams, whatever was sent.

Messages arrive as a Poisson process (the bench's default arrivals), from a seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pushlab.bench.analysis.radio import Timeline
from pushlab.servers.config import ServerConfig
from pushlab.techniques import LONGPOLL, LONGPOLL_HOLD_S, POLLING, SSE, WEBSOCKET

ANSWER_AFTER_S = 0.001
"""The time between a request and its answer on a phone's link is not the point here."""


@dataclass(frozen=True)
class Heartbeats:
    """The periods that wake a client with no news, as the servers are configured."""

    hold_s: float = LONGPOLL_HOLD_S
    ws_ping_s: float = ServerConfig.ws_heartbeat_s
    sse_keepalive_s: float = ServerConfig.sse_keepalive_s

    def of(self, technique: str, poll_interval_s: float | None) -> tuple[float, str]:
        """The period (s) and name of what wakes ``technique``'s client when nothing happens."""
        return {
            POLLING.name: (poll_interval_s or 0.0, "its poll"),
            LONGPOLL.name: (self.hold_s, "the long poll asked again when its hold runs out"),
            WEBSOCKET.name: (self.ws_ping_s, "the server's ping and the client's pong"),
            SSE.name: (self.sse_keepalive_s, "the keep-alive comment"),
        }[technique]

    def stretched(self, factor: float) -> Heartbeats:
        """Every heartbeat's period times ``factor`` (a poll interval is the caller's)."""
        return Heartbeats(
            self.hold_s * factor, self.ws_ping_s * factor, self.sse_keepalive_s * factor
        )


@dataclass(frozen=True)
class WriteSizes:
    """A typical write of one technique: bytes up (a request, a pong) and down (a pushed
    message; for polling and long polling an empty answer, each message adding
    ``message_bytes``)."""

    up_bytes: int = 0
    down_bytes: int = 0
    message_bytes: int = 0


BURST_S = 0.001
"""Writes one way closer than this are one burst (one frame, one answer)."""
SAME_ANSWER_BYTES = 16
"""Empty answers differ by a few bytes (the ids' digits, the date): within this, one size."""
NO_SIZES = WriteSizes()
SERVER_HEARTBEATS = Heartbeats()
"""The heartbeats of the servers as configured by default (``servers/config.py``)."""


def bursts(at_s: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The bytes of each burst: writes one way less than ``BURST_S`` apart added up (a client
    library may read one frame in two calls: its header, then its payload)."""
    at_s, size = at_s[size > 0], size[size > 0]
    if not len(size):
        return size
    starts = np.concatenate([[True], np.diff(at_s) >= BURST_S])
    return np.add.reduceat(size, np.flatnonzero(starts))


def write_sizes(timeline: Timeline, *, answers: bool) -> WriteSizes:
    """A measured timeline's typical writes (each burst as one): the median up; down, the
    median (a pushed message) or, for ``answers`` (polling, long polling), the smallest (an
    empty answer) and what a message adds: the smallest tenth of the other answers, less the
    empty one."""
    up = bursts(timeline.at_s, timeline.up_bytes)
    down = bursts(timeline.at_s, timeline.down_bytes)
    up_bytes = int(np.median(up)) if len(up) else 0
    if not len(down):
        return WriteSizes(up_bytes)
    if not answers:
        return WriteSizes(up_bytes, int(np.median(down)))
    empty = int(down.min())
    news = down[down > empty + SAME_ANSWER_BYTES]
    message = int(np.percentile(news, 10)) - empty if len(news) else 0
    return WriteSizes(up_bytes, empty, message)


def poisson_times(rate: float, duration_s: float, seed: int) -> np.ndarray:
    if rate <= 0:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / rate, size=int(rate * duration_s * 1.5) + 10)
    times = np.cumsum(gaps)
    return times[times < duration_s]


def traffic(
    technique: str,
    publish_rate: float,
    duration_s: float,
    *,
    poll_interval_s: float | None = None,
    sizes: WriteSizes = NO_SIZES,
    heartbeats: Heartbeats = SERVER_HEARTBEATS,
    seed: int = 1,
) -> Timeline:
    """One client's writes over ``duration_s`` seconds (from 0)."""
    up, down = sizes.up_bytes, sizes.down_bytes
    messages = poisson_times(publish_rate, duration_s, seed)
    events: list[tuple[float, int, int]] = []
    per_message = sizes.message_bytes
    if technique == POLLING.name:
        if not poll_interval_s:
            raise ValueError("polling needs a poll interval above 0")
        polls = np.arange(0.0, duration_s, poll_interval_s)
        carried = np.diff(np.searchsorted(messages, polls, side="right"), prepend=0)
        for asked, news in zip(polls, carried, strict=True):
            answer = down + int(news) * per_message
            events += [(asked, up, 0), (asked + ANSWER_AFTER_S, 0, answer)]
    elif technique == LONGPOLL.name:
        asked = 0.0
        for at in [*messages, np.inf]:
            while asked + heartbeats.hold_s < min(at, duration_s):
                asked += heartbeats.hold_s
                events += [(asked, 0, down), (asked + ANSWER_AFTER_S, up, 0)]
            if at < duration_s:
                events += [(at, 0, down + per_message), (at + ANSWER_AFTER_S, up, 0)]
                asked = at
    elif technique in (WEBSOCKET.name, SSE.name):
        events += [(at, 0, down) for at in messages]
        period_s = heartbeats.of(technique, None)[0]
        for beat in np.arange(period_s, duration_s, period_s):
            events.append((beat, 0, down))
            if technique == WEBSOCKET.name:
                events.append((beat + ANSWER_AFTER_S, up, 0))  # the pong
    else:
        raise ValueError(f"no traffic model for {technique!r}")
    return Timeline.of(events)
