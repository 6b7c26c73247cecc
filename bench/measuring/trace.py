"""A few real seconds of each technique, event by event, for the timeline plot.

One small client per technique (aiohttp, in the harness process), one message a second
(periodic), polling every second. Every request, answer, upgrade, stream opening and pushed
message is written down with the time it happened; every message's publication is written down
from its ``ts`` (the server's clock, which is this machine's clock). ``trace.json`` holds

    {"polling": [{"t": 0.0, "kind": "request", "label": "GET /poll?since=0",
                  "message_id": null}, ...], "longpoll": [...], ...}

with ``t`` in seconds since that technique's trace began.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

TRACE_SECONDS = 4.5
TRACE_PUBLISH_RATE = 1.0
TRACE_POLL_INTERVAL_S = 1.0
POLL_PHASE_S = 0.4  # the first poll waits this long, so polls and publications do not coincide


class Recorder:
    """The events of one technique's trace, stamped relative to its start."""

    def __init__(self) -> None:
        self.started = time.time()
        self.events: list[dict[str, Any]] = []
        self.published: dict[int, float] = {}

    def add(self, kind: str, label: str, message_id: int | None = None) -> None:
        self.events.append(
            {
                "t": round(time.time() - self.started, 6),
                "kind": kind,
                "label": label,
                "message_id": message_id,
            }
        )

    def heard_of(self, message: dict[str, Any]) -> None:
        self.published[message["id"]] = message["ts"]

    def result(self) -> list[dict[str, Any]]:
        publications = [
            {
                "t": round(ts - self.started, 6),
                "kind": "publish",
                "label": f"message {message_id} published",
                "message_id": message_id,
            }
            for message_id, ts in self.published.items()
            if ts >= self.started
        ]
        return sorted(self.events + publications, key=lambda event: event["t"])


def answer_label(messages: list[dict[str, Any]]) -> str:
    if not messages:
        return "200 · nothing new"
    ids = ", ".join(str(m["id"]) for m in messages)
    return f"200 · message{'s' if len(messages) > 1 else ''} {ids}"


async def trace_polling(session: aiohttp.ClientSession, url: str, until: float) -> Recorder:
    recorder, cursor = Recorder(), 0
    await asyncio.sleep(POLL_PHASE_S)
    while time.time() < until:
        asked_at = time.monotonic()
        recorder.add("request", f"GET /poll?since={cursor}")
        async with session.get(f"{url}/poll", params={"since": cursor}) as response:
            body = await response.json()
        newest = body["messages"][-1]["id"] if body["messages"] else None
        recorder.add("response", answer_label(body["messages"]), newest)
        for message in body["messages"]:
            recorder.heard_of(message)
        cursor = body["last_id"]
        await asyncio.sleep(max(TRACE_POLL_INTERVAL_S - (time.monotonic() - asked_at), 0))
    return recorder


async def trace_longpoll(session: aiohttp.ClientSession, url: str, until: float) -> Recorder:
    recorder, cursor = Recorder(), 0
    while time.time() < until:
        hold_s = max(min(until - time.time(), 20.0), 0.1)
        recorder.add("request", f"GET /poll?since={cursor}&timeout={hold_s:.0f}")
        async with session.get(
            f"{url}/poll", params={"since": cursor, "timeout": f"{hold_s:.3f}"}
        ) as response:
            body = await response.json()
        newest = body["messages"][-1]["id"] if body["messages"] else None
        recorder.add("response", answer_label(body["messages"]), newest)
        for message in body["messages"]:
            recorder.heard_of(message)
        cursor = body["last_id"]
    return recorder


async def trace_websocket(session: aiohttp.ClientSession, url: str, until: float) -> Recorder:
    recorder = Recorder()
    recorder.add("request", "GET /ws?since=0 · Upgrade: websocket")
    async with session.ws_connect(f"{url}/ws?since=0", autoping=True) as ws:
        recorder.add("upgrade", "101 Switching Protocols")
        while (left := until - time.time()) > 0:
            try:
                frame = await ws.receive(timeout=left)
            except TimeoutError:
                break
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            recorder.add("push", f"text frame · message {message['id']}", message["id"])
            recorder.heard_of(message)
    return recorder


async def trace_sse(session: aiohttp.ClientSession, url: str, until: float) -> Recorder:
    recorder = Recorder()
    recorder.add("request", "GET /events?since=0 · Accept: text/event-stream")
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with session.get(
        f"{url}/events?since=0", headers={"Accept": "text/event-stream"}, timeout=timeout
    ) as response:
        recorder.add("stream-open", f"{response.status} · text/event-stream")
        while (left := until - time.time()) > 0:
            try:
                line = await asyncio.wait_for(response.content.readline(), timeout=left)
            except TimeoutError:
                break
            if not line:
                break
            text = line.decode().strip()
            if text.startswith("data:"):
                message = json.loads(text[5:])
                recorder.add("push", f"event · id: {message['id']}", message["id"])
                recorder.heard_of(message)
    return recorder


TRACERS = {
    "polling": trace_polling,
    "longpoll": trace_longpoll,
    "websocket": trace_websocket,
    "sse": trace_sse,
}


async def trace_one(technique: str, url: str, seconds: float = TRACE_SECONDS) -> list[dict]:
    """Turn the publisher on (1 msg/s, periodic), follow the feed for ``seconds``."""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/publisher",
            json={"publish_rate": TRACE_PUBLISH_RATE, "arrivals": "periodic"},
        ) as response:
            response.raise_for_status()
        recorder = await TRACERS[technique](session, url, time.time() + seconds)
        return recorder.result()


async def trace_all(urls: dict[str, str], seconds: float = TRACE_SECONDS) -> dict[str, list]:
    """Trace every technique at once: each has its own server, and the load is tiny."""
    traces = await asyncio.gather(*(trace_one(t, url, seconds) for t, url in urls.items()))
    return dict(zip(urls, traces, strict=True))
