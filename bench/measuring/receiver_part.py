"""The independent receiver's part of a scenario: a few connections beside the Locust users.

The receiver (``receiver.py``) opens its connections once the Locust users are connected and
before the publisher starts, on the harness's own CPUs (not the generator's, not the
server's), and hears the same messages; after the drain it is told the window's last id,
waits for it (at most ``RECEIVER_LIMIT_S``) and hands over its arrays. Its columns:
``analysis/receiver_window.py``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pushlab.bench.analysis.receiver_window import receiver_columns
from pushlab.bench.core.scenario import Part, ScenarioRun, Session
from pushlab.bench.measuring.processes import read_line, spawn, stop
from pushlab.bench.measuring.window import load_deliveries

RECEIVER_LIMIT_S = 30.0
"""How long the receiver may take to read the window's last message after the drain."""
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ReceiverPart(Part):
    """``connections`` independent receiver connections beside the Locust users."""

    connections: int

    @property
    def key(self) -> str:
        return "receiver"

    def id_suffix(self) -> str:
        return f"-recv{self.connections}"

    def words(self) -> str:
        return f", and {self.connections} independent receiver connections"

    def session(self, run: ScenarioRun) -> Session:
        return ReceiverSession(self, run)

    def columns(self, reduced: Any) -> dict[str, Any]:
        return receiver_columns(reduced, reduced.original.records.get(self.key))


class ReceiverSession(Session):
    def __init__(self, part: ReceiverPart, run: ScenarioRun) -> None:
        self.part, self.run = part, run
        self.process: Any = None
        self.out = Path(run.log.name).with_suffix(".receiver.npz")

    def wait_for(self, event: str, timeout_s: float) -> dict[str, Any]:
        """The receiver's next JSON line, which must be ``event``."""
        line = read_line(self.process.stdout, timeout_s)
        message = json.loads(line) if line else {"event": "exit"}
        if message["event"] != event:
            raise RuntimeError(f"the independent receiver sent {message!r}, not {event!r}")
        return message

    @contextlib.contextmanager
    def clients(self) -> Iterator[None]:
        since = int(self.run.stats()["last_id"])
        args = [self.run.scenario.technique, "--host", self.run.url, "--since", str(since)]
        args += ["--connections", str(self.part.connections), "--out", str(self.out)]
        module = "pushlab.bench.measuring.receiver"
        self.process = spawn(module, args, self.run.harness_cpus(), self.run.log, stdin=True)
        try:
            self.wait_for("ready", READY_TIMEOUT_S)
            yield
        finally:
            stop(self.process)

    def record(self, last_id: int) -> dict[str, Any]:
        self.process.stdin.write(f"stop {last_id} {RECEIVER_LIMIT_S:g}\n".encode())
        self.process.stdin.flush()
        done = self.wait_for("done", RECEIVER_LIMIT_S + 30)
        return {
            "connections": self.part.connections,
            "drained": done["drained"],
            "arrays": load_deliveries(self.out),
        }
