"""The workers sweep: more server processes on one Redis feed — what does scaling out cost?

Every technique at the base clients and rate, on 1…N workers (``--workers``, default 1,2,4)
sharing a Redis feed and a port (``SO_REUSEPORT``), and on the memory feed at one worker: the
step from one to the other is what the Redis backplane costs. A run whose workers and
generator need more CPUs than the machine has says so in the ``cores_short`` column.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from pushlab.bench.core.scenario import MatrixSettings, Scenario, at_base
from pushlab.bench.core.sweep import FigureSpec, Sweep
from pushlab.bench.measuring.arguments import number_list
from pushlab.bench.presentation import scale_out as figures

NAME = "workers"
MAX_WORKERS = 64


@dataclass(frozen=True)
class WorkerSettings:
    workers: tuple[int, ...] = (1, 2, 4)


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--workers",
        type=number_list(int, 1, MAX_WORKERS),
        help="server processes for --sweeps workers (default 1,2,4)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"workers": args.workers} if args.workers else {}


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    own: WorkerSettings = settings.of(NAME)
    rows = []
    for technique in settings.techniques:
        base = at_base(settings, technique)
        rows.append(replace(base, feed="memory", workers=1))
        rows += [replace(base, feed="redis", workers=n) for n in sorted(set(own.workers))]
    return rows


SWEEP = Sweep(
    name=NAME,
    title="Workers sweep: more server processes on one Redis feed (and memory at one)",
    scenarios=scenarios,
    settings=WorkerSettings(),
    options=options,
    from_options=from_options,
    in_full=False,
    table_order=("workers", "feed"),
    figures=(
        FigureSpec(
            "scale_out",
            "Past one process: server workers on a Redis feed",
            "Left, deliveries per second; right, server CPU per delivered message (summed over "
            "the workers; Redis's own CPU is not in it). Stars: the memory feed at one worker, "
            "so the step from star to line is what the Redis backplane costs. Hollow: the "
            "workers and the generator shared too few cores.",
            lambda results: figures.plot_scale_out(results.summary),
        ),
    ),
)
