"""The broadcast path of the push servers: every message once, in order, to every subscriber;
a slow subscriber leaves the loop, catches up and rejoins, or is told what it lost."""

import asyncio
import json

import aiohttp

from pushlab.protocol import GAP_CLOSE_CODE, gap_from_json
from pushlab.servers.app import FEED, METER
from pushlab.servers.sse import BROADCASTS
from pushlab.servers.websocket import BROADCAST
from tests.conftest import until
from tests.rawpush import message_id, open_event_stream, open_websocket, read_event, read_frame

BIG_TEXT = "x" * 4000
N = 1000  # subscribers in the fan-out tests


async def test_a_thousand_websocket_subscribers_each_get_every_message_once_in_order(
    start_server,
):
    server = await start_server("websocket")
    feed, live = server.app[FEED], server.app[BROADCAST].live
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = [await session.ws_connect(f"{server.url}/ws") for _ in range(N)]
        await until(lambda: len(live) == N)
        for n in range(20):
            await feed.publish(f"m{n}")

        async def received(ws: aiohttp.ClientWebSocketResponse) -> list[int]:
            return [json.loads((await ws.receive()).data)["id"] for _ in range(20)]

        per_socket = await asyncio.gather(*(received(ws) for ws in sockets))
        for ws in sockets:
            await ws.close()
    assert all(ids == list(range(1, 21)) for ids in per_socket)
    meter = server.app[METER]
    assert meter.messages_delivered == 20 * N
    assert meter.fanouts == 20  # one loop per message, timed from its publish
    assert meter.fanout_s > 0


async def test_a_message_with_no_subscriber_is_not_timed_as_a_fanout(start_server):
    server = await start_server("websocket")
    await server.app[FEED].publish("nobody listens")
    assert (server.app[METER].fanouts, server.app[METER].fanout_s) == (0, 0.0)


async def test_a_thousand_event_streams_each_get_every_message_once_in_order(start_server):
    server = await start_server("sse")
    feed, live = server.app[FEED], server.app[BROADCASTS][True].live
    streams = [await open_event_stream(server.port) for _ in range(N)]
    await until(lambda: len(live) == N)
    for n in range(5):
        await feed.publish(f"m{n}")

    async def received(stream) -> list[int]:
        return [message_id((await read_event(stream))["data"]) for _ in range(5)]

    per_stream = await asyncio.gather(*(received(s) for s in streams))
    for stream in streams:
        stream.close()
    assert all(ids == [1, 2, 3, 4, 5] for ids in per_stream)


async def publish_until_it_leaves(feed, live, subscriber_count: int = 1) -> int:
    """Publish 4 KB messages until a subscriber that does not read has left the loop."""
    for _ in range(100_000):
        await feed.publish(BIG_TEXT)
        if len(live) < subscriber_count:
            return feed.last_id
    raise AssertionError("the subscriber never left the broadcast loop")


async def test_a_websocket_reader_that_stalls_leaves_the_loop_catches_up_and_rejoins(
    start_server,
):
    server = await start_server("websocket", history_size=100_000, push_high_water_bytes=16384)
    feed, live = server.app[FEED], server.app[BROADCAST].live
    slow = await open_websocket(server.port, receive_buffer_bytes=4096)
    await until(lambda: len(live) == 1)
    left_at = await publish_until_it_leaves(feed, live)
    for _ in range(50):  # published while it is out of the loop: catch-up must bring them
        await feed.publish(BIG_TEXT)

    ids = [message_id((await read_frame(slow))[1]) for _ in range(feed.last_id)]
    await until(lambda: len(live) == 1)  # back in the loop
    await feed.publish("after")
    _, payload = await read_frame(slow)
    slow.close()
    assert left_at < feed.last_id - 50
    assert ids == list(range(1, feed.last_id))  # every id once, in order, none skipped
    assert json.loads(payload) == {"id": feed.last_id, "ts": feed.history[-1].ts, "text": "after"}


async def test_a_websocket_reader_the_history_passed_is_closed_with_the_gap(start_server):
    server = await start_server("websocket", history_size=20, push_high_water_bytes=16384)
    feed, live = server.app[FEED], server.app[BROADCAST].live
    slow = await open_websocket(server.port, receive_buffer_bytes=4096)
    await until(lambda: len(live) == 1)
    await publish_until_it_leaves(feed, live)
    for _ in range(100):  # further than the history holds
        await feed.publish(BIG_TEXT)

    ids: list[int] = []
    while True:
        opcode, payload = await read_frame(slow)
        if opcode != 1:
            break
        ids.append(message_id(payload))
    slow.close()
    assert opcode == 8  # close
    assert int.from_bytes(payload[:2], "big") == GAP_CLOSE_CODE
    gap = gap_from_json(json.loads(payload[2:])["gap"])
    assert ids == list(range(1, ids[-1] + 1))  # no skip before the gap
    assert (gap.from_id, gap.to_id) == (ids[-1] + 1, feed.last_id - 20)


async def test_an_event_stream_the_history_passed_ends_after_a_gap_event(start_server):
    server = await start_server("sse", history_size=20, push_high_water_bytes=16384)
    feed, live = server.app[FEED], server.app[BROADCASTS][True].live
    slow = await open_event_stream(server.port, receive_buffer_bytes=4096)
    await until(lambda: len(live) == 1)
    await publish_until_it_leaves(feed, live)
    for _ in range(100):
        await feed.publish(BIG_TEXT)

    ids: list[int] = []
    while (event := await read_event(slow)).get("event") != "gap":
        ids.append(message_id(event["data"]))
    last_chunk = await slow.read_until(b"\r\n\r\n")
    slow.close()
    assert ids == list(range(1, ids[-1] + 1))
    assert json.loads(event["data"]) == {"from_id": ids[-1] + 1, "to_id": feed.last_id - 20}
    assert event["id"] == str(feed.last_id - 20)  # Last-Event-ID resumes after the gap
    assert last_chunk == b"0\r\n\r\n"  # the stream ended
