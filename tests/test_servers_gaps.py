"""A cursor older than the history gets the gap signal on all four techniques, never a silent
jump; ``since=0`` is a fresh start and gets none."""

import json

import aiohttp
import pytest

from pushlab.protocol import Gap, gap_from_json
from pushlab.servers.app import FEED
from pushlab.techniques import technique as technique_entry
from tests.rawpush import message_id, open_event_stream, open_websocket, read_event, read_frame

HISTORY = 3
PUBLISHED = 10  # ids 8, 9 and 10 are held; a client at since=2 lost 3–7
LOST = Gap(3, 7)


async def started(start_server, technique: str):
    server = await start_server(technique, history_size=HISTORY)
    for n in range(PUBLISHED):
        await server.app[FEED].publish(f"m{n + 1}")
    return server


@pytest.mark.parametrize("technique", ["polling", "longpoll"])
async def test_a_late_poll_is_answered_with_the_gap_and_what_is_held(start_server, technique):
    server, path = await started(start_server, technique), technique_entry(technique).path
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}{path}?since=2") as response:
            late = await response.json()
        async with session.get(f"{server.url}{path}?since=0") as response:
            fresh = await response.json()
    assert gap_from_json(late["gap"]) == LOST
    assert [m["id"] for m in late["messages"]] == [8, 9, 10]
    assert "gap" not in fresh
    assert [m["id"] for m in fresh["messages"]] == [8, 9, 10]


async def test_a_poll_within_the_history_has_no_gap(start_server):
    server = await started(start_server, "polling")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/poll?since=7") as response:
            body = await response.json()
    assert body == {"messages": body["messages"], "last_id": PUBLISHED}
    assert [m["id"] for m in body["messages"]] == [8, 9, 10]


async def test_a_late_websocket_gets_a_gap_frame_first(start_server):
    server = await started(start_server, "websocket")
    client = await open_websocket(server.port, "?since=2")
    frames = [(await read_frame(client))[1] for _ in range(4)]
    client.close()
    assert gap_from_json(json.loads(frames[0])["gap"]) == LOST
    assert [message_id(f) for f in frames[1:]] == [8, 9, 10]


async def test_a_fresh_websocket_gets_no_gap_frame(start_server):
    server = await started(start_server, "websocket")
    client = await open_websocket(server.port, "?since=0")
    first = (await read_frame(client))[1]
    client.close()
    assert message_id(first) == 8


async def test_a_late_event_stream_gets_a_gap_event_first(start_server):
    server = await started(start_server, "sse")
    client = await open_event_stream(server.port, last_event_id=2)
    events = [await read_event(client) for _ in range(4)]
    client.close()
    assert events[0]["event"] == "gap"
    assert events[0]["id"] == "7"
    assert gap_from_json(json.loads(events[0]["data"])) == LOST
    assert [message_id(e["data"]) for e in events[1:]] == [8, 9, 10]
