"""The scale-out figure (issue 13): deliveries/s and CPU per message against server workers.

Each technique is a line over its Redis-feed rows (1, 2, 4 … workers); its memory-feed row at
one worker is a star beside the first point, so the gap between star and line is what the
backplane costs. Rows whose processes shared CPUs (``cores_short``) are drawn hollow: on a
machine with fewer cores than workers + a generator core, more workers cannot mean more CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pushlab.bench.presentation import columns
from pushlab.bench.presentation.style import (
    HOLLOW,
    classroom,
    colour,
    figure_and_axes_row,
    legend,
    marker,
    panel_axes,
    scale_axis,
    sweep_rows,
)
from pushlab.techniques import label

PANELS = ("deliveries_per_s", "cpu_us_per_message")


@classroom
def plot_vs_workers(summary: pd.DataFrame, column: str, ax: Axes | None = None) -> Axes:
    """``column`` per technique against the number of workers (the ``workers`` sweep)."""
    ax = panel_axes(ax)
    meta = columns.column(column)
    rows = sweep_rows(summary, "workers")
    scale_axis(ax, "x", rows["workers"], "server workers", ticks_at_values=True, log=False)
    scale_axis(ax, "y", rows[column], meta.label, meta.unit, log=False)
    for technique, of_technique in rows.groupby("technique", sort=False):
        line_colour, point = colour(str(technique)), marker(str(technique))
        redis = of_technique[of_technique["feed"] == "redis"].sort_values("workers")
        ax.plot(
            redis["workers"],
            redis[column],
            color=line_colour,
            marker=point,
            label=f"{label(str(technique))}, Redis feed",
        )
        short = redis[redis["cores_short"].astype(bool)]
        ax.plot(
            short["workers"],
            short[column],
            linestyle="none",
            marker=point,
            color=line_colour,
            **HOLLOW,
        )
        memory = of_technique[of_technique["feed"] == "memory"]
        ax.plot(
            memory["workers"],
            memory[column],
            linestyle="none",
            marker="*",
            markersize=16,
            color=line_colour,
            label=f"{label(str(technique))}, memory feed",
        )
    ax.set_ylim(bottom=0)
    ax.set_title(f"{meta.label[:1].upper()}{meta.label[1:]} vs server workers")
    extra = []
    if rows["cores_short"].astype(bool).any():
        extra.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                color="dimgray",
                label="hollow: workers and generator\nshared too few cores",
                **HOLLOW,
            )
        )
    legend(ax, extra)
    return ax


@classroom
def plot_scale_out(summary: pd.DataFrame, *, axes: Sequence[Axes] | None = None) -> Figure:
    """Deliveries/s and CPU µs per message against workers, side by side."""
    figure, panels = figure_and_axes_row(axes, 2, (18, 7))
    for column, ax in zip(PANELS, panels, strict=True):
        plot_vs_workers(summary, column, ax)
    if axes is None:
        rows = sweep_rows(summary, "workers")
        clients, rate = rows["clients"].iloc[0], rows["publish_rate"].iloc[0]
        figure.suptitle(f"Past one process: {clients:,} clients at {rate:g} msg/s")
    return figure
