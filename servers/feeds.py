"""The feed interface: ``--feed memory`` (one process, nothing to install) or
``--feed redis://HOST:PORT/DB`` (shared by every worker, and kept across restarts).

Both backends are a :class:`~pushlab.servers.feed.Feed` to the techniques: ``publish``,
``since``, ``wait_for_news``, ``follow``. Only their lifecycle differs, and :func:`feed_running`
hides it from the application factory.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from pushlab.servers.feed import Feed, FeedUnavailableError

MEMORY = "memory"


def feed_spec(text: str) -> str:
    """An argparse type: ``memory`` or a ``redis://HOST:PORT/DB`` URL, else a usage error."""
    if text == MEMORY:
        return text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        port, parts = None, None
    if parts is None or parts.scheme != "redis" or not parts.hostname or port is None:
        raise argparse.ArgumentTypeError(
            f"a feed is 'memory' or redis://HOST:PORT/DB, got {text!r}"
        )
    database = parts.path.lstrip("/")
    if database and not (database.isascii() and database.isdigit()):
        raise argparse.ArgumentTypeError(f"the Redis database must be a number, got {database!r}")
    return text


def shared(spec: str) -> bool:
    """Whether several processes can serve this feed (only through a broker)."""
    return spec != MEMORY


def make_feed(spec: str, history_size: int) -> Feed:
    if spec == MEMORY:
        return Feed(history_size)
    from pushlab.servers.feed_redis import RedisFeed  # redis is imported only when asked for

    return RedisFeed(spec, history_size)


async def feed_running(feed: Feed) -> AsyncIterator[None]:
    """A cleanup context: connect a shared feed before serving, disconnect after."""
    start, aclose = getattr(feed, "start", None), getattr(feed, "aclose", None)
    if start is not None:
        try:
            await start()
        except OSError as error:  # ConnectionError included: say it in one line
            raise FeedUnavailableError(str(error)) from None
    yield
    if aclose is not None:
        await aclose()
