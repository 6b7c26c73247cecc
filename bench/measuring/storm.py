"""The reconnect storm's part of a scenario: the server killed and started again under load.

``restart_at_s`` into the window the harness kills the server (SIGKILL: no goodbye, as in a
crash) and starts it again on the same port with a new feed, and turns its publisher back
on. Every client notices on its own and comes back through its reconnect policy
(``pushlab/reconnect_policy.py``: full jitter from 1 s, capped at 10 s), or, with
``jitter=False``, after the whole ceiling: the contrast that shows what the jitter buys. The
row counts the connections arriving at the server per second after the restart and when the
clients were back (``analysis/storm_window.py``).
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pushlab.bench.analysis.network_window import old_feed_window
from pushlab.bench.analysis.recovery import NetworkRecord
from pushlab.bench.analysis.storm_window import SERIES_S, storm_columns
from pushlab.bench.core.scenario import Part, ScenarioRun, Session

RESTART_AT_S = 3.0


def storm_window_s() -> float:
    """The window's wait after the restart (the restart comes ``RESTART_AT_S`` before it)."""
    return SERIES_S


@dataclass(frozen=True)
class StormPart(Part):
    """A restart ``RESTART_AT_S`` into the window; clients reconnect with or without jitter."""

    jitter: bool = True

    @property
    def key(self) -> str:
        return "storm"

    def id_suffix(self) -> str:
        return "-storm" + ("" if self.jitter else "-nojitter")

    def words(self) -> str:
        return ", the server restarted" + ("" if self.jitter else ", clients without jitter")

    def generator_args(self) -> list[str]:
        return [] if self.jitter else ["--no-jitter"]

    def session(self, run: ScenarioRun) -> Session:
        return StormSession(run)

    def narrow(self, window: Any) -> Any:
        return old_feed_window(window, window.records.get(self.key))

    def columns(self, reduced: Any) -> dict[str, Any]:
        return storm_columns(reduced, reduced.original.records.get(self.key), self.jitter)


class StormSession(Session):
    def __init__(self, run: ScenarioRun) -> None:
        self.run = run
        self.restart: dict[str, Any] = {}

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        """The restart, ``RESTART_AT_S`` into the window, then the rest of the window's wait.

        It runs on the harness's own thread, not a helper thread: the new server is started
        with ``PR_SET_PDEATHSIG``, which Linux ties to the *thread* that started it, so a
        server started by a thread that then ends gets SIGTERM at once."""
        time.sleep(RESTART_AT_S)
        crash = self.run.stats()
        at = time.time()
        self.run.restart_server(signal.SIGKILL)
        reborn = self.run.stats()
        self.run.set_publisher(self.run.scenario.publish_rate)
        self.restart = {
            "fault_at": at,
            "fault_ended_at": time.time(),
            "crash_stats": crash,
            "reborn_stats": reborn,
        }
        yield

    def record(self, last_id: int) -> NetworkRecord | None:
        if not self.restart:
            return None
        return NetworkRecord(math.nan, fault="restart", **self.restart)
