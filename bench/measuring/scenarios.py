"""What the bench measures: scenarios, and the sweeps they are grouped in.

A *scenario* is one technique × clients × publish rate × poll interval (polling only) ×
duration: one server process, one generator process, one row of ``summary.csv``. A *sweep*
varies one of them while the others stay at the base values (100 clients, 1 msg/s, polling
every 1 s): ``clients``, ``rate`` or ``interval``. A scenario that belongs to two sweeps (100
clients at 1 msg/s is on all three) is measured once and written once per sweep, under the
same ``scenario`` id. The network, fault, scale-out and saturation sweeps have modules of their
own (``network_matrix.py``, ``scale_out.py``, ``saturation.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pushlab.bench.measuring.network_matrix import network_rows, network_suffix, network_words
from pushlab.bench.measuring.saturation import saturation_rows
from pushlab.bench.measuring.slow_sweep import slow_rows
from pushlab.techniques import (
    CLOSED_LOOP_S,
    DELIVERING_PEERS,
    HELD,
    LONGPOLL_HOLD_S,
    NAMES,
    PEER_NAMES,
)
from pushlab.techniques import behaviour as technique_entry  # peers behave as theirs

TECHNIQUES = NAMES
PUSH_TECHNIQUES = HELD
"""The techniques whose clients stay connected: only they go to ``push_clients``."""
SWEEPS = ("clients", "rate", "interval", "network", "faults", "saturation", "slow")
DEFAULT_SWEEPS = ("clients", "rate", "interval", "network")
"""The fault and saturation sweeps run when asked for (``--sweeps faults,saturation``) and in
``--full``."""
SCALE_OUT_SWEEP = "workers"
ALL_SWEEPS = (*SWEEPS, SCALE_OUT_SWEEP)
"""What ``--sweeps`` accepts: the sweeps above, and the scale-out sweep (issue 13)."""
FEEDS = ("memory", "redis")
SWEEP_CHOICES = (*ALL_SWEEPS, "capacity")
"""What ``--sweeps`` may name: the sweeps above, and the capacity search (issue 14), which is
adaptive and run apart from the matrix (``measuring/capacity.py``)."""

MIN_MESSAGES_PER_WINDOW = 3.0
"""At low publish rates the window is stretched so that about this many messages fall in it."""

MIN_POLLS_PER_WINDOW = 3
"""A polling window holds at least this many poll intervals."""


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
    longpoll_hold_s: float | None = None  # long polling only; None there means the default
    # Scale-out (issue 13): where the messages live, and how many server processes serve them.
    feed: str = "memory"  # or "redis"
    workers: int = 1
    generator_processes: int = 0  # Locust workers (0: one process, no master)
    # Network and faults (issue 12, bench/measuring/network_matrix.py): rtt_ms None = loopback,
    # straight to the server; a number (0 included) = through the emulator with that RTT.
    rtt_ms: float | None = None
    jitter_ms: float = 0.0
    fault: str = ""  # "", "drop", "stall" or "restart"
    stall_s: float = 0.0  # stall only
    resume: bool = True  # False: after a reconnect, start from the feed's present
    # The slow-consumer sweep (issue 15, bench/measuring/slow_sweep.py).
    slow_stall_s: float = 0.0  # > 0: one more client stops reading this long
    text_bytes: int = 0  # the publisher's texts padded to this size (0: short texts)

    def __post_init__(self) -> None:
        entry = technique_entry(self.technique)
        held_answer = entry.holds_request and not entry.pushes
        if not held_answer:
            object.__setattr__(self, "longpoll_hold_s", None)
        elif self.longpoll_hold_s is None:
            object.__setattr__(self, "longpoll_hold_s", LONGPOLL_HOLD_S)

    @property
    def id(self) -> str:
        """A file-name-safe name, e.g. ``polling-c100-r1-i0.5`` or ``sse-c1000-r20``."""
        name = f"{self.technique}-c{self.clients}-r{self.publish_rate:g}"
        if self.poll_interval is not None:
            name += f"-i{self.poll_interval:g}"
        name += network_suffix(self) + scale_out_suffix(self.feed, self.workers)
        if self.slow_stall_s:
            name += f"-slow{self.slow_stall_s:g}"
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
        if self.slow_stall_s:
            text += f", one client not reading for {self.slow_stall_s:g} s"
        return text + network_words(self)


def scale_out_suffix(feed: str, workers: int) -> str:
    """``-redis-w2``; nothing for one process on the memory feed (the ids of earlier runs)."""
    return ("" if feed == "memory" else f"-{feed}") + ("" if workers == 1 else f"-w{workers}")


@dataclass(frozen=True)
class MatrixSettings:
    """The values each sweep runs through, and the base values the others stay at."""

    techniques: tuple[str, ...] = TECHNIQUES
    sweeps: tuple[str, ...] = DEFAULT_SWEEPS
    clients: tuple[int, ...] = (10, 100, 1000)
    push_clients: tuple[int, ...] = ()  # extra client counts for the push techniques only
    rates: tuple[float, ...] = (0.2, 1.0, 5.0, 20.0)
    intervals: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    base_clients: int = 100
    base_rate: float = 1.0
    base_interval: float = 1.0
    duration_s: float = 6.0
    warmup_s: float = 1.5
    arrivals: str = "poisson"
    # One seed for every scenario of a run: each sees the same Poisson gaps (scaled by its rate),
    # so rows differ by technique, clients or interval, not by the luck of the draw.
    arrival_seed: int | None = None
    longpoll_hold_s: float = LONGPOLL_HOLD_S  # how long a long poll asks to be held
    trace_s: float = 4.5  # seconds of trace.json per technique
    # Scale-out (issue 13): every sweep runs on each feed; the workers sweep runs these counts
    # (on the Redis feed, and on both feeds at one worker: what the backplane costs).
    feeds: tuple[str, ...] = ("memory",)
    workers: tuple[int, ...] = (1, 2, 4)
    redis_url: str | None = None  # None: the harness starts its own redis-server
    generator_processes: int = 0  # Locust workers behind a master (0: one Locust process)
    generator_remote: bool = False  # the workers are started elsewhere (--generator-master)
    master_bind: str = "127.0.0.1"  # where the Locust master listens for its workers
    # Network and faults (issue 12): at base_clients and base_rate, through the emulator.
    rtts_ms: tuple[float, ...] = (100.0,)
    jitter_ms: float = 0.0
    rates_at_rtt_ms: float | None = None  # also every rate of ``rates`` at this RTT
    faults: tuple[str, ...] = ("drop", "stall", "restart")
    fault_rate: float = 10.0  # msg/s in the fault sweep: several messages fall in an outage
    stall_s: float = 2.0
    no_resume: bool = False  # also run each held technique without resume
    # issue 14: peer servers in the clients and rate sweeps, and the capacity search
    peers: tuple[str, ...] = ()
    capacity_clients: int = 1000
    capacity_rates: tuple[float, ...] = (5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
    # issue 15: empty poll answers in a closed loop, polling against baseline-polling
    saturation_clients: tuple[int, ...] = (100, 1000)
    # issue 15: one slow consumer among slow_clients others (bench/measuring/slow_sweep.py)
    slow_clients: int = 20  # 100 × 200 msg/s of 4 KiB saturate one Locust core (measured)
    slow_rate: float = 200.0
    slow_text_bytes: int = 4096
    slow_stall_s: float = 30.0


DEFAULT = MatrixSettings()
QUICK = MatrixSettings(
    clients=(10, 40),
    rates=(1.0, 4.0),
    intervals=(0.25, 1.0),
    base_clients=40,
    duration_s=3.0,
    warmup_s=0.5,
    arrivals="periodic",  # a fixed number of messages per window: the tests' checks need some
    trace_s=3.0,
    faults=("drop",),
    stall_s=1.0,
    capacity_clients=40,
    capacity_rates=(10.0, 40.0),
    saturation_clients=(40,),
    slow_clients=10,
    slow_rate=100.0,
    slow_stall_s=5.0,
)
FULL = MatrixSettings(
    clients=(10, 100, 1000, 2000),
    push_clients=(5000,),
    rates=(0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0),
    intervals=(0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
    duration_s=15.0,
    warmup_s=3.0,
    sweeps=SWEEPS,
    rtts_ms=(0.0, 20.0, 100.0, 300.0),
    rates_at_rtt_ms=100.0,
    no_resume=True,
    peers=PEER_NAMES,
)


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
        longpoll_hold_s=settings.longpoll_hold_s,
        generator_processes=settings.generator_processes,
    )


def build_matrix(settings: MatrixSettings) -> list[tuple[str, Scenario]]:
    """Every (sweep, scenario) pair, in the order they are run; scenarios may repeat."""
    base = settings
    rows: list[tuple[str, Scenario]] = []
    # A peer that never delivers (baseline-polling) has no place where messages must arrive.
    for technique in (*base.techniques, *(p for p in base.peers if p in DELIVERING_PEERS)):
        if "clients" in base.sweeps:
            held = technique_entry(technique).holds_request  # a peer's flags are its technique's
            counts = base.clients + (base.push_clients if held else ())
            for clients in sorted(set(counts)):
                rows.append(
                    (
                        "clients",
                        scenario(base, technique, clients, base.base_rate, base.base_interval),
                    )
                )
        if "rate" in base.sweeps:
            for rate in sorted(set(base.rates)):
                rows.append(
                    ("rate", scenario(base, technique, base.base_clients, rate, base.base_interval))
                )
        if "interval" in base.sweeps and technique_entry(technique).polls:
            for interval in sorted(set(base.intervals)):
                rows.append(
                    (
                        "interval",
                        scenario(base, technique, base.base_clients, base.base_rate, interval),
                    )
                )
    rows += network_rows(base, scenario)
    return (
        on_feeds(rows, base.feeds)
        + workers_sweep(base)
        + saturation_rows(base, scenario)
        + slow_rows(base, scenario)
    )


def on_feeds(
    rows: list[tuple[str, Scenario]], feeds: tuple[str, ...]
) -> list[tuple[str, Scenario]]:
    return [(sweep, replace(item, feed=feed)) for feed in feeds for sweep, item in rows]


def workers_sweep(base: MatrixSettings) -> list[tuple[str, Scenario]]:
    """Base clients and rate, 1…N workers on the Redis feed, and the memory feed at 1 worker."""
    if SCALE_OUT_SWEEP not in base.sweeps:
        return []
    rows = []
    for technique in base.techniques:
        at_base = scenario(base, technique, base.base_clients, base.base_rate, base.base_interval)
        rows.append((SCALE_OUT_SWEEP, replace(at_base, feed="memory", workers=1)))
        for workers in sorted(set(base.workers)):
            rows.append((SCALE_OUT_SWEEP, replace(at_base, feed="redis", workers=workers)))
    return rows


def unique_scenarios(matrix: list[tuple[str, Scenario]]) -> list[Scenario]:
    """Each scenario once, in first-seen order (a shared one is measured once)."""
    seen: dict[str, Scenario] = {}
    for _sweep, item in matrix:
        seen.setdefault(item.id, item)
    return list(seen.values())
