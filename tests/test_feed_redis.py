"""The feed's contract, held by both backends (one parametrised suite), and what only a shared
feed promises: dense ids across workers, a history that outlives a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from pushlab.servers.feed import Feed
from pushlab.servers.feed_redis import RedisFeed
from pushlab.servers.feeds import feed_running, make_feed
from tests.redis_fixture import redis_server, redis_url  # noqa: F401 (fixtures)

MakeFeed = Callable[..., Awaitable[Feed]]


@pytest.fixture(params=["memory", "redis"])
async def new_feed(request: pytest.FixtureRequest) -> AsyncIterator[MakeFeed]:
    """``await new_feed(history_size=…)``: a started feed of the backend under test."""
    spec = "memory" if request.param == "memory" else request.getfixturevalue("redis_url")
    running: list[AsyncIterator[None]] = []

    async def _new(history_size: int = 1000) -> Feed:
        feed = make_feed(spec, history_size)
        lifecycle = feed_running(feed)
        await anext(lifecycle)
        running.append(lifecycle)
        return feed

    yield _new
    for lifecycle in running:
        with pytest.raises(StopAsyncIteration):
            await anext(lifecycle)


async def test_ids_start_at_one_and_increase_by_one(new_feed: MakeFeed) -> None:
    feed = await new_feed()
    assert [(await feed.publish(f"m{i}")).id for i in range(5)] == [1, 2, 3, 4, 5]


async def test_since_returns_only_newer_messages_in_order(new_feed: MakeFeed) -> None:
    feed = await new_feed()
    for i in range(5):
        await feed.publish(f"m{i}")
    assert [m.id for m in feed.since(3)] == [4, 5]
    assert [m.text for m in feed.since(0)] == ["m0", "m1", "m2", "m3", "m4"]


async def test_history_is_bounded(new_feed: MakeFeed) -> None:
    feed = await new_feed(history_size=3)
    for i in range(10):
        await feed.publish(f"m{i}")
    assert [m.id for m in feed.since(0)] == [8, 9, 10]


async def test_one_publish_wakes_every_waiter(new_feed: MakeFeed) -> None:
    feed = await new_feed()
    waiters = [asyncio.create_task(feed.wait_for_news(0, timeout_s=30)) for _ in range(100)]
    await asyncio.sleep(0)  # let the waiters park
    assert not any(waiter.done() for waiter in waiters)
    await feed.publish("to all")
    results = await asyncio.gather(*waiters)
    assert all([m.text for m in r] == ["to all"] for r in results)


async def test_follow_yields_backlog_then_each_new_batch(new_feed: MakeFeed) -> None:
    feed = await new_feed()
    for text in ("a", "b"):
        await feed.publish(text)
    batches = feed.follow(1)
    assert [m.text for m in await anext(batches)] == ["b"]
    pending = asyncio.create_task(anext(batches))
    await asyncio.sleep(0)  # let it park
    await feed.publish("c")
    assert [(m.id, m.text) for m in await pending] == [(3, "c")]


async def test_close_releases_waiters(new_feed: MakeFeed) -> None:
    feed = await new_feed()
    waiter = asyncio.create_task(feed.wait_for_news(0, timeout_s=30))
    await asyncio.sleep(0)
    feed.close()
    assert await waiter == []


# --- What only the Redis feed promises -------------------------------------------------------


async def started(url: str, history_size: int = 1000) -> RedisFeed:
    feed = RedisFeed(url, history_size)
    await feed.start()
    return feed


async def test_ids_stay_dense_and_ordered_across_two_workers_publishing_at_once(
    redis_url: str,  # noqa: F811
) -> None:
    first, second = await started(redis_url), await started(redis_url)
    try:
        published = await asyncio.gather(
            *(
                feed.publish(f"{name}{i}")
                for i in range(50)
                for name, feed in (("a", first), ("b", second))
            )
        )
        assert sorted(m.id for m in published) == list(range(1, 101))
        by_id = {m.id: m.text for m in published}
        for feed in (first, second):
            assert [(m.id, m.text) for m in feed.since(0)] == sorted(by_id.items())
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_client_resumes_after_a_restart_with_nothing_lost(redis_url: str) -> None:  # noqa: F811
    before = await started(redis_url)
    for i in range(5):
        await before.publish(f"m{i}")
    feed_id = before.feed_id
    await before.aclose()

    after = await started(redis_url)
    try:
        assert after.feed_id == feed_id  # the same feed: the client's cursor still means it
        assert [m.text for m in after.since(2)] == ["m2", "m3", "m4"]
        assert (await after.publish("m5")).id == 6
    finally:
        await after.aclose()


async def test_a_thousand_waiters_cost_one_redis_read_per_batch(redis_url: str) -> None:  # noqa: F811
    feed = await started(redis_url)
    try:
        waiters = [asyncio.create_task(feed.wait_for_news(0, timeout_s=30)) for _ in range(1000)]
        await asyncio.sleep(0)
        reads_before = feed.redis_reads
        await feed.publish("one")
        await asyncio.gather(*waiters)
        assert feed.redis_reads - reads_before == 1
    finally:
        await feed.aclose()


async def test_a_cursor_a_little_ahead_waits_for_the_stream(redis_url: str) -> None:  # noqa: F811
    """Another worker numbered #1; this one has not read it yet: the cursor is not an error."""
    slow, fast = await started(redis_url), await started(redis_url)
    try:
        slow.check_cursor(1)
        waiter = asyncio.create_task(slow.wait_for_news(1, timeout_s=30))
        await fast.publish("first")
        await fast.publish("second")
        assert [m.text for m in await waiter] == ["second"]
    finally:
        await slow.aclose()
        await fast.aclose()
