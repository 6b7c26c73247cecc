"""Polling against its model, as the poll interval changes: empty answers, latency, requests.

Each panel draws the interval sweep's polling rows as points and the model of
:mod:`pushlab.bench.analysis.model` as black dashes over them, one group per load (clients,
publish rate, arrivals). Panel functions take ``ax=`` and return the Axes they drew.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from pushlab.bench.analysis import model
from pushlab.bench.analysis.shaping import polling_rows, transit_estimate_ms
from pushlab.bench.presentation.style import (
    INTERVAL_DASHES,
    MODEL_STYLE,
    classroom,
    draw_points,
    figure_and_axes_row,
    flag_legend_entries,
    legend,
    ms_text,
    panel_axes,
    scale_axis,
    sweep_rows,
)

__all__ = [
    "plot_empty_fraction_vs_interval",
    "plot_latency_vs_interval",
    "plot_polling_vs_interval",
    "plot_requests_per_message_vs_interval",
]

GROUP_MARKERS = ("o", "s", "^", "D", "v")
Model = Callable[[np.ndarray, pd.DataFrame], tuple[np.ndarray, str]]
"""(poll intervals, one group's rows) → (the model's curve, its legend text)."""


def _interval_groups(summary: pd.DataFrame, sweep: str | None) -> list[tuple[str, pd.DataFrame]]:
    """Polling rows of the interval sweep, one group per (clients, rate, arrivals)."""
    try:
        rows = polling_rows(sweep_rows(summary, sweep))
    except ValueError:
        rows = summary.iloc[0:0]
    if rows.empty:
        raise ValueError(f"no polling rows in the {sweep!r} sweep")
    groups = []
    for (clients, rate, arrivals), group in rows.groupby(["clients", "publish_rate", "arrivals"]):
        label = f"{clients:,.0f} clients, λ = {rate:g} msg/s, {arrivals} arrivals"
        groups.append((label, group.sort_values("poll_interval")))
    return groups


def _interval_panel(
    summary: pd.DataFrame,
    ax: Axes | None,
    sweep: str | None,
    column: str,
    predicted: Model,
    title: str,
    y_axis: tuple[str, str | None],
    y_log: bool,
) -> Axes:
    """Points of ``column`` per poll interval, and the model's curve for each group."""
    ax = panel_axes(ax)
    groups = _interval_groups(summary, sweep)
    for index, (label, rows) in enumerate(groups):
        intervals = rows["poll_interval"].to_numpy(dtype=float)
        grid = np.geomspace(intervals.min() / 1.5, intervals.max() * 1.5, 200)
        curve, model_label = predicted(grid, rows)
        model_style = {**MODEL_STYLE, "linestyle": INTERVAL_DASHES[1 + index % 3]}
        ax.plot(grid, curve, **model_style, label=f"model: {model_label}")
        draw_points(
            ax,
            rows,
            intervals,
            rows[column],
            technique=_one(rows, "technique"),
            point_marker=GROUP_MARKERS[index % len(GROUP_MARKERS)],
            linestyle="none",
            label=f"measured ({label})",
        )
    all_rows = pd.concat([rows for _, rows in groups])
    intervals = all_rows["poll_interval"]
    scale_axis(ax, "x", intervals, "poll interval T", "s", ticks_at_values=True, log=True)
    y_values = np.concatenate([line.get_ydata() for line in ax.get_lines()])
    scale_axis(ax, "y", y_values, *y_axis, log=y_log)
    ax.set_title(title)
    legend(ax, flag_legend_entries(all_rows), fontsize=11)
    return ax


def _one(rows: pd.DataFrame, column: str) -> Any:
    return rows[column].iloc[0]


@classroom
def plot_empty_fraction_vs_interval(
    summary: pd.DataFrame, ax: Axes | None = None, *, sweep: str | None = "interval"
) -> Axes:
    """Share of polls that came back empty vs poll interval, over ``e^(−λT)`` (or periodic)."""

    def predicted(grid: np.ndarray, rows: pd.DataFrame) -> tuple[np.ndarray, str]:
        arrivals = _one(rows, "arrivals")
        arrivals = arrivals if arrivals in ("poisson", "periodic") else "poisson"
        curve = model.polling_empty_fraction(_one(rows, "publish_rate"), grid, arrivals)
        return curve, r"$e^{-\lambda T}$" if arrivals == "poisson" else r"$\max(0, 1 - \lambda T)$"

    ax = _interval_panel(
        summary,
        ax,
        sweep,
        "empty_fraction",
        predicted,
        "Polls that came back empty",
        ("empty answers", "% of polls"),
        y_log=False,
    )
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return ax


@classroom
def plot_latency_vs_interval(
    summary: pd.DataFrame, ax: Axes | None = None, *, sweep: str | None = "interval"
) -> Axes:
    """Mean delivery latency of polling vs poll interval, over ``T/2 + transit``."""

    def predicted(grid: np.ndarray, rows: pd.DataFrame) -> tuple[np.ndarray, str]:
        clients, rate = _one(rows, "clients"), _one(rows, "publish_rate")
        transit_ms, source = transit_estimate_ms(summary, clients, rate)
        curve = 1000 * model.polling_mean_latency_s(grid, transit_ms / 1000)
        return curve, f"$T/2$ + transit\n(transit {ms_text(transit_ms)}: {source})"

    return _interval_panel(
        summary,
        ax,
        sweep,
        "latency_mean_ms",
        predicted,
        "Mean delivery latency of polling",
        ("mean delivery latency", "ms"),
        y_log=True,
    )


@classroom
def plot_requests_per_message_vs_interval(
    summary: pd.DataFrame, ax: Axes | None = None, *, sweep: str | None = "interval"
) -> Axes:
    """Polls per delivered message vs poll interval, over ``1/(λT)``."""

    def predicted(grid: np.ndarray, rows: pd.DataFrame) -> tuple[np.ndarray, str]:
        curve = model.polling_requests_per_message(_one(rows, "publish_rate"), grid)
        return curve, r"$1/(\lambda T)$"

    return _interval_panel(
        summary,
        ax,
        sweep,
        "requests_per_message",
        predicted,
        "Requests per delivered message",
        ("requests per delivered message", None),
        y_log=True,
    )


@classroom
def plot_polling_vs_interval(
    summary: pd.DataFrame, *, sweep: str | None = "interval", axes: Sequence[Axes] | None = None
) -> Figure:
    """Polling's three trade-offs vs poll interval, each with its model drawn over the points."""
    figure, panels = figure_and_axes_row(axes, 3, (24, 7.5))
    plot_empty_fraction_vs_interval(summary, panels[0], sweep=sweep)
    plot_latency_vs_interval(summary, panels[1], sweep=sweep)
    plot_requests_per_message_vs_interval(summary, panels[2], sweep=sweep)
    if axes is None:
        figure.suptitle(
            "Polling every T seconds: shorter T buys latency with empty requests "
            "(points measured, dashed lines the model)"
        )
    return figure
