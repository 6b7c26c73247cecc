"""The report's figures: each one's file name, heading, caption and drawing function, in order.

The run-wide figures are here (:data:`FIRST`, :data:`LAST`); each sweep's own figures are in
its plug-in (``Sweep.figures``) and come between them, in registry order. :func:`write_plots`
draws every figure a run has data for and says why it skipped the others.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pushlab.bench.analysis.results import Results
from pushlab.bench.core.sweep import FigureSpec, registered
from pushlab.bench.presentation import distributions, peers, timeline

FIRST: tuple[FigureSpec, ...] = (
    FigureSpec(
        "latency_cdf",
        "Delivery latency",
        "Each line is the distribution of publish → client latency. Pushed messages (WebSocket, "
        "SSE) and long polls arrive within a few transits; polling's line is a ramp across one "
        "poll interval, because a message waits for the next poll.",
        lambda results: distributions.plot_latency_cdf(results).figure,
    ),
)
LAST: tuple[FigureSpec, ...] = (
    FigureSpec(
        "timeline",
        "A few real seconds of each technique",
        "A sequence diagram drawn from the recorded trace: requests up, answers and pushes down, "
        "publishes as stars, empty answers dashed.",
        lambda results: timeline.plot_timeline(results.trace),
    ),
    FigureSpec(
        "peers",
        "pushlab and its peers",
        "Every server at the load most of them were measured at: pushlab's four in their "
        "colours, the peers (`pushlab.techniques.PEERS`) in grey. CPU is server CPU time per "
        "delivered message.",
        lambda results: peers.plot_peer_comparison(results.summary),
    ),
)


def all_figures() -> tuple[FigureSpec, ...]:
    """Every figure of the report, in order."""
    return (*FIRST, *(spec for sweep in registered() for spec in sweep.figures), *LAST)


@dataclass(frozen=True)
class DrawnFigure:
    spec: FigureSpec
    path: Path | None  # None when the run has no data for it
    reason: str = ""


def write_plots(results: Results, plots_dir: Path) -> list[DrawnFigure]:
    """Save every figure the run has data for as ``plots_dir/<name>.png``.

    A figure whose sweep is missing (a quick run may skip one) is reported, not drawn; any
    other error is a bug and propagates. The figures are drawn two at a time where two CPUs
    are free: the report comes after the run (whose harness gives up its pinning to one CPU
    first), and matplotlib's drawing is most of its time. Each drawing process is a fork that
    already holds ``results`` (and the model lines the findings cached), so nothing is copied
    to it or computed twice.
    """
    plots_dir.mkdir(parents=True, exist_ok=True)
    specs = all_figures()
    processes = min(len(specs), len(os.sched_getaffinity(0)), DRAWING_PROCESSES)
    if processes < 2:
        return [DrawnFigure(spec, *_draw(results, spec, plots_dir)) for spec in specs]
    global _FORKED_RESULTS
    _FORKED_RESULTS = results
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
            outcomes = list(pool.map(_draw_in_fork, range(len(specs)), [plots_dir] * len(specs)))
    finally:
        _FORKED_RESULTS = None
    return [DrawnFigure(spec, *outcome) for spec, outcome in zip(specs, outcomes, strict=True)]


DRAWING_PROCESSES = 2
"""At most this many: the figures' processes fork from a process that may hold a lot (a run's
results), and beyond two the longest figure sets the time anyway."""

_FORKED_RESULTS: Results | None = None
"""The run the drawing processes inherit when they are forked (see :func:`write_plots`)."""


def _draw_in_fork(index: int, plots_dir: Path) -> tuple[Path | None, str]:
    assert _FORKED_RESULTS is not None, "only write_plots' forked processes draw here"
    return _draw(_FORKED_RESULTS, all_figures()[index], plots_dir)


def _draw(results: Results, spec: FigureSpec, plots_dir: Path) -> tuple[Path | None, str]:
    try:
        figure = spec.draw(results)
    except ValueError as missing:
        return None, str(missing)
    path = plots_dir / f"{spec.name}.png"
    figure.savefig(path)
    return path, ""
