"""Each technique delivers published messages in order, with no gaps, and resumes from a cursor."""

import asyncio
import json

import aiohttp
import pytest

from pushlab.servers.app import FEED, METER, PUBLISHER
from pushlab.servers.feed import Feed
from pushlab.servers.publisher import Publisher
from tests.conftest import until


async def publish(session: aiohttp.ClientSession, url: str, text: str) -> dict:
    async with session.post(f"{url}/messages", json={"text": text}) as response:
        assert response.status == 201
        return await response.json()


async def test_post_messages_answers_201_with_the_stored_message(start_server):
    server = await start_server("polling")
    async with aiohttp.ClientSession() as session:
        message = await publish(session, server.url, "hello")
    assert message["id"] == 1
    assert message["text"] == "hello"
    assert isinstance(message["ts"], float)


async def test_polling_answers_at_once_with_news_or_an_empty_list(start_server):
    server = await start_server("polling")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/poll?since=0") as response:
            assert await response.json() == {"messages": [], "last_id": 0}
            assert response.headers["Cache-Control"] == "no-store"
        for text in ("a", "b", "c"):
            await publish(session, server.url, text)
        async with session.get(f"{server.url}/poll?since=1") as response:
            body = await response.json()
    assert [m["id"] for m in body["messages"]] == [2, 3]
    assert body["last_id"] == 3


async def test_polling_counts_empty_answers_and_deliveries(start_server):
    server = await start_server("polling")
    async with aiohttp.ClientSession() as session:
        await session.get(f"{server.url}/poll")
        await publish(session, server.url, "x")
        await session.get(f"{server.url}/poll")
        async with session.get(f"{server.url}/stats") as response:
            stats = await response.json()
    assert stats["technique"] == "polling"
    assert stats["requests"] == 3  # two polls and one POST /messages; /stats is not counted here
    assert stats["empty_responses"] == 1
    assert stats["messages_published"] == 1
    assert stats["messages_delivered"] == 1


async def test_long_poll_is_held_then_released_by_a_publish(start_server):
    server = await start_server("longpoll")
    meter = server.app[METER]
    async with aiohttp.ClientSession() as session:
        held = asyncio.create_task(session.get(f"{server.url}/poll?since=0&timeout=30"))
        await until(lambda: meter.clients_connected == 1)
        assert not held.done()
        await publish(session, server.url, "wake up")
        async with await held as response:
            body = await response.json()
    assert [m["text"] for m in body["messages"]] == ["wake up"]
    assert meter.clients_connected == 0


async def test_long_poll_times_out_with_an_empty_list(start_server):
    server = await start_server("longpoll")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/poll?since=0&timeout=0.05") as response:
            assert response.status == 200
            assert await response.json() == {"messages": [], "last_id": 0}


async def test_long_poll_returns_everything_newer_than_the_cursor(start_server):
    server = await start_server("longpoll")
    async with aiohttp.ClientSession() as session:
        for text in "abcd":
            await publish(session, server.url, text)
        async with session.get(f"{server.url}/poll?since=2&timeout=5") as response:
            body = await response.json()
    assert [m["id"] for m in body["messages"]] == [3, 4]


async def test_websocket_pushes_backlog_and_new_messages_in_order(start_server):
    server = await start_server("websocket")
    async with aiohttp.ClientSession() as session:
        for text in "ab":
            await publish(session, server.url, text)
        async with session.ws_connect(f"{server.url}/ws?since=1") as ws:
            first = json.loads((await ws.receive()).data)
            await publish(session, server.url, "c")
            second = json.loads((await ws.receive()).data)
    assert [first["id"], second["id"]] == [2, 3]
    assert second["text"] == "c"


async def test_websocket_is_full_duplex_text_frames_are_published(start_server):
    server = await start_server("websocket")
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{server.url}/ws") as ws:
            await ws.send_str(json.dumps({"text": "from the client"}))
            echoed = json.loads((await ws.receive()).data)
        async with session.get(f"{server.url}/poll") as response:
            assert response.status == 404  # the websocket server has no /poll
    assert echoed["text"] == "from the client"
    assert echoed["id"] == 1


async def test_websocket_answers_a_bad_frame_with_an_error_frame_and_keeps_the_socket(
    start_server,
):
    server = await start_server("websocket")
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{server.url}/ws") as ws:
        await ws.send_str("not json")
        error = json.loads((await ws.receive()).data)
        await ws.send_str(json.dumps({"text": ""}))
        empty = json.loads((await ws.receive()).data)
        await ws.send_str('{"text": "\\ud800"}')  # JSON for a lone surrogate
        surrogate = json.loads((await ws.receive()).data)
        await ws.send_str("[" * 20_000)  # under the frame size limit, over the recursion limit
        deep = json.loads((await ws.receive()).data)
        await ws.send_str('{"text": ' + "7" * 5_000 + "}")  # over Python's int-digit limit
        huge_number = json.loads((await ws.receive()).data)
        await ws.send_str(json.dumps({"text": "still here"}))
        message = json.loads((await ws.receive()).data)
    assert "error" in error
    assert "empty" in empty["error"]
    assert "valid Unicode" in surrogate["error"]
    assert "nested too deeply" in deep["error"]
    assert "JSON" in huge_number["error"]
    assert message["text"] == "still here"


async def read_sse_events(response: aiohttp.ClientResponse, count: int) -> list[dict]:
    events, fields = [], {}
    async for raw_line in response.content:
        line = raw_line.decode().rstrip("\n")
        if line == "":
            if "data" in fields:
                events.append(fields)
                if len(events) == count:
                    return events
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
    return events


async def test_sse_streams_events_with_ids_and_a_retry_hint(start_server):
    server = await start_server("sse")
    async with aiohttp.ClientSession() as session:
        await publish(session, server.url, "a")
        async with session.get(f"{server.url}/events") as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            assert (await response.content.readline()) == b"retry: 2000\n"
            await publish(session, server.url, "b")
            events = await read_sse_events(response, 2)
    assert [e["id"] for e in events] == ["1", "2"]
    assert [json.loads(e["data"])["text"] for e in events] == ["a", "b"]


async def test_sse_head_gets_the_stream_headers_and_an_ended_response(start_server):
    server = await start_server("sse")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"HEAD /events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    # The server closes the connection once the response has ended; a stream never would
    # (the wait_for only keeps a regression from hanging the suite).
    answer = await asyncio.wait_for(reader.read(), timeout=30)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"text/event-stream" in head
    assert body == b""


async def test_sse_resumes_from_last_event_id(start_server):
    server = await start_server("sse")
    async with aiohttp.ClientSession() as session:
        for text in "abcd":
            await publish(session, server.url, text)
        async with session.get(
            f"{server.url}/events?since=1", headers={"Last-Event-ID": "3"}
        ) as response:
            events = await read_sse_events(response, 1)
    assert [e["id"] for e in events] == ["4"]  # the header wins over since=, as on a reconnect


async def test_sse_resumes_from_since(start_server):
    server = await start_server("sse")
    async with aiohttp.ClientSession() as session:
        for text in "abc":
            await publish(session, server.url, text)
        async with session.get(f"{server.url}/events?since=2") as response:
            events = await read_sse_events(response, 1)
    assert [e["id"] for e in events] == ["3"]


async def test_many_messages_arrive_without_gaps_on_every_push_technique(start_server):
    for technique in ("websocket", "sse"):
        server = await start_server(technique, history_size=50, publish_limit_per_s=0)
        async with aiohttp.ClientSession() as session:
            if technique == "websocket":
                async with session.ws_connect(f"{server.url}/ws") as ws:
                    for i in range(200):
                        await publish(session, server.url, f"m{i}")
                    ids = [json.loads((await ws.receive()).data)["id"] for _ in range(200)]
            else:
                async with session.get(f"{server.url}/events") as response:
                    for i in range(200):
                        await publish(session, server.url, f"m{i}")
                    ids = [int(e["id"]) for e in await read_sse_events(response, 200)]
        assert ids == list(range(1, 201)), technique


async def test_builtin_publisher_publishes_and_can_be_changed_live(start_server):
    server = await start_server("polling", publish_rate=200.0, arrivals="poisson")
    feed = server.app[FEED]
    await until(lambda: feed.last_id >= 3)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/publisher", json={"publish_rate": 0}) as response:
            assert await response.json() == {
                "publish_rate": 0.0,
                "arrivals": "poisson",
                "seed": None,
                "text_bytes": 0,
            }
    assert not server.app[PUBLISHER].running  # stopped, not merely between two messages
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/publisher", json={"publish_rate": 50}) as response:
            assert response.status == 200
    assert server.app[PUBLISHER].running
    resumed_at = feed.last_id
    await until(lambda: feed.last_id > resumed_at)


async def test_a_seeded_publisher_repeats_its_poisson_gaps_scaled_by_the_rate():
    """The bench's common random numbers: one seed, the same arrivals in every scenario."""
    first, second, other = (Publisher(Feed()) for _ in range(3))
    first.configure(1.0, "poisson", seed=7)
    second.configure(4.0, "poisson", seed=7)
    other.configure(1.0, "poisson", seed=8)
    try:
        gaps = [first._next_gap_s() for _ in range(20)]
        assert [4 * second._next_gap_s() for _ in range(20)] == pytest.approx(gaps)
        assert [other._next_gap_s() for _ in range(20)] != pytest.approx(gaps)
    finally:
        for publisher in (first, second, other):
            await publisher.aclose()


async def test_post_publisher_takes_a_seed_and_reports_it(start_server):
    server = await start_server("polling")
    async with aiohttp.ClientSession() as session:
        body = {"publish_rate": 0, "arrivals": "poisson", "seed": 2026}
        async with session.post(f"{server.url}/publisher", json=body) as response:
            assert response.status == 200
        async with session.get(f"{server.url}/publisher") as response:
            assert (await response.json())["seed"] == 2026


class SwallowingFeed(Feed):
    """A feed whose publish turns a cancellation into an error of its own, once, as a client
    library can while a command is in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = asyncio.Event()
        self.swallowed = 0

    async def publish(self, text: str):  # type: ignore[override]
        self.inside.set()
        try:
            await asyncio.Event().wait()  # a command that never answers
        except asyncio.CancelledError:
            self.swallowed += 1
            raise ConnectionError("the connection was closed") from None
        raise AssertionError("unreachable")


async def test_a_stop_ends_the_publisher_even_when_its_feed_swallows_the_cancellation():
    feed = SwallowingFeed()
    publisher = Publisher(feed)
    publisher.configure(1000.0, "periodic")
    await feed.inside.wait()
    async with asyncio.timeout(30):  # a bound on the wait, not a timing claim
        await publisher.aclose()
    assert feed.swallowed == 1 and publisher.errors == 0  # a stop, not a failed publish
