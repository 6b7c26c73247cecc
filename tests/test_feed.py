import asyncio
import re

import pytest

from pushlab.protocol import Gap
from pushlab.servers.feed import CursorAheadError, Feed


async def test_ids_start_at_one_and_increase_by_one():
    feed = Feed()
    ids = [(await feed.publish(f"m{i}")).id for i in range(5)]
    assert ids == [1, 2, 3, 4, 5]


async def test_message_json_is_compact_and_carries_publish_time():
    feed = Feed()
    message = await feed.publish("héllo <b>")
    assert message.json == f'{{"id":1,"ts":{message.ts!r},"text":"héllo <b>"}}'
    assert message.json_bytes == message.json.encode()


async def test_since_returns_only_newer_messages_in_order():
    feed = Feed()
    for i in range(5):
        await feed.publish(f"m{i}")
    assert [m.id for m in feed.since(0)] == [1, 2, 3, 4, 5]
    assert [m.id for m in feed.since(3)] == [4, 5]
    assert feed.since(5) == []


async def test_history_is_bounded_and_since_zero_means_oldest_held():
    feed = Feed(history_size=3)
    for i in range(10):
        await feed.publish(f"m{i}")
    assert [m.id for m in feed.since(0)] == [8, 9, 10]
    assert [m.id for m in feed.since(2)] == [8, 9, 10]


async def test_each_feed_has_its_own_id_that_publishing_does_not_change():
    feed, restarted = Feed(), Feed()
    assert re.fullmatch(r"[0-9a-f]{16}", feed.feed_id)
    assert restarted.feed_id != feed.feed_id
    before = feed.feed_id
    await feed.publish("a")
    assert feed.feed_id == before


async def test_a_cursor_ahead_of_the_feed_is_refused():
    feed = Feed()
    await feed.publish("a")
    with pytest.raises(CursorAheadError):
        feed.check_cursor(2)


async def test_wait_for_news_is_woken_by_publish():
    feed = Feed()
    waiter = asyncio.create_task(feed.wait_for_news(0, timeout_s=30))
    await asyncio.sleep(0)  # let the waiter park
    assert not waiter.done()
    await feed.publish("news")
    assert [m.text for m in await waiter] == ["news"]


async def test_wait_for_news_answers_at_once_when_news_exists():
    feed = Feed()
    await feed.publish("old news")
    assert [m.id for m in await feed.wait_for_news(0, timeout_s=0)] == [1]


async def test_wait_for_news_times_out_empty():
    feed = Feed()
    assert await feed.wait_for_news(0, timeout_s=0) == []


async def test_one_publish_wakes_every_waiter():
    feed = Feed()
    waiters = [asyncio.create_task(feed.wait_for_news(0, timeout_s=30)) for _ in range(100)]
    await asyncio.sleep(0)
    await feed.publish("to all")
    results = await asyncio.gather(*waiters)
    assert all([m.id for m in r] == [1] for r in results)


async def test_follow_yields_backlog_then_each_new_batch():
    feed = Feed()
    await feed.publish("a")
    stream = feed.follow(0)
    assert [m.id for m in await anext(stream)] == [1]
    next_batch = asyncio.create_task(anext(stream))
    await asyncio.sleep(0)
    await feed.publish("b")
    assert [m.id for m in await next_batch] == [2]


async def test_follow_yields_an_empty_batch_when_idle():
    feed = Feed()
    stream = feed.follow(0, idle_timeout_s=0)
    assert await anext(stream) == []


async def test_close_releases_waiters():
    feed = Feed()
    waiter = asyncio.create_task(feed.wait_for_news(0, timeout_s=30))
    await asyncio.sleep(0)
    feed.close()
    assert await waiter == []


async def test_gap_before_names_the_ids_the_history_no_longer_holds():
    feed = Feed(history_size=3)
    for n in range(10):
        await feed.publish(f"m{n}")
    assert feed.gap_before(2) == Gap(3, 7)
    assert feed.gap_before(6) == Gap(7, 7)
    assert feed.gap_before(7) is None
    assert feed.gap_before(10) is None


async def test_a_listener_is_called_with_every_appended_message_in_order():
    feed = Feed()
    seen: list[int] = []
    feed.add_listener(lambda message: seen.append(message.id))
    for n in range(3):
        await feed.publish(f"m{n}")
    assert seen == [1, 2, 3]
