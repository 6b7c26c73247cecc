"""Figures of a sweep: one metric of ``summary.csv`` against the clients, or the publish rate.

:func:`plot_vs_clients` draws any column against the clients sweep; its axis label and unit
come from the column's metadata (:mod:`pushlab.bench.analysis.row`), so a new column is a new
figure without new code. The named figures below are the two-panel ones the report shows.
Panel functions take ``ax=`` and return the Axes they drew; figures return the Figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pushlab.bench.analysis.shaping import recorded_hold_s, requests_per_message_model, series
from pushlab.bench.presentation import columns
from pushlab.bench.presentation.style import (
    classroom,
    coinciding,
    colour,
    dashes,
    draw_points,
    figure_and_axes_row,
    flag_legend_entries,
    legend,
    log_floor,
    note_entry,
    panel_axes,
    rows_at_rate,
    scale_axis,
    sweep_rows,
    zero_legend_entry,
)
from pushlab.techniques import TECHNIQUES

__all__ = [
    "plot_cpu",
    "plot_latency_vs_rate",
    "plot_memory",
    "plot_rate_sweep",
    "plot_requests_per_message_vs_rate",
    "plot_traffic",
    "plot_vs_clients",
]


@classroom
def plot_vs_clients(
    summary: pd.DataFrame,
    column: str,
    ax: Axes | None = None,
    *,
    publish_rate: float | None = None,
    sweep: str | None = "clients",
    title: str | None = None,
) -> Axes:
    """``column`` per technique as clients grow, at one publish rate (1 msg/s by default).

    Log axes when the values span decades; zeros on a log axis drawn at its floor; flagged rows
    hollow. ``column`` is a summary column or one of :data:`columns.DERIVED`.
    """
    ax = panel_axes(ax)
    meta = columns.column(column)
    rows, rate = rows_at_rate(summary, sweep, publish_rate)
    metric = columns.values(rows, column)
    scale_axis(ax, "x", rows["clients"], "clients", ticks_at_values=True)
    y_log = scale_axis(ax, "y", metric, meta.label, meta.unit)
    y_floor = log_floor(metric, y_log)
    lines = list(series(rows, x="clients"))
    values = {line.label: np.asarray(columns.values(line.rows, column), float) for line in lines}
    on_top = coinciding(values)
    for line in lines:
        under = on_top.get(line.label)
        draw_points(
            ax,
            line.rows,
            line.rows["clients"],
            values[line.label],
            technique=line.technique,
            linestyle=":" if under else dashes(line.poll_interval, rows),
            label=f"{line.label} (on {under}'s line)" if under else line.label,
            y_floor=y_floor,
        )
    if not y_log:
        ax.set_ylim(bottom=0)
    heading = title or f"{meta.label[:1].upper()}{meta.label[1:]} vs clients"
    ax.set_title(f"{heading}\n({rate:g} msg/s)")
    extra = flag_legend_entries(rows) + ([zero_legend_entry()] if y_floor is not None else [])
    legend(ax, extra)
    return ax


def _two_panels(
    summary: pd.DataFrame,
    panel_columns: tuple[str, str],
    suptitle: str,
    publish_rate: float | None,
    axes: Sequence[Axes] | None,
) -> Figure:
    figure, panels = figure_and_axes_row(axes, 2, (18, 7))
    for column, ax in zip(panel_columns, panels, strict=True):
        plot_vs_clients(summary, column, ax, publish_rate=publish_rate)
    if axes is None:
        figure.suptitle(suptitle)
    return figure


@classroom
def plot_traffic(
    summary: pd.DataFrame, *, publish_rate: float | None = None, axes: Sequence[Axes] | None = None
) -> Figure:
    """Requests/s and bytes/s vs clients, side by side: polling's cost grows with its clients."""
    return _two_panels(
        summary,
        ("requests_per_s", "traffic_kb_per_s"),
        "What each technique asks of the network as clients grow",
        publish_rate,
        axes,
    )


@classroom
def plot_cpu(
    summary: pd.DataFrame, *, publish_rate: float | None = None, axes: Sequence[Axes] | None = None
) -> Figure:
    """Server CPU vs clients and CPU per delivered message, side by side."""
    return _two_panels(
        summary,
        ("server_cpu_percent", "cpu_us_per_message"),
        "What each technique costs the server's CPU",
        publish_rate,
        axes,
    )


@classroom
def plot_memory(
    summary: pd.DataFrame, *, publish_rate: float | None = None, axes: Sequence[Axes] | None = None
) -> Figure:
    """Server RSS vs clients and memory per connected client, side by side."""
    return _two_panels(
        summary,
        ("rss_mb", "rss_kb_per_client"),
        "What each technique costs the server's memory",
        publish_rate,
        axes,
    )


# --- Rate sweep -----------------------------------------------------------------------------


def _rate_axes(ax: Axes, rows: pd.DataFrame, y: pd.Series, name: str, unit: str | None) -> None:
    scale_axis(ax, "x", rows["publish_rate"], "publish rate λ", "msg/s", ticks_at_values=True)
    scale_axis(ax, "y", y, name, unit, log=True)


def _draw_model(ax: Axes, summary: pd.DataFrame, line_rows: pd.DataFrame, technique: str) -> bool:
    """The line's requests-per-message model as a dashed curve; False if it cannot be drawn."""
    rates = line_rows["publish_rate"].to_numpy(dtype=float)
    grid = np.geomspace(rates.min(), rates.max(), 200)
    curve = requests_per_message_model(summary, line_rows.iloc[0], grid)
    if curve is None:
        return False
    ax.plot(grid, curve, color=colour(technique), linestyle="--", linewidth=1.6, alpha=0.9)
    return True


@classroom
def plot_requests_per_message_vs_rate(
    summary: pd.DataFrame, ax: Axes | None = None, *, sweep: str | None = "rate"
) -> Axes:
    """Requests per delivered message vs publish rate, each technique over its model.

    Polling: ``1/(λT)``. Long polling: ≈ 1, more at low rates (timeouts), fewer at high rates
    (batching) — ``1/(λg + e^(−λg)(1 − e^(−λτ)))`` with ``g`` two transits and ``τ`` the hold
    the run recorded (no curve, and a note, if it recorded none). WebSocket and SSE make no
    requests once connected: the bench measures after the handshakes, so their zeros sit at the
    floor of the log axis.
    """
    ax = panel_axes(ax, (12, 7.5))
    rows = sweep_rows(summary, sweep)
    values = rows["requests_per_message"]
    _rate_axes(ax, rows, values, "requests per delivered message", None)
    y_floor = log_floor(values, log=True)
    notes = []
    for line in series(rows, x="publish_rate"):
        drawn = _draw_model(ax, summary, line.rows, line.technique)
        entry = TECHNIQUES.get(line.technique)
        if not drawn and entry is not None and not entry.pushes:
            hold = recorded_hold_s(line.rows.iloc[0])
            why = "the run recorded no long-poll hold" if hold is None else "no model"
            notes.append(note_entry(f"{line.label}: model not drawn ({why})"))
        draw_points(
            ax,
            line.rows,
            line.rows["publish_rate"],
            line.rows["requests_per_message"],
            technique=line.technique,
            linestyle="none",
            label=line.label,
            y_floor=y_floor,
        )
    ax.axhline(1.0, color="gray", linewidth=1.0)
    clients = ", ".join(f"{c:,.0f}" for c in sorted(rows["clients"].unique()))
    ax.set_title(
        f"Requests per delivered message vs publish rate\n({clients} clients; dashed: model)"
    )
    extra = [Line2D([], [], color="dimgray", linestyle="--", linewidth=1.6, label="model")]
    extra += flag_legend_entries(rows) + ([zero_legend_entry()] if y_floor is not None else [])
    legend(ax, extra + notes, fontsize=11)
    return ax


@classroom
def plot_latency_vs_rate(
    summary: pd.DataFrame, ax: Axes | None = None, *, sweep: str | None = "rate"
) -> Axes:
    """Median and p99 delivery latency vs publish rate, per technique."""
    ax = panel_axes(ax, (12, 7.5))
    rows = sweep_rows(summary, sweep)
    latencies = pd.concat([rows["latency_p50_ms"], rows["latency_p99_ms"]])
    _rate_axes(ax, rows, latencies, "delivery latency", "ms")
    for line in series(rows, x="publish_rate"):
        line_dashes = dashes(line.poll_interval, rows)
        draw_points(
            ax,
            line.rows,
            line.rows["publish_rate"],
            line.rows["latency_p50_ms"],
            technique=line.technique,
            linestyle=line_dashes,
            label=f"{line.label} (p50)",
        )
        ax.plot(
            line.rows["publish_rate"],
            line.rows["latency_p99_ms"],
            color=colour(line.technique),
            linestyle=line_dashes,
            linewidth=1.6,
            marker="x",
        )
    ax.set_title("Delivery latency vs publish rate\n(circles and thick: median; crosses: p99)")
    p99 = Line2D([], [], color="grey", linewidth=1.6, marker="x", label="p99 (same colours)")
    legend(ax, [p99, *flag_legend_entries(rows)], fontsize=11)
    return ax


@classroom
def plot_rate_sweep(
    summary: pd.DataFrame, *, sweep: str | None = "rate", axes: Sequence[Axes] | None = None
) -> Figure:
    """Requests per message and latency vs publish rate, side by side."""
    figure, (left, right) = figure_and_axes_row(axes, 2, (20, 7.5))
    plot_requests_per_message_vs_rate(summary, left, sweep=sweep)
    plot_latency_vs_rate(summary, right, sweep=sweep)
    if axes is None:
        figure.suptitle("As the publish rate grows: who batches, who pays per message")
    return figure
