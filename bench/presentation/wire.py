"""The receiver sweep's figure: where the latency the bench observed comes from.

Per technique and client count, three medians on one log axis: what the Locust users observed,
its wire part (publish → the client's kernel), and the independent receiver's; the gap between
the first two is the generator's own delay, its share written beside the bar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from pushlab.bench.analysis.shaping import in_table_order, row_label
from pushlab.bench.presentation.style import classroom, colour, panel_axes, scale_axis

__all__ = ["plot_wire_latency"]

BARS = (
    ("latency_p50_ms", "observed by the Locust users", 1.0),
    ("wire_latency_p50_ms", "on the wire (kernel receive time)", 0.6),
    ("receiver_latency_p50_ms", "independent receiver", 0.3),
)
"""Column, legend, opacity: the three medians of a row, in the order they are drawn."""


@classroom
def plot_wire_latency(
    summary: pd.DataFrame, ax: Axes | None = None, *, sweep: str | None = "receiver"
) -> Axes:
    """Observed, wire and receiver p50 per row, with the generator's share above each group."""
    ax = panel_axes(ax, (12, 7))
    rows = summary if sweep is None else summary[summary["sweep"] == sweep]
    rows = in_table_order(rows[rows["wire_latency_p50_ms"].notna()], "clients")
    if rows.empty:
        raise ValueError("no row with wire latency")
    positions = np.arange(len(rows))
    width = 0.8 / len(BARS)
    values = pd.concat([rows[name] for name, _, _ in BARS if name in rows])
    scale_axis(ax, "y", values[values > 0], "median latency, publish →", "ms", log=True)
    for index, (name, words, alpha) in enumerate(BARS):
        if name not in rows:
            continue
        ax.bar(
            positions + (index - 1) * width,
            rows[name],
            width,
            color=[colour(t) for t in rows["technique"]],
            alpha=alpha,
            label=words,
        )
    for position, (_, row) in zip(positions, rows.iterrows(), strict=True):
        ax.annotate(
            f"generator {row['generator_share']:.0%}",
            (position - width, row["latency_p50_ms"]),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=10,
        )
    ax.set_xticks(
        positions, [f"{row_label(r)}\n{r['clients']:,} clients" for _, r in rows.iterrows()]
    )
    ax.set_title("Where the observed latency comes from (medians; bars: opaque → pale)")
    ax.legend(fontsize=11)
    return ax
