"""The slow-consumer sweep: one client stops reading — does the server stay bounded?

For each push technique: ``--slow-clients`` Locust clients at ``--slow-rate`` of 4 KiB texts,
and one more client, the slow consumer, that stops reading for ``--slow-stall-s`` a fifth of
the way into the window, then reads on (the part and its hooks: ``measuring/slow_sweep.py``).
The warm-up fills the feed's history first (``history ÷ rate``), so that the history's own
growth is not counted as the slow client's.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from pushlab.bench.analysis.slow_findings import slow_consumer_finding
from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.bench.core.sweep import Sweep
from pushlab.bench.measuring.arguments import (
    MAX_CLIENTS,
    MAX_PUBLISH_RATE,
    MIN_PUBLISH_RATE,
    one_number,
    seconds,
)
from pushlab.bench.measuring.slow_consumer import SLOW_TECHNIQUES
from pushlab.bench.measuring.slow_sweep import SlowPart, slow_window_s
from pushlab.servers.feed import DEFAULT_HISTORY_SIZE

NAME = "slow"


@dataclass(frozen=True)
class SlowSettings:
    clients: int = 20  # 100 × 200 msg/s of 4 KiB saturate one Locust core (measured)
    rate: float = 200.0
    text_bytes: int = 4096
    stall_s: float = 30.0


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--slow-clients",
        type=one_number(int, 1, MAX_CLIENTS),
        help="the clients beside the slow consumer (default 20; --quick 10)",
    )
    group.add_argument(
        "--slow-rate",
        type=one_number(float, MIN_PUBLISH_RATE, MAX_PUBLISH_RATE),
        help="publish rate (msg/s, default 200; --quick 100), of 4 KiB texts",
    )
    group.add_argument(
        "--slow-stall-s",
        type=seconds(0, 120, zero_allowed=False),
        help="how long the slow consumer stops reading (s, default 30; --quick 5)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    given = {"clients": args.slow_clients, "rate": args.slow_rate, "stall_s": args.slow_stall_s}
    return {name: value for name, value in given.items() if value is not None}


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    own: SlowSettings = settings.of(NAME)
    rows = []
    for name in settings.techniques:
        if name not in SLOW_TECHNIQUES:
            continue
        base = scenario(settings, name, own.clients, own.rate, 1.0)
        warmup_s = max(base.warmup_s, DEFAULT_HISTORY_SIZE / own.rate + 1)
        rows.append(
            replace(
                base,
                duration_s=slow_window_s(own.stall_s),
                warmup_s=warmup_s,
                text_bytes=own.text_bytes,
                parts=(SlowPart(own.stall_s),),
            )
        )
    return rows


def slow(name: str, label: str, description: str) -> c.Column:
    return c.count(name, label, f"slow sweep: {description}")


SWEEP = Sweep(
    name=NAME,
    title="Slow-consumer sweep: one client stops reading, the others go on",
    scenarios=scenarios,
    settings=SlowSettings(),
    quick={"clients": 10, "rate": 100.0, "stall_s": 5.0},
    options=options,
    from_options=from_options,
    columns=(
        c.number(
            "slow_stall_s", "s", "stall", "slow sweep: how long the slow consumer did not read"
        ),
        c.number(
            "slow_rss_growth_kb",
            "KB",
            "RSS growth",
            "slow sweep: server RSS, peak during the stall − just before it",
        ),
        c.number(
            "slow_high_water_kb",
            "KB",
            "high-water mark",
            "the write buffer past which a client leaves the broadcast loop",
        ),
        c.number(
            "others_p99_before_ms",
            "ms",
            "others' p99 before",
            "slow sweep: p99 of the other clients, messages before the stall",
        ),
        c.number(
            "others_p99_during_ms",
            "ms",
            "others' p99 during",
            "slow sweep: p99 of the other clients, messages during it",
        ),
        c.number(
            "others_p99_change",
            "",
            "others' p99 change",
            "slow sweep: (p99 during − p99 before) ÷ p99 before",
            "+.0%",
        ),
        slow("slow_received", "slow received", "messages the slow consumer received"),
        slow("slow_signalled", "slow signalled", "messages a gap signal told it were gone"),
        slow("slow_lost", "slow lost", "messages it neither received nor was told of"),
        slow("slow_duplicates", "slow duplicates", "messages it received twice"),
        slow("slow_reconnects", "slow reconnects", "its reconnects (after a gap or hang-up)"),
    ),
    table=(
        "clients",
        "publish_rate",
        "slow_stall_s",
        "slow_rss_growth_kb",
        "slow_high_water_kb",
        "others_p99_before_ms",
        "others_p99_during_ms",
        "others_p99_change",
        "slow_received",
        "slow_signalled",
        "slow_lost",
        "slow_reconnects",
    ),
    findings=(slow_consumer_finding,),
)
