"""The answer to "anything after ``since=N``?", encoded once and shared by every poll that asks it.

Between two publishes the answer to a given cursor cannot change, and most polls ask the same
thing: a thousand long polls held at the newest id are all woken by one publish and all want that
one message; a thousand short polls at the head all get ``{"messages":[],"last_id":K}``. So the
body is built from the messages' pre-encoded JSON once per (cursor, newest id) and reused until
the next publish. The cache holds one generation (the current ``last_id``) and a bounded number
of cursors, so an unusual cursor costs one encoding, never memory.

A cursor older than the history gets the gap signal of :mod:`pushlab.protocol` in the answer
(``"gap": {"from_id": a, "to_id": b}``), never a silent jump; ``since=0`` is a fresh start.

An answer holds at most ``MAX_ANSWER_BYTES`` of messages (and always at least one): without a
bound, ``since=0`` on a full history of 4 KiB texts is a 4 MB answer to a 60-byte request, which
anyone may ask for again and again. Nothing is skipped: the answer's messages are the oldest
after the cursor, and a client that moves its cursor to the last id it got asks again for the
rest (its ``last_id`` says there is more).
"""

from __future__ import annotations

import json

from aiohttp import web

from pushlab.servers.feed import Feed, Message
from pushlab.servers.metering import Meter

CURSORS_KEPT = 64
MAX_ANSWER_BYTES = 256 * 1024  # of messages' JSON in one answer (at least one message)
HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}


def within_bytes(messages: list[Message], max_bytes: int) -> list[Message]:
    """The oldest of ``messages`` whose JSON adds up to at most ``max_bytes`` (at least one)."""
    total = 0
    for count, message in enumerate(messages):
        total += len(message.json_bytes) + 1  # and its comma
        if total > max_bytes and count > 0:
            return messages[:count]
    return messages


class PollAnswers:
    """Encoded poll answers of one feed, valid until its next message."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self._version: tuple[str, int] = ("", -1)  # the feed and its newest id when encoded
        self._bodies: dict[int, tuple[bytes, int]] = {}  # cursor → (body, messages in it)

    def body(self, cursor: int) -> tuple[bytes, int]:
        feed = self.feed
        version = (feed.feed_id, feed.last_id)
        if version != self._version:
            self._bodies.clear()
            self._version = version
        answer = self._bodies.get(cursor)
        if answer is None:
            answer = self.encode(cursor)
            if len(self._bodies) < CURSORS_KEPT:
                self._bodies[cursor] = answer
        return answer

    def encode(self, cursor: int) -> tuple[bytes, int]:
        feed = self.feed
        messages = within_bytes(feed.since(cursor), MAX_ANSWER_BYTES)
        gap = feed.gap_before(cursor) if cursor > 0 else None
        gap_field = (
            "" if gap is None else ',"gap":' + json.dumps(gap.as_json(), separators=(",", ":"))
        )
        body = (
            '{"messages":['
            + ",".join(m.json for m in messages)
            + f"]{gap_field},"
            + f'"last_id":{feed.last_id}}}'
        )
        return body.encode(), len(messages)

    def response(self, cursor: int, meter: Meter) -> web.Response:
        body, count = self.body(cursor)
        meter.messages_delivered += count
        if not count:
            meter.empty_responses += 1
        return web.Response(body=body, headers=HEADERS)
