"""The capacity search: how much can a push server deliver before it falls behind?

For each push server of the run (pushlab's and every push peer asked for), at a fixed client
count, the publish rate climbs a ladder (``measuring/capacity.py``: when a step *holds*); the
search stops at the first step that does not, or where the generator may have been the limit.
Adaptive: it measures its steps one by one, after the matrix, rather than adding scenarios.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pushlab.bench.analysis.peer_findings import capacity_finding
from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import MatrixSettings, Scenario
from pushlab.bench.core.sweep import FigureSpec, Sweep
from pushlab.bench.measuring import capacity
from pushlab.bench.presentation import peers as figures

NAME = "capacity"


@dataclass(frozen=True)
class CapacitySettings:
    clients: int = 1000
    rates: tuple[float, ...] = (5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)


def search(settings: MatrixSettings, measure: Callable[[Scenario], Any]) -> dict[str, Any]:
    own: CapacitySettings = settings.of(NAME)
    print(f"Capacity search at {own.clients:,} clients …", flush=True)
    return capacity.search(settings, own.clients, own.rates, measure, NAME)


SWEEP = Sweep(
    name=NAME,
    title="Fan-out capacity: the publish rate climbs until a push server falls behind",
    search=search,
    settings=CapacitySettings(),
    quick={"clients": 40, "rates": (10.0, 40.0)},
    in_full=False,
    measures_floor=True,
    columns=(
        c.flag(
            "sustained",
            "sustained",
            "capacity search: deliveries reached 98% of what was published to the clients and "
            "p99 stayed ≤ 500 ms (the wire's, publish → the client's kernel, where every "
            "delivery was kernel-stamped)",
        ),
    ),
    table_order=("clients", "publish_rate"),
    findings=(capacity_finding,),
    figures=(
        FigureSpec(
            "capacity",
            "Fan-out capacity",
            "The capacity search raises the publish rate at a fixed client count; a filled point "
            "is a step that held (≥ 98% of what was published delivered, p99 ≤ 500 ms on the "
            "wire where the deliveries were kernel-stamped).",
            lambda results: figures.plot_capacity(results.summary),
        ),
    ),
)
