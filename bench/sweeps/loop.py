"""The event-loop sweep: the same server on asyncio's own loop and on uvloop, side by side.

uvloop puts libuv under asyncio's API; uvicorn picks it by default when it is installed, so
the uvicorn peers run on it. This sweep runs each technique of the run (and the peers of
``--loop-peers``) at the base clients and rate once per loop (``--loops``, default
asyncio,uvloop; the server's ``--loop``), so that what the loop alone is worth is read in one
run, at one load, against one seed. Both rows carry the loop in their id
(``websocket-c1000-r20-uvloop``): the asyncio row is measured again here, not borrowed from
another sweep, and the difference between it and the clients sweep's row of the same server
is the run's own noise.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from pushlab.bench.analysis.results import Results
from pushlab.bench.core import columns as c
from pushlab.bench.core.columns import plain_number
from pushlab.bench.core.scenario import MatrixSettings, Part, Scenario, at_base
from pushlab.bench.core.sweep import Sweep
from pushlab.bench.measuring.arguments import name_list
from pushlab.peers import node_peers
from pushlab.servers.loops import DEFAULT_LOOP, LOOPS
from pushlab.techniques import PEER_NAMES, label

NAME = "loop"


LOOP_PEERS = tuple(name for name in PEER_NAMES if name not in node_peers.SCRIPTS)
"""The peers that run on a loop of our choosing (the Python ones; uvicorn's default to uvloop)."""


@dataclass(frozen=True)
class LoopSettings:
    loops: tuple[str, ...] = LOOPS
    peers: tuple[str, ...] = ()  # peers measured on each loop too (--loop-peers)


@dataclass(frozen=True)
class EventLoop(Part):
    """The server runs on this event loop (``--loop``)."""

    loop: str = DEFAULT_LOOP

    def id_suffix(self) -> str:
        return f"-{self.loop}"

    def words(self) -> str:
        return f", on the {self.loop} event loop"

    def server_args(self) -> list[str]:
        return ["--loop", self.loop]

    def columns(self, reduced: Any) -> dict[str, Any]:
        return {"loop": self.loop}


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--loops",
        type=name_list(LOOPS),
        help=f"event loops for --sweeps loop (default {','.join(LOOPS)})",
    )
    group.add_argument(
        "--loop-peers",
        type=name_list(LOOP_PEERS),
        help="peers the loop sweep runs on each loop too, e.g. picows (default none)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    given = {"loops": args.loops, "peers": args.loop_peers}
    return {name: value for name, value in given.items() if value}


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    own: LoopSettings = settings.of(NAME)
    return [
        replace(at_base(settings, name), parts=(EventLoop(loop),))
        for name in (*settings.techniques, *own.peers)
        for loop in own.loops
    ]


def per_loop(rows: pd.DataFrame, technique: str) -> dict[str, pd.Series]:
    return {row["loop"]: row for _, row in rows[rows["technique"] == technique].iterrows()}


def loop_finding(results: Results) -> str | None:
    """Each technique on uvloop against asyncio's loop: CPU per message, p50, p99, RSS/client."""
    rows = results.sweep(NAME)
    sentences = []
    for technique in dict.fromkeys(rows["technique"]):
        loops = per_loop(rows, technique)
        if "asyncio" not in loops or "uvloop" not in loops:
            continue
        a, u = loops["uvloop"], loops["asyncio"]

        def both(column: str, unit: str, a: pd.Series = a, u: pd.Series = u) -> str:
            return f"{plain_number(a[column])} vs {plain_number(u[column])} {unit}"

        cpu_ratio = a["cpu_us_per_message"] / u["cpu_us_per_message"]
        sentences.append(
            f"{label(technique)} on uvloop vs asyncio's loop ({a['clients']:,} clients at "
            f"{a['publish_rate']:g} msg/s): CPU per delivered message "
            f"{both('cpu_us_per_message', 'µs')} ({cpu_ratio:.2f}×); latency p50 "
            f"{both('latency_p50_ms', 'ms')}, p99 {both('latency_p99_ms', 'ms')}; RSS per "
            f"client {both('rss_kb_per_client', 'KB')}."
        )
    return " ".join(sentences) or None


SWEEP = Sweep(
    name=NAME,
    title="Event-loop sweep: asyncio's own loop and uvloop, same server, same load",
    scenarios=scenarios,
    settings=LoopSettings(),
    options=options,
    from_options=from_options,
    columns=(c.text("loop", "loop", "loop sweep: the server's event loop (asyncio or uvloop)"),),
    table=(
        "loop",
        "clients",
        "publish_rate",
        "latency_p50_ms",
        "latency_p99_ms",
        "server_fanout_ms",
        "bytes_per_message",
        "server_cpu_percent",
        "cpu_us_per_message",
        "rss_mb",
        "rss_kb_per_client",
    ),
    table_order=("loop", "clients"),
    findings=(loop_finding,),
)
