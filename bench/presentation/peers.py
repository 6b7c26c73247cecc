"""Figures of issue 14: pushlab's servers beside their peers, and the fan-out capacity search.

Peers are drawn in the grey shades of :data:`pushlab.techniques.PEERS` beside the four
techniques' colours, each bar labelled by its name, so a reader sees at a glance which bars
are ours. Both figures draw only what the run measured: no peer rows (or no capacity sweep)
is a ``ValueError`` that the report turns into "not drawn".
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pushlab.bench.presentation.columns import column as summary_column
from pushlab.bench.presentation.style import classroom, colour, figure_and_axes_row, panel_axes
from pushlab.techniques import FAMILY_PEER, label

PANELS = ("cpu_us_per_message", "latency_p99_ms", "rss_kb_per_client")


def common_load(summary: pd.DataFrame) -> pd.DataFrame:
    """The rows at the load most servers were measured at (ties: most clients, then rate),
    one per server: the peer table's rows."""
    rows = summary[summary["sweep"].isin(("clients", "rate"))].drop_duplicates("scenario")
    if "family" not in rows or not (rows["family"] == FAMILY_PEER).any():
        raise ValueError("the run measured no peers (run the bench with --peers)")
    servers = rows.groupby(["clients", "publish_rate"])["technique"].nunique()
    counts = servers.reset_index().sort_values(["technique", "clients", "publish_rate"])
    clients, rate = counts.iloc[-1][["clients", "publish_rate"]]
    at = rows[(rows["clients"] == clients) & (rows["publish_rate"] == rate)]
    return at.drop_duplicates("technique")


def bars(ax: Axes, rows: pd.DataFrame, column: str) -> None:
    names = list(rows["technique"])
    ax.barh(
        [label(name) for name in names],
        rows[column].to_numpy(dtype=float),
        color=[colour(name) for name in names],
    )
    ax.set_xlabel(summary_column(column).heading)
    ax.invert_yaxis()  # the first server on top


@classroom
def plot_peer_comparison(summary: pd.DataFrame, axes: list[Axes] | None = None) -> Figure:
    """CPU per message, p99 latency and memory per client of every server at one load."""
    rows = common_load(summary)
    figure, panels = figure_and_axes_row(axes, len(PANELS), (16, 6.5))
    for ax, column in zip(panels, PANELS, strict=True):
        bars(ax, rows, column)
        if ax is not panels[0]:
            ax.set_yticklabels([])
    first = rows.iloc[0]
    figure.suptitle(
        f"pushlab and its peers at {first['clients']:,} clients, {first['publish_rate']:g} msg/s"
    )
    return figure


@classroom
def plot_capacity(summary: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Deliveries per second at each step of the capacity search, one line per push server;
    filled markers where the step held (≥ 98% delivered, p99 ≤ 500 ms)."""
    rows = summary[summary["sweep"] == "capacity"]
    if rows.empty:
        raise ValueError("the run has no capacity search (run the bench with --sweeps capacity)")
    ax = panel_axes(ax)
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    for name, steps in rows.groupby("technique", sort=False):
        steps = steps.sort_values("publish_rate")
        per_s = steps["messages_delivered"] / steps["duration_s"]
        ax.plot(steps["publish_rate"], per_s, color=colour(str(name)), label=label(str(name)))
        held = steps["sustained"].astype(bool).to_numpy()
        ax.scatter(steps["publish_rate"][held], per_s[held], color=colour(str(name)))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(summary_column("publish_rate").heading)
    ax.set_ylabel("deliveries per second")
    ax.legend()
    ax.set_title(f"Fan-out capacity at {int(rows['clients'].iloc[0]):,} clients")
    return figure
