"""The receiver sweep: the clients sweep's scenarios, with an independent receiver beside.

At each client count of ``--clients`` and the base rate, every chosen technique runs; WebSocket
and SSE with ``--receiver-connections`` more connections read by a minimal asyncio receiver
(``measuring/receiver.py``; the part: ``measuring/receiver_part.py``). One row then holds the
latency the Locust users observed, its wire part and the generator's delay (core columns,
``analysis/wire.py``) and the receiver's latency: a check that the wire latency the bench
reports is the one a client that adds no delay of its own would see.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from pushlab.bench.analysis.results import Results
from pushlab.bench.core import columns as c
from pushlab.bench.core.columns import plain_number
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.bench.core.sweep import FigureSpec, Sweep
from pushlab.bench.measuring.arguments import one_number
from pushlab.bench.measuring.receiver import RECEIVER_TECHNIQUES
from pushlab.bench.measuring.receiver_part import ReceiverPart
from pushlab.bench.presentation.wire import plot_wire_latency
from pushlab.techniques import label

NAME = "receiver"


@dataclass(frozen=True)
class ReceiverSettings:
    connections: int = 10


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--receiver-connections",
        type=one_number(int, 1, 1000),
        help="the independent receiver's connections beside the Locust users (default 10)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    given = args.receiver_connections
    return {} if given is None else {"connections": given}


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    """Every chosen technique at each client count; the receiver beside the push ones (the
    others' rows still split their latency into wire and generator)."""
    own: ReceiverSettings = settings.of(NAME)
    parts = (ReceiverPart(own.connections),)
    return [
        replace(
            scenario(settings, name, clients, settings.base_rate, settings.base_interval),
            parts=parts if name in RECEIVER_TECHNIQUES else (),
        )
        for name in settings.techniques
        for clients in sorted(set(settings.clients))
    ]


def receiver_sentence(row: pd.Series) -> str:
    receiver = row["receiver_latency_p50_ms"]
    return (
        f"{label(str(row['technique']))} at {row['clients']:,} clients × "
        f"{plain_number(row['publish_rate'])} msg/s: observed p50 "
        f"{plain_number(row['latency_p50_ms'])} ms, wire p50 "
        f"{plain_number(row['wire_latency_p50_ms'])} ms, the generator added "
        f"{plain_number(row['generator_delay_p50_ms'])} ms (p50)"
        + (
            ""
            if pd.isna(receiver)
            else f"; the independent receiver's p50 {plain_number(receiver)} ms"
        )
    )


def receiver_finding(results: Results) -> str | None:
    rows = results.sweep(NAME)
    if rows.empty or "receiver_latency_p50_ms" not in rows:
        return None
    sentences = [receiver_sentence(row) for _, row in rows.iterrows()]
    return "Wire latency against an independent receiver (this run): " + "; ".join(sentences) + "."


SWEEP = Sweep(
    name=NAME,
    title="Receiver sweep: the bench's wire latency against an independent receiver",
    scenarios=scenarios,
    settings=ReceiverSettings(),
    options=options,
    from_options=from_options,
    columns=(
        c.count("receiver_connections", "receiver connections", "receiver sweep: its connections"),
        c.number(
            "receiver_latency_p50_ms",
            "ms",
            "receiver p50",
            "receiver sweep: publish → a minimal asyncio receiver handled it, median",
        ),
        c.number(
            "receiver_latency_p99_ms",
            "ms",
            "receiver p99",
            "receiver sweep: publish → the receiver handled it, 99th percentile",
        ),
        c.count(
            "receiver_missed",
            "receiver missed",
            "receiver sweep: window messages a receiver connection never received",
        ),
    ),
    table=(
        "clients",
        "publish_rate",
        "latency_p50_ms",
        "wire_latency_p50_ms",
        "generator_delay_p50_ms",
        "receiver_latency_p50_ms",
        "generator_share",
        "receiver_missed",
    ),
    table_order=("clients",),
    findings=(receiver_finding,),
    figures=(
        FigureSpec(
            "wire_latency",
            "Where the observed latency comes from",
            "Per technique and client count, the median the Locust users observed, its wire part "
            "(publish → the client's kernel received it) and the independent receiver's median. "
            "Above each group, the generator's share of the observed latency: time a message "
            "waited in the load generator for its client's turn.",
            lambda results: plot_wire_latency(results.summary).get_figure(root=True),
        ),
    ),
)
