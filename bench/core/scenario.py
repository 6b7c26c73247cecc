"""What the bench measures: a scenario, the parts sweeps add to it, and the run's base settings.

A *scenario* is one technique × clients × publish rate × poll interval (polling only) ×
duration: one server process, one generator process, one row of ``summary.csv``. Its core
fields are the axes every sweep shares. A sweep that needs more — a network in front of the
server, a fault in the window, a client that stops reading — adds a :class:`Part` to the
scenario: the part names itself in the scenario's id and description, gives the harness hooks
around the run (``Session``) and gives the measurement its columns. The core reads parts through
that interface only, so it names no sweep (the plug-ins are in ``bench/sweeps/``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pushlab.techniques import CLOSED_LOOP_S, LONGPOLL_HOLD_S, NAMES
from pushlab.techniques import behaviour as technique_entry  # peers behave as theirs

FEEDS = ("memory", "redis")

MIN_MESSAGES_PER_WINDOW = 3.0
"""At low publish rates the window is stretched so that about this many messages fall in it."""

MIN_POLLS_PER_WINDOW = 3
"""A polling window holds at least this many poll intervals."""


class ScenarioRun(Protocol):
    """What a part's hooks may use of one running scenario (``measuring/harness.py``)."""

    scenario: Scenario
    log: Any  # the scenario's log file (bytes)
    url: str  # where the clients connect (the server, or what a part put in front of it)
    results_dir: Path  # the run's results directory: a part may keep files of its own there
    raw_path: Path  # the generator's arrays (``measuring/generator.py``), written by the drain

    def server_pid(self) -> int: ...
    def server_address(self) -> tuple[str, int]: ...
    def stats(self) -> dict[str, Any]: ...
    def set_publisher(self, rate: float) -> None: ...
    def restart_server(self, signal_number: int) -> None: ...
    def harness_cpus(self) -> frozenset[int]: ...
    def redis_server(self) -> Any: ...  # the run's own redis-server, None if it has none


class Session:
    """One part's hooks around one run of its scenario. Each hook nests with the other parts'
    (the harness enters them in the order of ``Scenario.parts``), the way pyperf's hooks and
    pytest's fixtures do; a hook that has nothing to do yields at once."""

    @contextmanager
    def path(self, url: str) -> Iterator[str]:
        """From the server's start to its stop: yields where the clients should connect
        (``url``, or something put in front of it: an emulated network, a proxy)."""
        yield url

    @contextmanager
    def clients(self) -> Iterator[None]:
        """From every client connected, before the publisher starts, until after the drain."""
        yield

    @contextmanager
    def window(self) -> Iterator[None]:
        """Around the measurement window's wait: a fault or a stall happens in here."""
        yield

    def during(self, duration_s: float) -> list[tuple[float, Callable[[], None]]]:
        """Actions the harness runs on its own thread inside the window's wait, each at its
        time (seconds into the window): a fault that starts a process must, for a child
        started from a helper thread is killed when that thread ends (PR_SET_PDEATHSIG)."""
        return []

    def record(self, last_id: int) -> Any:
        """What the part saw, kept in ``Window.records`` for its columns (after the drain:
        ``last_id`` is the window's last message)."""
        return None


@dataclass(frozen=True)
class Part:
    """A sweep's share of a scenario (a frozen value: scenarios are compared and hashed)."""

    @property
    def key(self) -> str:
        """Where its record is kept in ``Window.records``."""
        return type(self).__name__

    def id_suffix(self) -> str:
        return ""

    def words(self) -> str:
        return ""

    def generator_args(self) -> list[str]:
        return []

    def server_args(self) -> list[str]:
        """Options its server process is started with (e.g. ``--loop uvloop``)."""
        return []

    def generator_module(self) -> str | None:
        """The module that generates this scenario's load, if not Locust's (``python -m``;
        it speaks the same line protocol and writes the same ``.npz``: see
        ``measuring/generator.py``). None: the default generator."""
        return None

    def session(self, run: ScenarioRun) -> Session:
        return Session()

    def narrow(self, window: Any) -> Any:
        """The window the core columns describe (a restart keeps the old feed's part)."""
        return window

    def columns(self, reduced: Any) -> dict[str, Any]:
        """Its columns from the reduced window (``core/window.py``'s ``Reduced``)."""
        return {}


@dataclass(frozen=True)
class Scenario:
    technique: str
    clients: int
    publish_rate: float  # messages per second
    poll_interval: float | None  # seconds; polling only
    duration_s: float  # the measurement window
    warmup_s: float
    arrivals: str = "poisson"
    arrival_seed: int | None = None  # the publisher's seed for Poisson gaps; None = unseeded
    hold_s: float | None = None  # long polling only; None there means the default
    feed: str = "memory"  # where the messages live: "memory", or "redis" (shared by workers)
    workers: int = 1  # server processes sharing the port
    generator_processes: int = 0  # Locust workers (0: one process, no master)
    text_bytes: int = 0  # the publisher's texts padded to this size (0: short texts)
    parts: tuple[Part, ...] = ()

    def __post_init__(self) -> None:
        entry = technique_entry(self.technique)
        held_answer = entry.holds_request and not entry.pushes
        if not held_answer:
            object.__setattr__(self, "hold_s", None)
        elif self.hold_s is None:
            object.__setattr__(self, "hold_s", LONGPOLL_HOLD_S)

    @property
    def id(self) -> str:
        """A file-name-safe name, e.g. ``polling-c100-r1-i0.5`` or ``sse-c1000-r20``."""
        name = f"{self.technique}-c{self.clients}-r{self.publish_rate:g}"
        if self.poll_interval is not None:
            name += f"-i{self.poll_interval:g}"
        name += "".join(part.id_suffix() for part in self.parts)
        name += ("" if self.feed == "memory" else f"-{self.feed}") + (
            "" if self.workers == 1 else f"-w{self.workers}"
        )
        return name + (f"-t{self.text_bytes}" if self.text_bytes else "")

    def describe(self) -> str:
        text = f"{self.technique}, {self.clients:,} clients, {self.publish_rate:g} msg/s"
        if self.poll_interval == CLOSED_LOOP_S:
            text += ", each client polling again as its answer arrives"
        elif self.poll_interval is not None:
            text += f", polling every {self.poll_interval:g} s"
        if self.feed != "memory" or self.workers != 1:
            text += (
                f", {self.workers} worker{'s' if self.workers != 1 else ''} on a {self.feed} feed"
            )
        if self.text_bytes:
            text += f" of {self.text_bytes:,}-byte texts"
        return text + "".join(part.words() for part in self.parts)


@dataclass(frozen=True)
class MatrixSettings:
    """The axes every sweep shares, the base values the sweeps hold still, and each sweep's own
    settings (``own``, by sweep name: a sweep reads only its own)."""

    techniques: tuple[str, ...] = NAMES
    sweeps: tuple[str, ...] = ()  # filled from the registry: the sweeps run by default
    clients: tuple[int, ...] = (10, 100, 1000)
    push_clients: tuple[int, ...] = ()  # extra client counts for the push techniques only
    rates: tuple[float, ...] = (0.5, 5.0, 20.0)
    intervals: tuple[float, ...] = (0.25, 1.0, 4.0)
    base_clients: int = 100
    # Below the poll frequency (1/base_interval), as in a real feed: most polls come back empty
    # and polling's requests (one per poll) part from long polling's (about one per message);
    # at 1 msg/s and a 1 s interval the two draw one line and polling locks onto one phase.
    base_rate: float = 0.5
    base_interval: float = 1.0
    duration_s: float = 6.0
    warmup_s: float = 0.5  # the clients are already connected when it starts
    arrivals: str = "poisson"
    # One seed for every scenario of a run: each sees the same Poisson gaps (scaled by its rate),
    # so rows differ by technique, clients or interval, not by the luck of the draw.
    arrival_seed: int | None = None
    hold_s: float = LONGPOLL_HOLD_S  # how long a long poll asks to be held
    trace_s: float = 4.5  # seconds of trace.json per technique
    feeds: tuple[str, ...] = ("memory",)  # every feed-bound sweep runs on each
    redis_url: str | None = None  # None: the harness starts its own redis-server
    generator_processes: int = 0  # Locust workers behind a master (0: one Locust process)
    generator_remote: bool = False  # the workers are started elsewhere (--generator-master)
    master_bind: str = "127.0.0.1"  # where the Locust master listens for its workers
    peers: tuple[str, ...] = ()  # peer servers beside pushlab's (``peers/``)
    own: Mapping[str, Any] = field(default_factory=dict)

    def of(self, sweep: str) -> Any:
        """A sweep's own settings (its plug-in module reads them with its own name)."""
        return self.own[sweep]


def window_s(settings: MatrixSettings, publish_rate: float, poll_interval: float | None) -> float:
    """The measurement window: the configured duration, longer when messages are rare.

    For polling it is a whole number of poll intervals (at least ``MIN_POLLS_PER_WINDOW``), so
    that every client polls the same number of times in it, whatever its phase: the achieved
    request rate can then be held against the target without rounding noise.
    """
    window = settings.duration_s
    if publish_rate > 0:
        window = max(window, math.ceil(MIN_MESSAGES_PER_WINDOW / publish_rate))
    if poll_interval:
        polls = max(math.ceil(window / poll_interval - 1e-9), MIN_POLLS_PER_WINDOW)
        window = polls * poll_interval
    return window


def scenario(
    settings: MatrixSettings, technique: str, clients: int, rate: float, interval: float
) -> Scenario:
    """A scenario at these values, with the run's window, arrivals, hold and generator."""
    poll_interval = interval if technique_entry(technique).polls else None
    return Scenario(
        technique=technique,
        clients=clients,
        publish_rate=rate,
        poll_interval=poll_interval,
        duration_s=window_s(settings, rate, poll_interval),
        warmup_s=settings.warmup_s,
        arrivals=settings.arrivals,
        arrival_seed=settings.arrival_seed,
        hold_s=settings.hold_s,
        generator_processes=settings.generator_processes,
    )


def at_base(settings: MatrixSettings, technique: str, rate: float | None = None) -> Scenario:
    """The scenario at the base clients, rate (or ``rate``) and interval."""
    return scenario(
        settings,
        technique,
        settings.base_clients,
        settings.base_rate if rate is None else rate,
        settings.base_interval,
    )
