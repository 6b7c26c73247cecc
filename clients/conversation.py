"""The four terminal clients: the same question — "anything new?" — asked four ways.

    python -m pushlab.clients polling|longpoll|websocket|sse [--url URL] [--count N] [--lang zh]

Each technique is one short ``talk_*`` coroutine that says what it sends and what comes
back; counting, latency, printing and the summary are shared (``Conversation``,
``clients.narration``). From Python (tests, notebooks)::

    summary = clients.conversation.run("sse", count=3, out=io.StringIO())
    summary = await clients.conversation.converse("sse", count=3)  # inside an event loop

The talkers say everything through their ``Narrator``: hand ``converse`` another narrator (the
bench's tracer records instead of printing) and it sees exactly what a terminal shows.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

import aiohttp

from pushlab.clients.counting import WHERE_COUNTED, ByteMeter, counting_session
from pushlab.clients.eventstream import Comment, Event, EventStreamDecoder, Retry
from pushlab.clients.i18n import English, texts
from pushlab.clients.narration import Narrator, Summary
from pushlab.clients.target import (
    ClientFailure,
    base_url,
    check_technique,
    connection_failure,
    default_url,
    server_stats,
)
from pushlab.techniques import LONGPOLL_HOLD_S, NAMES, POLL_INTERVAL_S, TECHNIQUES


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
        return self.texts.messages(ids, latencies_ms)

    async def get_poll(self, path: str) -> tuple[int, list[dict[str, Any]]]:
        """One ``GET /poll`` (short or long): status and the messages of its answer."""
        self.summary.requests_sent += 1
        async with self.session.get(self.base + path) as answer:
            body = await answer.json(content_type=None)
            if answer.status != 200:
                raise ClientFailure(f"GET {path} answered {answer.status}: {error_text(body)}")
        messages = body["messages"]
        if not messages:
            self.summary.empty_answers += 1
        return answer.status, messages


def answered(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The narrator's keywords for the answer to a poll that carried ``messages``."""
    return {"kind": "response", "messages": messages}


def error_text(body: Any) -> str:
    return body.get("error", json.dumps(body)) if isinstance(body, dict) else str(body)


async def talk_polling(c: Conversation, interval_s: float, hold_s: float) -> str:
    """Ajax polling: ask, get an answer at once (usually "no"), wait, ask again."""
    empty_streak = 0
    while True:
        path = f"/poll?since={c.cursor}"
        c.narrator.sent(c.texts.poll_request(path))
        status, messages = await c.get_poll(path)
        empty_streak = 0 if messages else empty_streak + 1
        answer = c.texts.poll_answer(status, c.deliver(messages), empty_streak)
        c.narrator.received(answer, "news" if messages else "empty", **answered(messages))
        if c.done:
            return "count"
        await asyncio.sleep(interval_s)


async def talk_longpoll(c: Conversation, interval_s: float, hold_s: float) -> str:
    """Long polling: ask, and the server holds the answer until there is news (or timeout)."""
    while True:
        path = f"/poll?since={c.cursor}&timeout={hold_s:g}"
        c.narrator.sent(c.texts.longpoll_request(path, hold_s))
        asked_at = time.monotonic()
        status, messages = await c.get_poll(path)
        held_s = time.monotonic() - asked_at
        answer = c.texts.longpoll_answer(status, held_s, c.deliver(messages), not messages)
        c.narrator.received(answer, "news" if messages else "empty", **answered(messages))
        if c.done:
            return "count"
        if interval_s:
            await asyncio.sleep(interval_s)


async def talk_websocket(c: Conversation, interval_s: float, hold_s: float) -> str:
    """WebSocket: one upgrade request, then the server pushes one text frame per message."""
    path = f"/ws?since={c.cursor}"
    c.narrator.sent(c.texts.ws_request(path))
    c.summary.requests_sent += 1
    try:
        ws = await c.session.ws_connect(c.base + path, compress=0, autoping=True)
    except aiohttp.WSServerHandshakeError as error:
        raise ClientFailure(
            f"GET {path}: the server refused the upgrade ({error.status})"
        ) from None
    async with ws:
        try:
            accepted = c.texts.ws_accepted(101, "Switching Protocols")
            c.narrator.received(accepted, "info", kind="upgrade")
            while True:
                frame = await ws.receive()
                if frame.type is aiohttp.WSMsgType.TEXT:
                    data = json.loads(frame.data)
                    if "error" in data:
                        c.narrator.received(c.texts.ws_error_frame(data["error"]), "empty")
                        continue
                    phrase = c.deliver([data])
                    c.narrator.received(c.texts.ws_frame(phrase), kind="push", messages=[data])
                    if c.done:
                        return "count"
                elif frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    reason = frame.extra if isinstance(frame.extra, str) else ""
                    c.narrator.received(c.texts.ws_close_received(ws.close_code, reason), "info")
                    return "server closed"
                elif frame.type is aiohttp.WSMsgType.ERROR:
                    raise frame.data
        finally:
            if not ws.closed:  # also on Ctrl-C: say goodbye properly (§7.1.2)
                c.narrator.sent(c.texts.ws_close_sent(1000), kind="info")
                await ws.close(code=1000)


async def talk_sse(c: Conversation, interval_s: float, hold_s: float) -> str:
    """Server-Sent Events: one GET whose response never ends; each message is an event."""
    path = f"/events?since={c.cursor}"
    c.narrator.sent(c.texts.sse_request(path))
    c.summary.requests_sent += 1
    async with c.session.get(c.base + path, headers={"Accept": "text/event-stream"}) as answer:
        if answer.status != 200:
            body = await answer.json(content_type=None)
            raise ClientFailure(f"GET {path} answered {answer.status}: {error_text(body)}")
        opened = c.texts.sse_opened(answer.status, answer.content_type)
        c.narrator.received(opened, "info", kind="stream-open")
        decoder = EventStreamDecoder()
        async for raw_line in answer.content:
            item = decoder.feed(raw_line.decode())
            if isinstance(item, Event):
                message = json.loads(item.data)
                phrase = c.deliver([message])
                event = c.texts.sse_event(item.last_event_id, phrase)
                c.narrator.received(event, kind="push", messages=[message])
                if c.done:
                    return "count"
            elif isinstance(item, Retry):
                c.narrator.received(c.texts.sse_retry(item.retry_ms), "info")
            elif isinstance(item, Comment):
                c.narrator.received(c.texts.sse_comment(item.text), "info")
    c.narrator.received(c.texts.stream_ended(), "info")
    return "server closed"


Talker = Callable[[Conversation, float, float], Awaitable[str]]
TALKERS: dict[str, Talker] = {
    "polling": talk_polling,
    "longpoll": talk_longpoll,
    "websocket": talk_websocket,
    "sse": talk_sse,
}
assert tuple(TALKERS) == NAMES, "every technique in pushlab.techniques needs its talker here"


async def prepare(technique: str, base: str, since: int | None) -> tuple[int, ByteMeter]:
    """Check the server's technique and find where to start (the newest message, unless
    ``since`` says otherwise). Its bytes are counted apart from the conversation's."""
    meter = ByteMeter()
    async with counting_session(meter) as session:
        await check_technique(session, base, technique)
        if since is None:
            since = int((await server_stats(session, base))["last_id"])
    return since, meter


async def converse(
    technique: str,
    url: str | None = None,
    *,
    count: int | None = None,
    interval_s: float | None = None,
    hold_s: float = LONGPOLL_HOLD_S,
    since: int | None = None,
    lang: str = "en",
    out: TextIO | None = None,
    colour: bool | None = None,
    stop: asyncio.Event | None = None,
    narrator: Narrator | None = None,
) -> Summary:
    """Talk to a server of ``technique`` until ``count`` messages arrived, ``stop`` is set,
    or the server hangs up; print each exchange to ``out`` and return the summary (also
    printed). A wrong server raises ClientFailure before anything is sent; a failure during
    the conversation ends it with ``summary.error`` set. A ``narrator`` given replaces the
    printing one (``out``, ``lang`` and ``colour`` are then its business)."""
    if technique not in TALKERS:
        raise ClientFailure(f"unknown technique {technique!r}; choose one of {', '.join(NAMES)}")
    if count is not None and count < 1:
        raise ClientFailure("--count must be at least 1")
    base = base_url(url or default_url(technique))
    if interval_s is None:
        interval_s = POLL_INTERVAL_S if TECHNIQUES[technique].polls else 0.0
    cursor, check_meter = await prepare(technique, base, since)

    if narrator is None:
        narrator = Narrator(sys.stdout if out is None else out, texts(lang), colour)
    summary = Summary(technique, base, bytes_counted=WHERE_COUNTED, last_id=cursor)
    summary.check_bytes_sent = check_meter.bytes_sent
    summary.check_bytes_received = check_meter.bytes_received
    meter = ByteMeter()
    async with counting_session(meter) as session:
        conversation = Conversation(base, session, narrator, summary, cursor, count)
        talk = asyncio.create_task(TALKERS[technique](conversation, interval_s, hold_s))
        await until_done(talk, stop)
        summary.stopped_by, summary.error = outcome(talk, base)
        summary.last_id = conversation.cursor
    summary.elapsed_s = time.monotonic() - narrator.started
    summary.bytes_sent, summary.bytes_received = meter.bytes_sent, meter.bytes_received
    narrator.summary(summary)
    return summary


async def until_done(talk: asyncio.Task[str], stop: asyncio.Event | None) -> None:
    """Wait until the talk ends by itself or ``stop`` is set (then the talk is cancelled)."""
    waiters: set[asyncio.Task[Any]] = {talk}
    if stop is not None:
        waiters.add(asyncio.create_task(stop.wait()))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
        await asyncio.wait(waiters)


def outcome(talk: asyncio.Task[str], base: str) -> tuple[str, str | None]:
    """Why the conversation ended, and the one-line error if it failed."""
    if talk.cancelled():
        return "interrupted", None
    error = talk.exception()
    if error is None:
        return talk.result(), None
    if isinstance(error, ClientFailure):
        return "error", str(error)
    if isinstance(error, aiohttp.ClientError | TimeoutError | ConnectionError):
        return "error", str(connection_failure(base, error))
    if isinstance(error, ValueError | KeyError):
        return "error", f"unexpected answer from {base}: {error!r}"
    raise error


def run(technique: str, url: str | None = None, **options: Any) -> Summary:
    """``converse`` for callers without an event loop (scripts, tests)."""
    return asyncio.run(converse(technique, url, **options))
