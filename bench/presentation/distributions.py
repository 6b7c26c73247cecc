"""The distribution of delivery latency: every message to every client, one CDF per line.

Drawn from the run's per-scenario latency files (``latency/<scenario>.npz``), not from the
summary's percentiles, so the whole shape shows: a ramp for polling, a step for push.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.shaping import Series, flagged, largest_common_clients, series
from pushlab.bench.presentation.style import (
    classroom,
    colour,
    dashes,
    legend,
    ms_text,
    panel_axes,
    rows_at_rate,
    scale_axis,
)

__all__ = ["plot_latency_cdf"]


def cdf_points(sorted_values: np.ndarray, max_points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF, thinned to ``max_points`` quantiles (a million steps draw no better)."""
    clipped = np.maximum(sorted_values, 1e-3)  # log axis: nothing below 1 µs
    fractions = np.arange(1, clipped.size + 1) / clipped.size
    if clipped.size <= max_points:
        return clipped, fractions
    keep = np.linspace(0, clipped.size - 1, max_points).astype(int)
    return clipped[keep], fractions[keep]


def _draw_line(ax: Axes, results: Results, line: Series, linestyle: str) -> None:
    """One step line per scenario of the series (dotted, with ⚠, for a flagged row)."""
    for index, row in enumerate(line.rows.itertuples()):
        if not results.has_latency(row.scenario):
            continue
        latency = np.sort(results.latency_ms(row.scenario))
        if latency.size == 0:
            continue
        p50, p99 = np.quantile(latency, [0.5, 0.99])
        is_flagged = bool(flagged(line.rows).iloc[index])
        label = f"{line.label}: p50 {ms_text(p50)}, p99 {ms_text(p99)}" + (" ⚠" * is_flagged)
        x, y = cdf_points(latency)
        style = ":" if is_flagged else linestyle
        ax.step(x, y, where="post", color=colour(line.technique), linestyle=style, label=label)


@classroom
def plot_latency_cdf(
    results: Results,
    ax: Axes | None = None,
    *,
    clients: float | None = None,
    publish_rate: float | None = None,
    sweep: str | None = "clients",
) -> Axes:
    """The distribution of delivery latency per technique, as a CDF on a log time axis.

    A CDF shows the whole distribution — median, tail and worst case — in one line per
    technique: read across at 0.5 for the median, at 0.99 for the p99. Polling's line is a
    straight ramp over one poll interval (uniform wait); pushed techniques rise at once.
    By default it shows the largest client count every technique was measured at.
    """
    ax = panel_axes(ax, (12, 7))
    rows, rate = rows_at_rate(results.summary, sweep, publish_rate)
    clients = largest_common_clients(rows) if clients is None else clients
    rows = rows[rows["clients"] == clients]
    if rows.empty:
        raise ValueError(f"no rows at {clients:g} clients")
    for line in series(rows):
        _draw_line(ax, results, line, dashes(line.poll_interval, rows))
    x_values = [line.get_xdata() for line in ax.get_lines()]
    latencies = np.concatenate(x_values) if x_values else np.array([1.0, 1000.0])
    scale_axis(ax, "x", latencies, "delivery latency, publish → client", "ms", log=True)
    ax.set_ylabel("fraction of deliveries within that latency")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.01)
    ax.set_title(f"Delivery latency per technique (CDF)\n({clients:,.0f} clients, {rate:g} msg/s)")
    extra = []
    if flagged(rows).any():
        extra.append(Line2D([], [], color="dimgray", linestyle=":", label="⚠ dotted: flagged row"))
    legend(ax, extra)
    return ax
