"""The bench's tracer is the terminal client with a recording narrator: same requests, same
messages, only written down as trace events instead of printed lines."""

from __future__ import annotations

import io
import re

import pytest

from pushlab.bench.measuring.trace import TRACED_KINDS, RecordingNarrator
from pushlab.clients.conversation import converse
from pushlab.servers.app import FEED
from pushlab.techniques import NAMES

REQUEST = re.compile(r"GET (\S+)")


@pytest.mark.parametrize("technique", NAMES)
async def test_the_tracer_sends_the_requests_the_terminal_client_sends(start_server, technique):
    server = await start_server(technique)
    for number in range(3):
        await server.app[FEED].publish(f"waiting {number}")
    printed = io.StringIO()
    await converse(technique, server.url, count=3, since=0, out=printed, colour=False)
    recorder = RecordingNarrator()

    await converse(technique, server.url, count=3, since=0, narrator=recorder)

    sent = [REQUEST.search(line) for line in printed.getvalue().splitlines() if "→ GET" in line]
    requests = [e for e in recorder.events if e["kind"] == "request"]
    assert [m.group(1) for m in sent if m] == [REQUEST.match(e["label"]).group(1) for e in requests]
    delivered = [e["message_id"] for e in recorder.events if e["kind"] in ("response", "push")]
    assert delivered[-1] == 3 and all(e["kind"] in TRACED_KINDS for e in recorder.events)


async def test_the_trace_writes_down_each_publication_it_heard_of(start_server):
    server = await start_server("sse")
    recorder = RecordingNarrator()
    await server.app[FEED].publish("after the trace began")

    await converse("sse", server.url, count=1, since=0, narrator=recorder)

    events = recorder.result()
    assert [event["kind"] for event in events] == ["publish", "request", "stream-open", "push"]
    assert events[0]["message_id"] == events[-1]["message_id"] == 1
    assert 0 <= events[0]["t"] <= events[1]["t"]
