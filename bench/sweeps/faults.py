"""The faults sweep: a drop, a stall or a server restart in the window — what is lost?

Every technique once per fault of ``--faults`` (drop, stall, restart), at the base client
count and ``--fault-rate`` (10 msg/s: a reconnect takes a tenth of a second or more, so
messages are published while a client is away), through the emulator with no added delay.
The fault comes a third of the way into the window while the publisher keeps publishing
(``measuring/network.py``). With ``--no-resume`` the techniques whose clients stay connected
run each fault a second time, their clients starting from the feed's present after a
reconnect: the table then shows what the cursor buys. Polling has no connection to resume.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace
from typing import Any

from pushlab.bench.analysis.network_findings import fault_finding
from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import MatrixSettings, Scenario, at_base
from pushlab.bench.core.sweep import Sweep
from pushlab.bench.measuring.arguments import (
    MAX_PUBLISH_RATE,
    MIN_PUBLISH_RATE,
    name_list,
    number_list,
    seconds,
)
from pushlab.bench.measuring.network import FAULT_AT_FRACTION, NetworkPart
from pushlab.techniques import behaviour

NAME = "faults"
SERVER_FAULTS = ("drop", "stall", "restart")
"""Of the network (a drop, a stall in the emulator) and of the server process (a crash)."""
REDIS_FAULTS = ("redis-restart", "redis-restart-empty", "redis-stall")
"""Of the feed's Redis (``measuring/redis_faults.py``), on the Redis feed: a crash with its data
(persistence), without it (none), a stall. The server must lose nothing silently: a write it
cannot store is a 503 the publisher retries, an emptied Redis is adopted as a new feed."""
FAULTS = (*SERVER_FAULTS, *REDIS_FAULTS)
MIN_FAULT_WINDOW_S = 6.0
"""A fault window is at least this long, and long enough for the fault, a stall included, to
end with twice its length still to go."""


@dataclass(frozen=True)
class FaultSettings:
    faults: tuple[str, ...] = SERVER_FAULTS
    fault_rate: float = 10.0  # msg/s: several messages fall in an outage
    stall_s: float = 2.0
    no_resume: bool = False  # also run each held technique without resume


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--faults",
        type=name_list(FAULTS),
        help=f"{','.join(FAULTS)} (the redis ones on the Redis feed; default: "
        f"{','.join(SERVER_FAULTS)})",
    )
    group.add_argument(
        "--fault-rate",
        type=number_list(float, MIN_PUBLISH_RATE, MAX_PUBLISH_RATE),
        help="publish rate of the faults sweep (msg/s, default 10)",
    )
    group.add_argument(
        "--stall-s", type=seconds(0, 60, zero_allowed=False), help="how long a stall lasts (s)"
    )
    group.add_argument(
        "--no-resume",
        action="store_true",
        help="faults: run each held technique also without resume (from the present)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {"faults": args.faults, "stall_s": args.stall_s}
    changes["fault_rate"] = args.fault_rate[0] if args.fault_rate else None
    changes["no_resume"] = args.no_resume or None
    return {name: value for name, value in changes.items() if value is not None}


def fault_window_s(duration_s: float, fault: str, stall_s: float) -> float:
    held_s = stall_s if fault.endswith("stall") else 0.0
    return max(duration_s, MIN_FAULT_WINDOW_S, math.ceil(3 * held_s / (1 - FAULT_AT_FRACTION)))


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    own: FaultSettings = settings.of(NAME)
    rows = []
    for technique in settings.techniques:
        base = at_base(settings, technique, own.fault_rate)
        for fault in own.faults:
            stall_s = own.stall_s if fault.endswith("stall") else 0.0
            window = fault_window_s(base.duration_s, fault, stall_s)
            part = NetworkPart(rtt_ms=0.0, fault=fault, stall_s=stall_s)
            # A fault of the server's own: on each feed of the run; of Redis: on Redis only.
            feeds = ("redis",) if fault in REDIS_FAULTS else settings.feeds
            for feed in feeds:
                faulty = replace(base, duration_s=window, parts=(part,), feed=feed)
                rows.append(faulty)
                if own.no_resume and behaviour(technique).holds_request:
                    rows.append(replace(faulty, parts=(replace(part, resume=False),)))
    return rows


SWEEP = Sweep(
    name=NAME,
    title="Fault sweep: a drop, a stall or a server restart in the window",
    scenarios=scenarios,
    settings=FaultSettings(),
    quick={"faults": ("drop",), "stall_s": 1.0},
    full={"no_resume": True, "faults": FAULTS},
    options=options,
    from_options=from_options,
    columns=(
        c.text(
            "fault", "fault", "drop, stall or restart, injected once in the window; empty: none"
        ),
        c.flag("resume", "resume", "clients resumed from their cursor after a reconnect", True),
        c.number("recovery_p50_ms", "ms", "recovery p50", "fault → first message again, median"),
        c.number("recovery_max_ms", "ms", "recovery max", "fault → first message again, slowest"),
        c.count("recovered_clients", "recovered", "expected clients that received after the fault"),
    ),
    table=(
        "fault",
        "resume",
        "publish_rate",
        "messages_published",
        "messages_lost",
        "duplicated",
        "gaps_signalled",
        "recovery_p50_ms",
        "recovery_max_ms",
        "reconnects",
        "peak_reconnects_per_s",
        "netem_connections_opened",
    ),
    table_order=("fault", "resume"),
    findings=(fault_finding,),
)
