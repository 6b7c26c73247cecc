"""The saturation sweep (``--sweeps saturation``): what does a "nothing new" cost?

Issue 15 asks that a poll answer with nothing new be cheap, measured against a bare aiohttp
handler that returns a constant (the ``baseline-polling`` peer): pushlab's polling server should
reach at least 90% of its requests per second at the same concurrency. So, at each client count
of ``saturation_clients`` (100 and 1,000 by default), every polling server of the run and that
peer are measured with the same clients in a closed loop: poll interval 0
(``pushlab.techniques.CLOSED_LOOP_S``, each client asks again the moment its answer arrives)
and publish rate 0, so every answer is "nothing new". The achieved rate is the row's
``requests_per_s``; a closed loop asks for no rate of its own, so the row has no target. It is
flagged ``generator_saturated`` when the load generator's CPU was near a full core, or when the
server's was not (in a closed loop every request is at the server or at the clients: a server
with CPU to spare was waiting for them). Then the rate is what Locust could ask, not what the
server could answer: ``peer_findings`` says so beside the ratio, and gives each server's
answers per second of its own CPU, which compare the servers whoever set the pace.

The sweep runs on the memory feed and one server process: the peer has no other feed.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from pushlab.bench.analysis.peer_findings import empty_answer_finding
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.bench.core.sweep import Sweep
from pushlab.bench.measuring.arguments import MAX_CLIENTS, number_list
from pushlab.techniques import CLOSED_LOOP_S, PEERS, behaviour

NAME = "saturation"
REFERENCE = "baseline-polling"
"""The peer every polling server of the sweep is held against."""
NOTHING_PUBLISHED = 0.0


@dataclass(frozen=True)
class SaturationSettings:
    clients: tuple[int, ...] = (100, 1000)


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--saturation-clients",
        type=number_list(int, 1, MAX_CLIENTS),
        help="client counts of the saturation sweep: polling and baseline-polling in a closed "
        "loop, nothing published (default 100,1000; --quick 40)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"clients": args.saturation_clients} if args.saturation_clients else {}


def saturation_servers(settings: MatrixSettings) -> tuple[str, ...]:
    """The run's polling servers (techniques, then delivering peers), then the reference;
    nothing when the run has no polling server to compare with it."""
    polling = tuple(
        name
        for name in (*settings.techniques, *settings.peers)
        if behaviour(name).polls and (name not in PEERS or PEERS[name].delivers)
    )
    return (*polling, REFERENCE) if polling else ()


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    """Client count by client count, so that the two servers of a pair are measured one after
    the other."""
    own: SaturationSettings = settings.of(NAME)
    servers = saturation_servers(settings)
    return [
        scenario(settings, name, clients, NOTHING_PUBLISHED, CLOSED_LOOP_S)
        for clients in sorted(set(own.clients))
        for name in servers
    ]


SWEEP = Sweep(
    name=NAME,
    title="Saturation sweep: empty poll answers in a closed loop, nothing published",
    scenarios=scenarios,
    settings=SaturationSettings(),
    quick={"clients": (40,)},
    options=options,
    from_options=from_options,
    table=(
        "clients",
        "requests_per_s",
        "empty_fraction",
        "traffic_kb_per_s",
        "server_cpu_percent",
        "generator_cpu_percent",
        "tcp_connections_opened",
        "rss_mb",
    ),
    table_order=("clients", "publish_rate"),
    findings=(empty_answer_finding,),
)
