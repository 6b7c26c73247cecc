"""A few real seconds of each technique, event by event, for the timeline plot.

The trace is what ``pushlab client TECHNIQUE`` does: the same talkers of
``pushlab.clients.conversation`` drive each conversation, and a ``RecordingNarrator`` writes
down what they would have printed — every request, answer, upgrade, stream opening and pushed
message, with the time it happened. Every message's publication is written down from its
``ts`` (the server's clock, which is this machine's clock). The server publishes one message
a second (periodic); the clients keep the terminal's defaults (polling every
``POLL_INTERVAL_S``, long polls held up to ``LONGPOLL_HOLD_S``). ``trace.json`` holds

    {"polling": [{"t": 0.0, "kind": "request", "label": "GET /poll?since=0",
                  "message_id": null}, ...], "longpoll": [...], ...}

with ``t`` in seconds since that technique's trace began.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from pushlab.clients.conversation import converse
from pushlab.clients.i18n import English
from pushlab.clients.narration import Messages, Narrator, Summary
from pushlab.techniques import technique

TRACE_SECONDS = 4.5
TRACE_PUBLISH_RATE = 1.0
POLL_PHASE_S = 0.4  # the first poll waits this long, so polls and publications do not coincide
TRACED_KINDS = ("request", "response", "push", "upgrade", "stream-open")
"""The exchanges a sequence diagram draws; ``info`` lines (retry, comments, close) it leaves out."""


class TraceTexts(English):
    """The terminal client's phrasebook, with the short labels a diagram has room for."""

    def longpoll_request(self, path: str, hold_s: float) -> str:
        return f"GET {path}"

    def poll_answer(self, status: int, messages: str, empty_streak: int) -> str:
        return f"{status} · {messages}"

    def longpoll_answer(self, status: int, held_s: float, messages: str, timed_out: bool) -> str:
        return f"{status} · {messages}"

    def messages(self, ids: Sequence[int], latencies_ms: Sequence[float]) -> str:
        if not ids:
            return "nothing new"
        return f"message{'s' if len(ids) > 1 else ''} {', '.join(str(i) for i in ids)}"

    def ws_request(self, path: str) -> str:
        return f"GET {path} · Upgrade: websocket"

    def ws_accepted(self, status: int, reason: str) -> str:
        return f"{status} {reason}"

    def ws_frame(self, messages: str) -> str:
        return f"text frame · {messages}"

    def sse_request(self, path: str) -> str:
        return f"GET {path} · Accept: text/event-stream"

    def sse_opened(self, status: int, content_type: str) -> str:
        return f"{status} · {content_type}"

    def sse_event(self, event_id: str, messages: str) -> str:
        return f"event · id: {event_id}"


class RecordingNarrator(Narrator):
    """A narrator that writes the talkers' exchanges into a trace instead of a terminal."""

    def __init__(self) -> None:
        super().__init__(io.StringIO(), TraceTexts(), colour=False)
        self.started_at = time.time()
        self.events: list[dict[str, Any]] = []
        self.published: dict[int, float] = {}

    def add(self, kind: str, label: str, message_id: int | None = None) -> None:
        if kind in TRACED_KINDS:
            t = round(time.time() - self.started_at, 6)
            self.events.append({"t": t, "kind": kind, "label": label, "message_id": message_id})

    def exchange(self, arrow: str, text: str, style: str, kind: str, messages: Messages) -> None:
        """Record the exchange (and the publication time of each message it carried)."""
        for message in messages:
            self.published[int(message["id"])] = float(message["ts"])
        self.add(kind, text, int(messages[-1]["id"]) if messages else None)

    def summary(self, summary: Summary) -> None:
        """A trace has no summary table."""

    def result(self) -> list[dict[str, Any]]:
        """The exchanges and the publications heard of since the trace began, in time order."""
        publications = [
            {
                "t": round(ts - self.started_at, 6),
                "kind": "publish",
                "label": f"message {message_id} published",
                "message_id": message_id,
            }
            for message_id, ts in self.published.items()
            if ts >= self.started_at
        ]
        return sorted(self.events + publications, key=lambda event: event["t"])


async def start_publisher(url: str) -> None:
    """Turn the server's publisher on: one message a second, periodic."""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/publisher",
            json={"publish_rate": TRACE_PUBLISH_RATE, "arrivals": "periodic"},
        ) as response:
            response.raise_for_status()


async def record(name: str, url: str, seconds: float) -> list[dict[str, Any]]:
    """``seconds`` of the terminal client of ``name`` against ``url``, as trace events."""
    narrator = RecordingNarrator()
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    if technique(name).polls:
        await asyncio.sleep(POLL_PHASE_S)
    summary = await converse(name, url, stop=stop, narrator=narrator)
    if summary.error:
        raise RuntimeError(f"tracing {name} at {url}: {summary.error}")
    return narrator.result()


async def trace_one(name: str, url: str, seconds: float = TRACE_SECONDS) -> list[dict]:
    """Turn the publisher on (1 msg/s, periodic), follow the feed for ``seconds``."""
    await start_publisher(url)
    return await record(name, url, seconds)


async def trace_all(urls: dict[str, str], seconds: float = TRACE_SECONDS) -> dict[str, list]:
    """Trace every technique at once: each has its own server, and the load is tiny."""
    traces = await asyncio.gather(*(trace_one(t, url, seconds) for t, url in urls.items()))
    return dict(zip(urls, traces, strict=True))
