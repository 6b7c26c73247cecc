"""The network sweep's figure: measured latency against RTT, and against the publish rate at one
RTT, with the model of ``bench/analysis/model.py`` drawn over the points (issue 12).

Points are measured means (hollow where the row is flagged); dashed lines are
:func:`model.network_mean_latency_s` evaluated with the rows' own poll interval and hold, for
Poisson arrivals and a client that re-asks at once. Long polling's line rises from one transit
towards two as the rate grows — the RFC 6202 §2.2 claim, drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pushlab.bench.analysis import model
from pushlab.bench.analysis.shaping import series
from pushlab.bench.presentation.style import (
    classroom,
    coinciding,
    colour,
    draw_points,
    figure_and_axes_row,
    flag_legend_entries,
    legend,
    note_entry,
)

FLOOR_MS = 0.1
"""The model's zero (a push at RTT 0) is drawn here: a log axis has no zero."""

__all__ = ["plot_latency_vs_rate_at_rtt", "plot_latency_vs_rtt", "plot_network"]


def _network(summary: pd.DataFrame) -> pd.DataFrame:
    rows = summary[summary["sweep"] == "network"].drop_duplicates("scenario")
    if rows.empty:
        raise ValueError("the run has no network sweep")
    return rows


def _model_ms(row: pd.Series, rtt_s: np.ndarray | float, rate: np.ndarray | float) -> np.ndarray:
    hold_s, interval_s = row["hold_s"], row["poll_interval"]
    mean_s = model.network_mean_latency_s(
        row["technique"],
        rtt_s,
        publish_rate=rate,
        poll_interval_s=1.0 if pd.isna(interval_s) else interval_s,
        hold_timeout_s=np.inf if pd.isna(hold_s) else hold_s,
    )
    shape = np.shape(rtt_s) or np.shape(rate)
    return np.broadcast_to(np.maximum(np.asarray(mean_s) * 1000, FLOOR_MS), shape)


def _latency_axis(ax: Axes) -> None:
    """Log scale: polling's half-interval and a push's fraction of a round trip on one axis."""
    ax.set_yscale("log")
    ax.set_ylabel("mean delivery latency (ms, log scale)")


def plot_latency_vs_rtt(summary: pd.DataFrame, ax: Axes) -> Axes:
    """Mean latency per technique as the RTT grows, at the sweep's commonest publish rate."""
    rows = _network(summary)
    rate = rows["publish_rate"].mode().iloc[0]
    rows = rows[np.isclose(rows["publish_rate"], rate)]
    grid_ms = np.linspace(0, max(rows["rtt_ms"].max(), 1.0), 60)
    lines = list(series(rows, x="rtt_ms"))
    on_top = coinciding({line.label: line.rows["latency_mean_ms"].to_numpy() for line in lines})
    for line in lines:
        under = on_top.get(line.label)
        label = f"{line.label} (on {under}'s point)" if under else line.label
        kwargs = {"technique": line.technique, "linestyle": ":" if under else "-", "label": label}
        draw_points(ax, line.rows, line.rows["rtt_ms"], line.rows["latency_mean_ms"], **kwargs)
        modelled = _model_ms(line.rows.iloc[0], grid_ms / 1000, rate)
        ax.plot(grid_ms, modelled, color=colour(line.technique), linestyle="--", linewidth=1.2)
    ax.set_xlabel("round-trip time added by the emulator (ms)")
    _latency_axis(ax)
    # The model reaches 0 at RTT 0 (a push over no network): a log axis would dive after it.
    ax.set_ylim(bottom=0.5 * float(rows["latency_mean_ms"][rows["latency_mean_ms"] > 0].min()))
    ax.set_title(f"Latency against RTT at {rate:g} msg/s\n(points: measured; dashed: model)")
    legend(ax, flag_legend_entries(rows), fontsize=11)
    return ax


def plot_latency_vs_rate_at_rtt(summary: pd.DataFrame, ax: Axes) -> Axes:
    """Mean latency per technique as the publish rate grows, at the RTT with the most rates."""
    rows = _network(summary)
    rates_per_rtt = rows.groupby("rtt_ms")["publish_rate"].nunique()
    rtt_ms = rates_per_rtt.idxmax()
    if rates_per_rtt.max() < 2:
        ax.set_axis_off()
        legend(ax, [note_entry("one publish rate only: run with --rates-at-rtt (or --full)")])
        return ax
    rows = rows[rows["rtt_ms"] == rtt_ms]
    grid = np.geomspace(rows["publish_rate"].min(), rows["publish_rate"].max(), 60)
    for line in series(rows, x="publish_rate"):
        kwargs = {"technique": line.technique, "linestyle": "-", "label": line.label}
        rates = line.rows["publish_rate"]
        draw_points(ax, line.rows, rates, line.rows["latency_mean_ms"], **kwargs)
        modelled = _model_ms(line.rows.iloc[0], rtt_ms / 1000, grid)
        ax.plot(grid, modelled, color=colour(line.technique), linestyle="--", linewidth=1.2)
    ax.set_xscale("log")
    ax.set_xlabel("publish rate (msg/s)")
    _latency_axis(ax)
    ax.set_title(
        f"Latency against publish rate at {rtt_ms:g} ms RTT\n(long polling: 1 → 2 transits)"
    )
    legend(ax, flag_legend_entries(rows), fontsize=11)
    return ax


def several_rates(summary: pd.DataFrame) -> bool:
    """Does the network sweep hold more than one publish rate at some RTT?"""
    rows = _network(summary)
    return bool(rows.groupby("rtt_ms")["publish_rate"].nunique().max() >= 2)


@classroom
def plot_network(summary: pd.DataFrame, *, axes: Sequence[Axes] | None = None) -> Figure:
    """Latency against RTT, and beside it against the publish rate where the run measured
    several rates at one RTT (``--rates-at-rtt``, ``--full``); else the one panel, wide."""
    both = several_rates(summary) or axes is not None
    figure, panels = figure_and_axes_row(axes, 2 if both else 1, (20, 7.5) if both else (14, 7.5))
    plot_latency_vs_rtt(summary, panels[0])
    if both:
        plot_latency_vs_rate_at_rtt(summary, panels[1])
    if axes is None:
        figure.suptitle("Through an emulated network: the transits each technique needs")
    return figure
