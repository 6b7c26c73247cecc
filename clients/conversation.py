"""The four terminal clients: the same question — "anything new?" — asked four ways.

    python -m pushlab.clients polling|longpoll|websocket|sse [--url URL] [--count N] [--lang zh]
        [--retries N] [--no-resume]

Each technique is one short ``talk_*`` coroutine that says what it sends and what comes
back; counting, latency, printing and the summary are shared (``Conversation`` in
``clients.conversation_state``, ``clients.narration``). When a connection breaks,
``talk_with_reconnects`` waits (capped exponential backoff with jitter, ``clients.reconnect``)
and runs the talker again from the cursor, so the same four coroutines also show how each
technique resumes.
From Python (tests, notebooks)::

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
from typing import Any, TextIO

import aiohttp

from pushlab.clients.breaks import ConnectionBroken, FeedRestarted, GapClosed
from pushlab.clients.conversation_state import Conversation, Talker, check_answer
from pushlab.clients.counting import WHERE_COUNTED, ByteMeter, counting_session
from pushlab.clients.eventstream import Comment, Event, EventStreamDecoder, Retry
from pushlab.clients.i18n import texts
from pushlab.clients.narration import Narrator, Summary
from pushlab.clients.reconnect import DEFAULT_RETRIES, talk_with_reconnects
from pushlab.clients.target import (
    ClientFailure,
    base_url,
    check_technique,
    connection_failure,
    default_url,
    server_stats,
)
from pushlab.protocol import GAP_CLOSE_CODE, GAP_EVENT, gap_from_json
from pushlab.reconnect_policy import RECONNECT_POLICY, Backoff, ReconnectPolicy
from pushlab.techniques import (
    LONGPOLL,
    LONGPOLL_HOLD_S,
    NAMES,
    POLL_INTERVAL_S,
    POLLING,
    SSE,
    TECHNIQUES,
    WEBSOCKET,
)


def answered(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The narrator's keywords for the answer to a poll that carried ``messages``."""
    return {"kind": "response", "messages": messages}


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
        if error.status == 400 and "ahead of the newest" in error.message:
            raise FeedRestarted(f"GET {path} answered 400: {error.message}") from None
        raise ClientFailure(
            f"GET {path}: the server refused the upgrade ({error.status})"
        ) from None
    c.connected = True
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
                    elif "gap" in data:
                        c.gap(gap_from_json(data["gap"]))  # type: ignore[arg-type]
                    else:
                        phrase = c.deliver([data])
                        c.narrator.received(c.texts.ws_frame(phrase), kind="push", messages=[data])
                        if c.done:
                            return "count"
                elif frame.type is aiohttp.WSMsgType.CLOSE:  # a real close frame arrived
                    reason = frame.extra if isinstance(frame.extra, str) else ""
                    c.narrator.received(c.texts.ws_close_received(ws.close_code, reason), "info")
                    if ws.close_code == GAP_CLOSE_CODE:
                        raise GapClosed(gap_from_json(json.loads(reason)["gap"]))  # type: ignore[arg-type]
                    return "server closed"
                else:  # CLOSED or ERROR: the TCP connection ended and no close frame came
                    raise ConnectionBroken(c.texts.no_close_frame())
        finally:
            if not ws.closed:  # also on Ctrl-C: say goodbye properly (§7.1.2)
                c.narrator.sent(c.texts.ws_close_sent(1000), kind="info")
                await ws.close(code=1000)


async def talk_sse(c: Conversation, interval_s: float, hold_s: float) -> str:
    """Server-Sent Events: one GET whose response never ends; each message is an event.

    The first request names its cursor with ``since=``; a reconnect sends ``Last-Event-ID``
    instead, as a browser's EventSource does (WHATWG HTML §9.2.4)."""
    headers = {"Accept": "text/event-stream"}
    if c.summary.reconnects:
        path = "/events"
        headers["Last-Event-ID"] = str(c.cursor)
        c.narrator.sent(c.texts.sse_resume_request(path, c.cursor))
    else:
        path = f"/events?since={c.cursor}"
        c.narrator.sent(c.texts.sse_request(path))
    c.summary.requests_sent += 1
    async with c.session.get(c.base + path, headers=headers) as answer:
        if answer.status != 200:
            check_answer(path, answer.status, await answer.json(content_type=None))
        c.connected = True
        opened = c.texts.sse_opened(answer.status, answer.content_type)
        c.narrator.received(opened, "info", kind="stream-open")
        decoder = EventStreamDecoder()
        async for raw_line in answer.content:
            item = decoder.feed(raw_line.decode())
            if isinstance(item, Event) and item.event_type == GAP_EVENT:
                c.gap(gap_from_json(json.loads(item.data)))  # type: ignore[arg-type]
            elif isinstance(item, Event):
                message = json.loads(item.data)
                phrase = c.deliver([message])
                event = c.texts.sse_event(item.last_event_id, phrase)
                c.narrator.received(event, kind="push", messages=[message])
                if c.done:
                    return "count"
            elif isinstance(item, Retry):
                c.server_retry_s = item.retry_ms / 1000
                c.narrator.received(c.texts.sse_retry(item.retry_ms), "info")
            elif isinstance(item, Comment):
                c.narrator.received(c.texts.sse_comment(item.text), "info")
    raise ConnectionBroken(c.texts.stream_ended())  # EventSource reconnects here, and so do we


TALKERS: dict[str, Talker] = {
    POLLING.name: talk_polling,
    LONGPOLL.name: talk_longpoll,
    WEBSOCKET.name: talk_websocket,
    SSE.name: talk_sse,
}
"""Each technique's conversation (tests/test_techniques_registries.py: one for every technique)."""
assert tuple(TALKERS) == NAMES, "every technique in pushlab.techniques needs its talker here"


async def prepare(
    technique: str, base: str, since: int | None
) -> tuple[int, dict[str, Any], ByteMeter]:
    """Check the server's technique, read its ``/stats`` (the feed the cursor belongs to) and
    find where to start (the newest message, unless ``since`` says otherwise). Its bytes are
    counted apart from the conversation's."""
    meter = ByteMeter()
    async with counting_session(meter) as session:
        await check_technique(session, base, technique)
        stats = await server_stats(session, base)
    return (int(stats["last_id"]) if since is None else since), stats, meter


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
    retries: int = DEFAULT_RETRIES,
    resume: bool = True,
    reconnect: ReconnectPolicy = RECONNECT_POLICY,
) -> Summary:
    """Talk to a server of ``technique`` until ``count`` messages arrived, ``stop`` is set,
    or the server hangs up; print each exchange to ``out`` and return the summary (also
    printed). A broken connection is retried ``retries`` times in a row (waiting as ``reconnect``
    says), from
    the cursor, or from the feed's present with ``resume=False``. A wrong server raises
    ClientFailure before anything is sent; a failure during
    the conversation ends it with ``summary.error`` set. A ``narrator`` given replaces the
    printing one (``out``, ``lang`` and ``colour`` are then its business)."""
    if technique not in TALKERS:
        raise ClientFailure(f"unknown technique {technique!r}; choose one of {', '.join(NAMES)}")
    if count is not None and count < 1:
        raise ClientFailure("--count must be at least 1")
    base = base_url(url or default_url(technique))
    if interval_s is None:
        interval_s = POLL_INTERVAL_S if TECHNIQUES[technique].polls else 0.0
    if retries < 0:
        raise ClientFailure("--retries must not be negative")
    cursor, stats, check_meter = await prepare(technique, base, since)

    if narrator is None:
        narrator = Narrator(sys.stdout if out is None else out, texts(lang), colour)
    summary = Summary(technique, base, bytes_counted=WHERE_COUNTED, last_id=cursor)
    summary.check_bytes_sent = check_meter.bytes_sent
    summary.check_bytes_received = check_meter.bytes_received
    meter = ByteMeter()
    async with counting_session(meter) as session:
        conversation = Conversation(base, session, narrator, summary, cursor, count)
        conversation.learn_feed(stats)
        conversation.resumes = resume
        talk = asyncio.create_task(
            talk_with_reconnects(
                conversation, TALKERS[technique], interval_s, hold_s, retries, Backoff(reconnect)
            )
        )
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
