"""One terminal client's state in a conversation: its cursor, its counts, its feed.

The talkers (``clients.conversation``) and the reconnect loop (``clients.reconnect``) both
read and move it; it sits below both, so that neither imports the other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from pushlab.clients.breaks import FeedRestarted
from pushlab.clients.i18n import English
from pushlab.clients.narration import Narrator, Summary
from pushlab.clients.target import ClientFailure
from pushlab.protocol import Gap, gap_from_json


class Conversation:
    """One client's state: where it is in the feed, what it has counted, how it prints."""

    def __init__(
        self,
        base: str,
        session: aiohttp.ClientSession,
        narrator: Narrator,
        summary: Summary,
        cursor: int,
        count: int | None,
    ) -> None:
        self.base = base
        self.session = session
        self.narrator = narrator
        self.texts: English = narrator.texts
        self.summary = summary
        self.cursor = cursor
        self.count = count
        self.feed_id: str | None = None  # the feed the cursor belongs to (from /stats)
        self.history_size: int | None = None
        self.connected = False  # the current attempt got a real answer (resets the backoff)
        self.caught_up_to = 0  # ids up to here, received after a reconnect, came from history
        self.resumes = True  # after a reconnect: from the cursor (False: from the present)
        self.server_retry_s = 0.0  # an SSE stream's ``retry:``: the least wait before reconnecting

    @property
    def done(self) -> bool:
        return self.count is not None and self.summary.messages >= self.count

    def deliver(self, messages: list[dict[str, Any]]) -> str:
        """Count messages just received and measure their delivery latency
        (receive time − the server's publish ``ts``; one host, one clock). Returns the phrase
        that describes them."""
        received_at = time.time()
        latencies_ms = [(received_at - float(m["ts"])) * 1000 for m in messages]
        ids = [int(m["id"]) for m in messages]
        self.summary.messages += len(messages)
        self.summary.latencies_ms.extend(latencies_ms)
        if ids:
            self.cursor = max(self.cursor, *ids)
        self.summary.from_history += sum(1 for i in ids if i <= self.caught_up_to)
        return self.texts.messages(ids, latencies_ms)

    def gap(self, gap: Gap) -> None:
        """The server says messages ``gap.from_id``–``gap.to_id`` are gone: print it, move on."""
        self.summary.messages_gone += gap.count
        self.cursor = max(self.cursor, gap.to_id)
        self.narrator.received(self.texts.gap(gap, self.history_size), "empty", kind="gap")

    def learn_feed(self, stats: dict[str, Any]) -> None:
        self.feed_id = stats.get("feed_id")
        history = stats.get("history_size")
        self.history_size = history if isinstance(history, int) else self.history_size

    async def get_poll(self, path: str) -> tuple[int, list[dict[str, Any]]]:
        """One ``GET /poll`` (short or long): status and the messages of its answer."""
        self.summary.requests_sent += 1
        async with self.session.get(self.base + path) as answer:
            body = await answer.json(content_type=None)
            check_answer(path, answer.status, body)
        self.connected = True
        if body.get("gap") is not None:
            self.gap(gap_from_json(body["gap"]))  # type: ignore[arg-type]
        messages = body["messages"]
        if not messages:
            self.summary.empty_answers += 1
        return answer.status, messages


def error_text(body: Any) -> str:
    return body.get("error", json.dumps(body)) if isinstance(body, dict) else str(body)


def check_answer(path: str, status: int, body: Any) -> None:
    """A 400 "ahead of the newest message" means a restarted server; other errors end the talk."""
    if status == 200:
        return
    if status == 400 and "ahead of the newest" in error_text(body):
        raise FeedRestarted(f"GET {path} answered 400: {error_text(body)}")
    raise ClientFailure(f"GET {path} answered {status}: {error_text(body)}")


Talker = Callable[[Conversation, float, float], Awaitable[str]]
"""A technique's conversation: ``talk(c, interval_s, hold_s)`` returns why it ended."""
