"""The built-in publisher: messages at ``publish_rate`` per second, periodic or Poisson.

Periodic arrivals keep an absolute schedule (no drift); Poisson arrivals draw exponential gaps,
which is what the analytical model in ``bench/analysis/model.py`` assumes. A seed makes the
Poisson gaps repeatable: the bench gives every scenario of a run the same one, so techniques are
compared on the same arrivals rather than on different luck of the draw (common random numbers).

A message's text is short ("message 42 from the built-in publisher") unless ``text_bytes`` asks
for more: the text is then padded to that many bytes, so that the bench can push big messages
(the slow-consumer scenario sends 4 KiB texts) through the same path as small ones.

A publish can fail (the shared feed's Redis restarts, stalls, or is gone). The publisher then
keeps its schedule rather than dying: it logs the first failure of a run of failures and, when
publishing works again, how many there were; it waits a capped, doubling back-off before the
next attempt, and skips the slots that passed meanwhile (no burst to catch up). ``/stats``
says ``publisher_state``: ``off``, ``publishing`` or ``failing``, and counts ``publisher_errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from pushlab.servers.feed import Feed

log = logging.getLogger("pushlab.publisher")

BACKOFF_FIRST_S = 0.1  # after a failed publish, wait this long before the next attempt…
BACKOFF_CAP_S = 5.0  # …doubling after each further failure, up to this
CANCEL_AGAIN_S = 1.0  # a stop cancels the task again this often until it has ended


class Publisher:
    def __init__(
        self,
        feed: Feed,
        publish_rate: float = 0.0,
        arrivals: str = "periodic",
    ) -> None:
        self.feed = feed
        self.publish_rate = publish_rate
        self.arrivals = arrivals
        self.published = 0
        self.errors = 0  # failed publishes, over the publisher's life
        self.failing = 0  # failed publishes in a row now (0: the last one worked)
        self.text_bytes = 0  # 0: the short text; more: padded to this many bytes
        self.seed: int | None = None  # None: gaps from an unseeded generator
        self._rng = random.Random()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def state(self) -> str:
        """``off``, ``publishing``, or ``failing`` (its last attempt failed)."""
        if not self.running:
            return "off"
        return "failing" if self.failing else "publishing"

    def start(self) -> None:
        self.stop()
        if self.publish_rate > 0:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def aclose(self) -> None:
        """Stop the schedule and wait until the task has ended.

        A cancellation can be swallowed on its way: a client library that turns it into its
        own error (redis-py has done so while a command was in flight), which ``_run`` then
        treats as a failed publish. So the task is cancelled again until it is done, and a
        server's shutdown never waits on it for ever.
        """
        task, self._task = self._task, None
        if task is None:
            return
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=CANCEL_AGAIN_S)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def configure(
        self,
        publish_rate: float,
        arrivals: str | None = None,
        seed: int | None = None,
        text_bytes: int | None = None,
    ) -> None:
        """Change the rate live (the classroom page's slider); restarts the schedule.

        With a seed, the Poisson gaps restart from ``random.Random(seed)``: the same seed gives
        the same sequence of gaps, scaled by ``1 / publish_rate``.
        """
        self.publish_rate = publish_rate
        if arrivals is not None:
            self.arrivals = arrivals
        if text_bytes is not None:
            self.text_bytes = text_bytes
        self.seed = seed
        self._rng = random.Random(seed)
        self.start()

    def _next_gap_s(self) -> float:
        if self.arrivals == "poisson":
            return self._rng.expovariate(self.publish_rate)
        return 1.0 / self.publish_rate

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time() + self._next_gap_s()
        while True:
            await asyncio.sleep(max(next_at - loop.time(), 0.0))
            next_at += self._next_gap_s()
            try:
                await self.feed.publish(self.text(self.feed.last_id + 1))
            except Exception as error:  # any failure: the schedule goes on…
                if asyncio.current_task().cancelling():  # …unless it was a stop, disguised
                    raise asyncio.CancelledError from error
                self._failed(error)
                backoff_s = min(BACKOFF_FIRST_S * 2 ** (self.failing - 1), BACKOFF_CAP_S)
                await asyncio.sleep(backoff_s)  # the back-off is the point: a deliberate wait
                while next_at < loop.time():  # the slots that passed meanwhile are skipped
                    next_at += self._next_gap_s()
                continue
            self.published += 1
            if self.failing:
                log.warning("publisher: publishing again after %d failed attempts", self.failing)
                self.failing = 0

    def _failed(self, error: Exception) -> None:
        self.errors += 1
        self.failing += 1
        if self.failing == 1:
            log.warning("publisher: a publish failed (%s); retrying with back-off", error)

    def text(self, message_id: int) -> str:
        """The text of message ``message_id``, padded with dots to ``text_bytes`` if asked."""
        text = f"message {message_id} from the built-in publisher"
        return text.ljust(self.text_bytes, ".")
