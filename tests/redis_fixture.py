"""A real ``redis-server`` for the tests that need one (never a mock): skipped with the reason
when it is not installed, and a failure under ``CI=true`` (where .ci/run installs it)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from pushlab.bench.measuring.redis_server import RedisMissingError, RedisServer, running_redis


def redis_or_skip() -> Iterator[RedisServer]:
    try:
        with running_redis() as server:
            yield server
    except RedisMissingError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the Redis tests cannot run: {error}", pytrace=False)
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    yield from redis_or_skip()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of this test's own: for tests that restart or stall it."""
    yield from redis_or_skip()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The server's URL, its database emptied first: each test starts a new feed."""
    redis.Redis(port=redis_server.port).flushdb()
    return redis_server.url
