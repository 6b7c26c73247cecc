"""The reconnect storm's figure: connections arriving at the server after a restart.

One panel per lane (Locust users, Chromium pages): for each technique, the arrivals per
second after the restart with the reconnect policy the clients run (full jitter, solid) and
without jitter (dashed), from the rows' ``storm_arrivals`` series.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pushlab.bench.analysis.storm_window import BIN_S, series_of
from pushlab.bench.presentation.style import classroom, colour, figure_and_axes_row, legend
from pushlab.techniques import label

LINE_STYLES = {"full": "-", "none": "--"}


def storm_rows(summary: pd.DataFrame) -> pd.DataFrame:
    rows = summary[summary["sweep"] == "storm"]
    if rows.empty or "storm_arrivals" not in rows or rows["storm_arrivals"].isna().all():
        raise ValueError("the run has no reconnect storm")
    return rows[rows["storm_arrivals"].notna()]


@classroom
def plot_storm(summary: pd.DataFrame, *, axes: Sequence[Axes] | None = None) -> Figure:
    rows = storm_rows(summary)
    lanes = list(dict.fromkeys(rows["lane"]))
    figure, panels = figure_and_axes_row(axes, len(lanes), (6.5 * len(lanes), 5.5))
    for ax, lane in zip(panels, lanes, strict=True):
        for _, row in rows[rows["lane"] == lane].iterrows():
            rates = series_of(row["storm_arrivals"])
            seconds = np.arange(rates.size) * BIN_S
            ax.step(
                seconds,
                rates,
                where="post",
                color=colour(str(row["technique"])),
                linestyle=LINE_STYLES.get(str(row["storm_jitter"]), ":"),
                label=f"{label(str(row['technique']))}, jitter {row['storm_jitter']}",
            )
        clients = int(rows[rows["lane"] == lane]["clients"].max())
        ax.set_title(f"{lane}: {clients:,} clients")
        ax.set_xlabel("seconds after the restart")
        ax.set_ylabel("connections arriving per second")
        legend(ax)
    return figure
