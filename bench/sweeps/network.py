"""The network sweep: every technique through the emulator, at each round-trip time.

At the base clients and rate, through ``pushlab.netem`` with each RTT of ``--rtts`` (the
default matrix: 100 ms; ``--full``: 0, 20, 100, 300 ms). RTT 0 still goes through the emulator,
so the sweep's first point measures the emulator's own cost and every point is compared like
with like. With ``--rates-at-rtt`` (``--full``: 100 ms) it also runs every publish rate of
``--rates`` at that RTT: long polling's transits per message depend on the rate.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from pushlab.bench.analysis.network_findings import longpoll_transits_finding, rtt_finding
from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import MatrixSettings, Scenario, at_base
from pushlab.bench.core.sweep import FigureSpec, Sweep
from pushlab.bench.measuring.arguments import MAX_RTT_MS, number_list, seconds
from pushlab.bench.measuring.network import NetworkPart
from pushlab.bench.presentation import network as figures

NAME = "network"


@dataclass(frozen=True)
class NetworkSettings:
    rtts_ms: tuple[float, ...] = (100.0,)
    jitter_ms: float = 0.0
    rates_at_rtt_ms: float | None = None  # also every rate of ``rates`` at this RTT


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--rtts",
        type=number_list(float, 0, MAX_RTT_MS),
        help="round-trip times of the network sweep (ms; default 100, --full 0,20,100,300)",
    )
    group.add_argument(
        "--jitter",
        type=seconds(0, MAX_RTT_MS, zero_allowed=True),
        help="extra one-way delay per chunk, 0 to this (ms; never reorders a stream). Packet "
        "loss cannot be emulated above TCP, so there is no option for it",
    )
    group.add_argument(
        "--rates-at-rtt",
        type=seconds(0, MAX_RTT_MS, zero_allowed=True),
        help="also run every --rates value at this RTT (ms; --full: 100)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    given = {"rtts_ms": args.rtts, "jitter_ms": args.jitter, "rates_at_rtt_ms": args.rates_at_rtt}
    return {name: value for name, value in given.items() if value is not None}


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    own: NetworkSettings = settings.of(NAME)
    rows: dict[str, Scenario] = {}  # a scenario twice in the sweep: once, in its first place
    for technique in settings.techniques:
        points = [(settings.base_rate, rtt_ms) for rtt_ms in sorted(set(own.rtts_ms))]
        if own.rates_at_rtt_ms is not None:  # long polling's transits against the rate
            points += [(rate, own.rates_at_rtt_ms) for rate in sorted(set(settings.rates))]
        for rate, rtt_ms in points:
            part = NetworkPart(rtt_ms=rtt_ms, jitter_ms=own.jitter_ms)
            item = replace(at_base(settings, technique, rate), parts=(part,))
            rows.setdefault(item.id, item)
    return list(rows.values())


SWEEP = Sweep(
    name=NAME,
    title="Network sweep: through the emulator, at each round-trip time",
    scenarios=scenarios,
    settings=NetworkSettings(),
    full={"rtts_ms": (0.0, 20.0, 100.0, 300.0), "rates_at_rtt_ms": 100.0},
    options=options,
    from_options=from_options,
    in_default=True,
    on_feeds=True,
    columns=(
        c.number("rtt_ms", "ms", "RTT", "round-trip time the emulator added; empty: loopback"),
        c.number("jitter_ms", "ms", "jitter", "extra one-way delay per chunk, up to this"),
        c.number(
            "netem_cpu_percent",
            "% of a core",
            "emulator CPU",
            "the network emulator's CPU (its own process)",
        ),
        c.count(
            "netem_connections_opened",
            "emulated connections",
            "connections the emulator opened to the server in the window",
        ),
    ),
    table=(
        "rtt_ms",
        "jitter_ms",
        "publish_rate",
        "latency_mean_ms",
        "model_latency_ms",
        "latency_p50_ms",
        "latency_p99_ms",
        "requests_per_message",
        "netem_cpu_percent",
    ),
    table_order=("rtt_ms", "publish_rate"),
    findings=(rtt_finding, longpoll_transits_finding),
    figures=(
        FigureSpec(
            "network",
            "Through an emulated network: latency against round-trip time",
            "Points are measured means through `pushlab.netem`, dashed lines the model: polling "
            "T/2 + RTT/2, WebSocket and SSE RTT/2, long polling from RTT/2 (its request waiting) "
            "towards RTT/2 + RTT/2 as the publish rate grows (messages that arrive while it "
            "re-asks wait up to a round trip more; RFC 6202 §2.2). A run with several publish "
            "rates at one RTT (`--rates-at-rtt`, `--full`) draws them in a second panel.",
            lambda results: figures.plot_network(results.summary),
        ),
    ),
)
