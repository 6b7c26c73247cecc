"""The figures of a bench run, drawn to be projected in a classroom.

One function per figure or panel; each takes loaded data (``Results``, its ``summary`` table or
its ``trace``) and an optional Axes to draw on, and returns the Figure. The report saves them as
PNGs; a notebook shows them inline — the same drawing code serves both.

Conventions every figure keeps, so a class can compare them across slides:

- one colour and one marker per technique (:data:`TECHNIQUE_COLOURS`, Okabe–Ito, safe for
  colour-blind viewers and for washed-out projectors), polling intervals told apart by dashes;
- titles that say what is compared, axes with units, log scales when values span decades;
- models in black dashes over measured points;
- rows measured while the load generator was saturated, or below the load asked for, drawn with
  *hollow* markers: shown, never dropped.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot, so nothing here picks a
backend or keeps figures alive: saving to PNG works headless (Agg is chosen by ``savefig``), and
in a notebook, after ``%matplotlib inline``, a figure returned by a cell is shown.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    NullFormatter,
    PercentFormatter,
)
from pushlab.bench.analysis import model
from pushlab.bench.analysis.results import TECHNIQUE_NAMES, TECHNIQUES, Results, TraceEvent
from pushlab.bench.analysis.shaping import (
    default_publish_rate,
    flagged,
    largest_common_clients,
    series,
    transit_estimate_ms,
)

__all__ = [
    "CLASSROOM_RC",
    "TECHNIQUE_COLOURS",
    "TECHNIQUE_MARKERS",
    "PlacedEvent",
    "classroom_style",
    "place_events",
    "plot_bytes_vs_clients",
    "plot_cpu",
    "plot_cpu_per_message_vs_clients",
    "plot_cpu_vs_clients",
    "plot_empty_fraction_vs_interval",
    "plot_latency_cdf",
    "plot_latency_vs_interval",
    "plot_latency_vs_rate",
    "plot_memory",
    "plot_memory_per_client_vs_clients",
    "plot_polling_vs_interval",
    "plot_rate_sweep",
    "plot_requests_per_message_vs_interval",
    "plot_requests_per_message_vs_rate",
    "plot_requests_vs_clients",
    "plot_rss_vs_clients",
    "plot_technique_timeline",
    "plot_timeline",
    "plot_traffic",
]

TECHNIQUE_COLOURS = {
    "polling": "#D55E00",  # vermillion
    "longpoll": "#CC79A7",  # reddish purple
    "websocket": "#0072B2",  # blue
    "sse": "#009E73",  # bluish green
}
TECHNIQUE_MARKERS = {"polling": "o", "longpoll": "s", "websocket": "^", "sse": "D"}
INTERVAL_DASHES = ("-", "--", "-.", ":")
MODEL_STYLE: dict[str, Any] = {"color": "black", "linestyle": "--", "linewidth": 2.0}
LOG_SPAN = 20.0
"""Values spanning more than this factor get a log axis: a linear one would flatten the rest."""

CLASSROOM_RC: dict[str, Any] = {
    "font.size": 15,
    "axes.titlesize": 17,
    "axes.titleweight": "bold",
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 12,
    "figure.titlesize": 19,
    "figure.titleweight": "bold",
    "lines.linewidth": 2.5,
    "lines.markersize": 9,
    "axes.grid": True,
    "axes.grid.which": "major",
    "grid.alpha": 0.35,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 120,
    "figure.dpi": 100,
}
"""Large type and thick lines: readable from the back of a room on a 1080p projector."""

P = ParamSpec("P")
R = TypeVar("R")


def classroom_style() -> AbstractContextManager[Any]:
    """``with classroom_style(): ...`` draws anything else you like in the same style."""
    return matplotlib.rc_context(CLASSROOM_RC)


def _classroom(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw inside :func:`classroom_style` (rc settings apply when artists are created)."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with classroom_style():
            return draw(*args, **kwargs)

    return wrapper


def _figure_and_axes(
    ax: Axes | None, figsize: tuple[float, float] = (10, 6.5)
) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(root=True), ax  # type: ignore[return-value]
    figure = Figure(figsize=figsize, layout="constrained")
    return figure, figure.add_subplot()


def _figure_and_axes_row(
    axes: Sequence[Axes] | None, count: int, figsize: tuple[float, float]
) -> tuple[Figure, list[Axes]]:
    if axes is not None:
        if len(axes) != count:
            raise ValueError(f"this figure needs {count} axes, got {len(axes)}")
        return axes[0].get_figure(root=True), list(axes)  # type: ignore[return-value]
    figure = Figure(figsize=figsize, layout="constrained")
    return figure, list(figure.subplots(1, count))


# --- Helpers shared by the "metric vs x" panels ---------------------------------------------


def _plain_number(value: float, _position: object = None) -> str:
    """Tick labels students read aloud: 1,000 and 0.25, not 10³ and 2.5×10⁻¹."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _use_log_scale(values: Sequence[float] | np.ndarray | pd.Series) -> bool:
    positive = np.asarray(values, dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    return positive.size > 1 and positive.max() / positive.min() > LOG_SPAN


def _log_ticks(
    axis: Axis, values: Sequence[float] | np.ndarray | pd.Series, at_values: bool = False
) -> None:
    """Plain-number ticks on a log axis: at the measured values when they are few (the client
    counts, the poll intervals), else at 1-2-5 steps over short ranges, else at decades."""
    axis.set_major_formatter(FuncFormatter(_plain_number))
    axis.set_minor_formatter(NullFormatter())
    measured = np.unique(np.asarray(values, dtype=float))
    measured = measured[np.isfinite(measured) & (measured > 0)]
    if at_values and 1 < measured.size <= 8:
        axis.set_major_locator(FixedLocator(measured))
        return
    decades = np.log10(measured.max() / measured.min()) if measured.size else 3.0
    axis.set_major_locator(LogLocator(10, subs=(1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,)))


def _axis_label(name: str, unit: str | None, log: bool) -> str:
    """``clients (log scale)``, ``publish rate λ (msg/s, log scale)``, ``RSS (MB)``."""
    details = [part for part in (unit, "log scale" if log else None) if part]
    return f"{name} ({', '.join(details)})" if details else name


def _scale_axis(
    ax: Axes,
    which: str,
    values: np.ndarray | pd.Series,
    name: str,
    unit: str | None = None,
    *,
    ticks_at_values: bool = False,
    log: bool | None = None,
) -> bool:
    """Pick log or linear for one axis from its data (unless told), and label it with its unit."""
    log = _use_log_scale(values) if log is None else log
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log" if log else "linear")
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(_axis_label(name, unit, log))
    if log:
        _log_ticks(axis, values, ticks_at_values)
    elif ticks_at_values:
        measured = np.unique(np.asarray(values, dtype=float))
        measured = measured[np.isfinite(measured)]
        if 1 < measured.size <= 8:
            axis.set_major_locator(FixedLocator(measured))
            axis.set_major_formatter(FuncFormatter(_plain_number))
    return log


def _sweep_rows(
    summary: pd.DataFrame, sweep: str | None, publish_rate: float | None
) -> tuple[pd.DataFrame, float]:
    rows = summary if sweep is None else summary[summary["sweep"] == sweep]
    if rows.empty:
        raise ValueError(f"no rows in the {sweep!r} sweep")
    rate = default_publish_rate(rows) if publish_rate is None else publish_rate
    return rows[np.isclose(rows["publish_rate"], rate)], rate


def _draw_points(
    ax: Axes,
    rows: pd.DataFrame,
    x: pd.Series | np.ndarray,
    y: pd.Series | np.ndarray,
    *,
    colour: str,
    marker: str,
    linestyle: str,
    label: str,
    y_floor: float | None = None,
) -> None:
    """A line through all points; filled markers for sound rows, hollow ones for flagged rows.

    On a log axis a zero cannot be drawn; with ``y_floor`` it is drawn at the floor with a
    downward triangle, so it is still visible.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    zero = (y <= 0) if y_floor is not None else np.zeros(y.shape, dtype=bool)
    if zero.any():
        y = np.where(zero, y_floor, y)
        ax.plot(x[zero], y[zero], linestyle="none", marker="v", color=colour)
    is_flagged = flagged(rows).to_numpy() & ~zero
    # The line and its legend entry (with the marker), then flagged points redrawn hollow.
    ax.plot(x, y, color=colour, linestyle=linestyle, label=label, marker=marker, markevery=~zero)
    ax.plot(
        x[is_flagged],
        y[is_flagged],
        linestyle="none",
        marker=marker,
        markerfacecolor="white",
        markeredgewidth=2.2,
        color=colour,
    )


def _flag_legend_entries(rows: pd.DataFrame) -> list[Line2D]:
    if not flagged(rows).any():
        return []
    hollow = Line2D(
        [],
        [],
        linestyle="none",
        marker="o",
        markerfacecolor="white",
        markeredgewidth=2.2,
        color="dimgray",
        label="hollow: generator saturated\nor load not achieved",
    )
    return [hollow]


def _zero_legend_entry() -> Line2D:
    return Line2D(
        [],
        [],
        linestyle="none",
        marker="v",
        color="dimgray",
        label="zero (drawn at the axis floor)",
    )


def _legend(ax: Axes, extra: list[Line2D] | None = None, **kwargs: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    for handle in extra or []:
        handles.append(handle)
        labels.append(handle.get_label())
    ax.legend(handles, labels, **kwargs)


def _metric_vs_clients(
    summary: pd.DataFrame,
    metric: Callable[[pd.DataFrame], pd.Series],
    *,
    title: str,
    y_name: str,
    y_unit: str | None,
    publish_rate: float | None,
    sweep: str | None,
    ax: Axes | None,
) -> Figure:
    figure, ax = _figure_and_axes(ax)
    rows, rate = _sweep_rows(summary, sweep, publish_rate)
    values = metric(rows)
    _scale_axis(ax, "x", rows["clients"], "clients", ticks_at_values=True)
    y_log = _scale_axis(ax, "y", values, y_name, y_unit)
    positive = values[values > 0]
    y_floor = float(positive.min()) / 3 if y_log and (values <= 0).any() else None
    for line in series(rows, x="clients"):
        _draw_points(
            ax,
            line.rows,
            line.rows["clients"],
            metric(line.rows),
            colour=TECHNIQUE_COLOURS[line.technique],
            marker=TECHNIQUE_MARKERS[line.technique],
            linestyle=_dashes(line.poll_interval, rows),
            label=line.label,
            y_floor=y_floor,
        )
    if not y_log:
        ax.set_ylim(bottom=0)
    ax.set_title(f"{title}\n({rate:g} msg/s)")
    extra = _flag_legend_entries(rows)
    if y_floor is not None:
        extra.append(_zero_legend_entry())
    _legend(ax, extra)
    return figure


def _dashes(poll_interval: float | None, rows: pd.DataFrame) -> str:
    """Solid for every technique; polling intervals get solid, dashed, dash-dot... by length."""
    if poll_interval is None:
        return "-"
    intervals = sorted(rows["poll_interval"].dropna().unique())
    return INTERVAL_DASHES[intervals.index(poll_interval) % len(INTERVAL_DASHES)]


# --- Clients sweep --------------------------------------------------------------------------


@_classroom
def plot_requests_vs_clients(
    summary: pd.DataFrame,
    *,
    publish_rate: float | None = None,
    sweep: str | None = "clients",
    ax: Axes | None = None,
) -> Figure:
    """HTTP requests per second the server handled, per technique, as clients grow."""
    return _metric_vs_clients(
        summary,
        lambda rows: rows["requests_per_s"],
        title="HTTP requests per second vs clients",
        y_name="HTTP requests per second",
        y_unit=None,
        publish_rate=publish_rate,
        sweep=sweep,
        ax=ax,
    )


@_classroom
def plot_bytes_vs_clients(
    summary: pd.DataFrame,
    *,
    publish_rate: float | None = None,
    sweep: str | None = "clients",
    ax: Axes | None = None,
) -> Figure:
    """Bytes through the server's sockets (both directions) per second, as clients grow."""
    return _metric_vs_clients(
        summary,
        lambda rows: (rows["bytes_in_per_s"] + rows["bytes_out_per_s"]) / 1000,
        title="Network traffic (in + out) vs clients",
        y_name="traffic at the server",
        y_unit="kB/s",
        publish_rate=publish_rate,
        sweep=sweep,
        ax=ax,
    )


@_classroom
def plot_cpu_vs_clients(
    summary: pd.DataFrame,
    *,
    publish_rate: float | None = None,
    sweep: str | None = "clients",
    ax: Axes | None = None,
) -> Figure:
    """The server process's CPU use (100% = one core busy), as clients grow."""
    return _metric_vs_clients(
        summary,
        lambda rows: rows["server_cpu_percent"],
        title="Server CPU vs clients",
        y_name="server CPU",
        y_unit="% of one core",
        publish_rate=publish_rate,
        sweep=sweep,
        ax=ax,
    )


@_classroom
def plot_cpu_per_message_vs_clients(
    summary: pd.DataFrame,
    *,
    publish_rate: float | None = None,
    sweep: str | None = "clients",
    ax: Axes | None = None,
) -> Figure:
    """Server CPU time per delivered message: the price of one message reaching one client."""
    return _metric_vs_clients(
        summary,
        lambda rows: rows["cpu_us_per_message"],
        title="Server CPU per delivered message",
        y_name="server CPU per delivered message",
        y_unit="µs",
        publish_rate=publish_rate,
        sweep=sweep,
        ax=ax,
    )


@_classroom
def plot_rss_vs_clients(
    summary: pd.DataFrame,
    *,
    publish_rate: float | None = None,
    sweep: str | None = "clients",
    ax: Axes | None = None,
) -> Figure:
    """The server's resident memory, as clients grow."""
    return _metric_vs_clients(
        summary,
        lambda rows: rows["rss_mb"],
        title="Server memory (RSS) vs clients",
        y_name="server RSS",
        y_unit="MB",
        publish_rate=publish_rate,
        sweep=sweep,
        ax=ax,
    )


@_classroom
def plot_memory_per_client_vs_clients(
    summary: pd.DataFrame,
    *,
    publish_rate: float | None = None,
    sweep: str | None = "clients",
    ax: Axes | None = None,
) -> Figure:
    """Server memory per connected client: what holding a connection open costs."""
    return _metric_vs_clients(
        summary,
        lambda rows: rows["rss_kb_per_client"],
        title="Server memory per connected client",
        y_name="server RSS per connected client",
        y_unit="KB",
        publish_rate=publish_rate,
        sweep=sweep,
        ax=ax,
    )


def _two_panels(
    summary: pd.DataFrame,
    panels: tuple[Callable[..., Figure], Callable[..., Figure]],
    suptitle: str,
    publish_rate: float | None,
    axes: Sequence[Axes] | None,
) -> Figure:
    figure, (left, right) = _figure_and_axes_row(axes, 2, (18, 7))
    for panel, ax in zip(panels, (left, right), strict=True):
        panel(summary, publish_rate=publish_rate, ax=ax)
    if axes is None:
        figure.suptitle(suptitle)
    return figure


@_classroom
def plot_traffic(
    summary: pd.DataFrame, *, publish_rate: float | None = None, axes: Sequence[Axes] | None = None
) -> Figure:
    """Requests/s and bytes/s vs clients, side by side: polling's cost grows with its clients."""
    return _two_panels(
        summary,
        (plot_requests_vs_clients, plot_bytes_vs_clients),
        "What each technique asks of the network as clients grow",
        publish_rate,
        axes,
    )


@_classroom
def plot_cpu(
    summary: pd.DataFrame, *, publish_rate: float | None = None, axes: Sequence[Axes] | None = None
) -> Figure:
    """Server CPU vs clients and CPU per delivered message, side by side."""
    return _two_panels(
        summary,
        (plot_cpu_vs_clients, plot_cpu_per_message_vs_clients),
        "What each technique costs the server's CPU",
        publish_rate,
        axes,
    )


@_classroom
def plot_memory(
    summary: pd.DataFrame, *, publish_rate: float | None = None, axes: Sequence[Axes] | None = None
) -> Figure:
    """Server RSS vs clients and memory per connected client, side by side."""
    return _two_panels(
        summary,
        (plot_rss_vs_clients, plot_memory_per_client_vs_clients),
        "What each technique costs the server's memory",
        publish_rate,
        axes,
    )


# --- Delivery latency -----------------------------------------------------------------------


@_classroom
def plot_latency_cdf(
    results: Results,
    *,
    clients: float | None = None,
    publish_rate: float | None = None,
    sweep: str | None = "clients",
    ax: Axes | None = None,
) -> Figure:
    """The distribution of delivery latency per technique, as a CDF on a log time axis.

    A CDF shows the whole distribution — median, tail and worst case — in one line per
    technique: read across at 0.5 for the median, at 0.99 for the p99. Polling's line is a
    straight ramp over one poll interval (uniform wait); pushed techniques rise at once.
    By default it shows the largest client count every technique was measured at.
    """
    figure, ax = _figure_and_axes(ax, (12, 7))
    rows, rate = _sweep_rows(results.summary, sweep, publish_rate)
    clients = largest_common_clients(rows) if clients is None else clients
    rows = rows[rows["clients"] == clients]
    if rows.empty:
        raise ValueError(f"no rows at {clients:g} clients")
    for line in series(rows):
        colour = TECHNIQUE_COLOURS[line.technique]
        for index, row in enumerate(line.rows.itertuples()):
            if not results.has_latency(row.scenario):
                continue
            latency = np.sort(results.latency_ms(row.scenario))
            if latency.size == 0:
                continue
            p50, p99 = np.quantile(latency, [0.5, 0.99])
            is_flagged = bool(flagged(line.rows).iloc[index])
            label = f"{line.label}: p50 {_ms(p50)}, p99 {_ms(p99)}" + (" ⚠" if is_flagged else "")
            x, y = _cdf_points(latency)
            ax.step(
                x,
                y,
                where="post",
                color=colour,
                linestyle=":" if is_flagged else _dashes(line.poll_interval, rows),
                label=label,
            )
    x_values = [line.get_xdata() for line in ax.get_lines()]
    latencies = np.concatenate(x_values) if x_values else np.array([1.0, 1000.0])
    _scale_axis(ax, "x", latencies, "delivery latency, publish → client", "ms", log=True)
    ax.set_ylabel("fraction of deliveries within that latency")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.01)
    ax.set_title(f"Delivery latency per technique (CDF)\n({clients:,.0f} clients, {rate:g} msg/s)")
    extra = []
    if flagged(rows).any():
        extra.append(Line2D([], [], color="dimgray", linestyle=":", label="⚠ dotted: flagged row"))
    _legend(ax, extra, loc="lower right")
    return figure


def _cdf_points(sorted_values: np.ndarray, max_points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF, thinned to ``max_points`` quantiles (a million steps draw no better)."""
    clipped = np.maximum(sorted_values, 1e-3)  # log axis: nothing below 1 µs
    fractions = np.arange(1, clipped.size + 1) / clipped.size
    if clipped.size <= max_points:
        return clipped, fractions
    keep = np.linspace(0, clipped.size - 1, max_points).astype(int)
    return clipped[keep], fractions[keep]


def _ms(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f} ms"
    return f"{value:.2g} ms" if value < 10 else f"{value:.1f} ms"


# --- Polling vs poll interval, with the model -----------------------------------------------


def _interval_groups(summary: pd.DataFrame, sweep: str | None) -> list[tuple[str, pd.DataFrame]]:
    """Polling rows of the interval sweep, one group per (clients, rate, arrivals)."""
    rows = summary if sweep is None else summary[summary["sweep"] == sweep]
    rows = rows[rows["technique"] == "polling"]
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
    measured: Callable[[pd.DataFrame], pd.Series],
    predicted: Callable[[np.ndarray, pd.DataFrame], tuple[np.ndarray, str]],
    title: str,
    y_name: str,
    y_unit: str | None,
    y_log: bool,
) -> Figure:
    figure, ax = _figure_and_axes(ax)
    groups = _interval_groups(summary, sweep)
    colour = TECHNIQUE_COLOURS["polling"]
    markers = ("o", "s", "^", "D", "v")
    for index, (label, rows) in enumerate(groups):
        intervals = rows["poll_interval"].to_numpy(dtype=float)
        grid = np.geomspace(intervals.min() / 1.5, intervals.max() * 1.5, 200)
        curve, model_label = predicted(grid, rows)
        ax.plot(
            grid,
            curve,
            **{**MODEL_STYLE, "linestyle": INTERVAL_DASHES[1 + index % 3]},
            label=f"model: {model_label}",
        )
        _draw_points(
            ax,
            rows,
            intervals,
            measured(rows),
            colour=colour,
            marker=markers[index % len(markers)],
            linestyle="none",
            label=f"measured ({label})",
        )
    all_rows = pd.concat([rows for _, rows in groups])
    intervals = all_rows["poll_interval"]
    _scale_axis(ax, "x", intervals, "poll interval T", "s", ticks_at_values=True, log=True)
    y_values = np.concatenate([line.get_ydata() for line in ax.get_lines()])
    _scale_axis(ax, "y", y_values, y_name, y_unit, log=y_log)
    ax.set_title(title)
    _legend(ax, _flag_legend_entries(all_rows), fontsize=11)
    return figure


def _one(rows: pd.DataFrame, column: str) -> Any:
    return rows[column].iloc[0]


@_classroom
def plot_empty_fraction_vs_interval(
    summary: pd.DataFrame, *, sweep: str | None = "interval", ax: Axes | None = None
) -> Figure:
    """Share of polls that came back empty vs poll interval, over ``e^(−λT)`` (or periodic)."""

    def predicted(grid: np.ndarray, rows: pd.DataFrame) -> tuple[np.ndarray, str]:
        arrivals = _one(rows, "arrivals")
        arrivals = arrivals if arrivals in ("poisson", "periodic") else "poisson"
        curve = model.polling_empty_fraction(_one(rows, "publish_rate"), grid, arrivals)
        return curve, r"$e^{-\lambda T}$" if arrivals == "poisson" else r"$\max(0, 1 - \lambda T)$"

    figure = _interval_panel(
        summary,
        ax,
        sweep,
        lambda rows: rows["empty_fraction"],
        predicted,
        "Polls that came back empty",
        "empty answers",
        "% of polls",
        y_log=False,
    )
    axes = ax or figure.axes[0]
    axes.set_ylim(-0.02, 1.02)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    return figure


@_classroom
def plot_latency_vs_interval(
    summary: pd.DataFrame, *, sweep: str | None = "interval", ax: Axes | None = None
) -> Figure:
    """Mean delivery latency of polling vs poll interval, over ``T/2 + transit``."""

    def predicted(grid: np.ndarray, rows: pd.DataFrame) -> tuple[np.ndarray, str]:
        clients, rate = _one(rows, "clients"), _one(rows, "publish_rate")
        transit_ms, source = transit_estimate_ms(summary, clients, rate)
        curve = 1000 * model.polling_mean_latency_s(grid, transit_ms / 1000)
        return curve, f"$T/2$ + transit\n(transit {_ms(transit_ms)}: {source})"

    return _interval_panel(
        summary,
        ax,
        sweep,
        lambda rows: rows["latency_mean_ms"],
        predicted,
        "Mean delivery latency of polling",
        "mean delivery latency",
        "ms",
        y_log=True,
    )


@_classroom
def plot_requests_per_message_vs_interval(
    summary: pd.DataFrame, *, sweep: str | None = "interval", ax: Axes | None = None
) -> Figure:
    """Polls per delivered message vs poll interval, over ``1/(λT)``."""

    def predicted(grid: np.ndarray, rows: pd.DataFrame) -> tuple[np.ndarray, str]:
        return model.polling_requests_per_message(
            _one(rows, "publish_rate"), grid
        ), r"$1/(\lambda T)$"

    return _interval_panel(
        summary,
        ax,
        sweep,
        lambda rows: rows["requests_per_message"],
        predicted,
        "Requests per delivered message",
        "requests per delivered message",
        None,
        y_log=True,
    )


@_classroom
def plot_polling_vs_interval(
    summary: pd.DataFrame, *, sweep: str | None = "interval", axes: Sequence[Axes] | None = None
) -> Figure:
    """Polling's three trade-offs vs poll interval, each with its model drawn over the points."""
    figure, panels = _figure_and_axes_row(axes, 3, (24, 7.5))
    plot_empty_fraction_vs_interval(summary, sweep=sweep, ax=panels[0])
    plot_latency_vs_interval(summary, sweep=sweep, ax=panels[1])
    plot_requests_per_message_vs_interval(summary, sweep=sweep, ax=panels[2])
    if axes is None:
        figure.suptitle(
            "Polling every T seconds: shorter T buys latency with empty requests "
            "(points measured, dashed lines the model)"
        )
    return figure


# --- Rate sweep -----------------------------------------------------------------------------


@_classroom
def plot_requests_per_message_vs_rate(
    summary: pd.DataFrame,
    *,
    sweep: str | None = "rate",
    hold_timeout_s: float = 25.0,
    ax: Axes | None = None,
) -> Figure:
    """Requests per delivered message vs publish rate, each technique over its model.

    Polling: ``1/(λT)``. Long polling: ≈ 1, more at low rates (timeouts), fewer at high rates
    (batching) — ``1/(λg + e^(−λg)(1 − e^(−λτ)))`` with ``g`` two transits. WebSocket and SSE
    make no requests once connected: the bench measures after the handshakes, so their zeros
    sit at the floor of the log axis.
    """
    figure, ax = _figure_and_axes(ax, (12, 7.5))
    rows = summary if sweep is None else summary[summary["sweep"] == sweep]
    if rows.empty:
        raise ValueError(f"no rows in the {sweep!r} sweep")
    values = rows["requests_per_message"]
    _scale_axis(ax, "x", rows["publish_rate"], "publish rate λ", "msg/s", ticks_at_values=True)
    _scale_axis(ax, "y", values, "requests per delivered message", log=True)
    positive = values[values > 0]
    y_floor = float(positive.min()) / 3 if (values <= 0).any() and not positive.empty else None
    for line in series(rows, x="publish_rate"):
        colour = TECHNIQUE_COLOURS[line.technique]
        rates = line.rows["publish_rate"].to_numpy(dtype=float)
        grid = np.geomspace(rates.min(), rates.max(), 200)
        curve = _requests_per_message_model(
            line.technique, line.poll_interval, grid, line.rows, summary, hold_timeout_s
        )
        if curve is not None:
            ax.plot(grid, curve, color=colour, linestyle="--", linewidth=1.6, alpha=0.9)
        _draw_points(
            ax,
            line.rows,
            rates,
            line.rows["requests_per_message"],
            colour=colour,
            marker=TECHNIQUE_MARKERS[line.technique],
            linestyle="none",
            label=line.label,
            y_floor=y_floor,
        )
    ax.axhline(1.0, color="gray", linewidth=1.0)
    clients = sorted(rows["clients"].unique())
    ax.set_title(
        "Requests per delivered message vs publish rate\n"
        f"({', '.join(f'{c:,.0f}' for c in clients)} clients; dashed: model)"
    )
    extra = [Line2D([], [], color="dimgray", linestyle="--", linewidth=1.6, label="model")]
    extra += _flag_legend_entries(rows) + ([_zero_legend_entry()] if y_floor is not None else [])
    _legend(ax, extra, fontsize=11)
    return figure


def _requests_per_message_model(
    technique: str,
    poll_interval: float | None,
    rates: np.ndarray,
    rows: pd.DataFrame,
    summary: pd.DataFrame,
    hold_timeout_s: float,
) -> np.ndarray | None:
    if technique == "polling" and poll_interval is not None:
        return model.polling_requests_per_message(rates, poll_interval)
    if technique == "longpoll":
        transit_ms, _ = transit_estimate_ms(
            summary, _one(rows, "clients"), _one(rows, "publish_rate")
        )
        gap_s = 2 * transit_ms / 1000
        return model.longpoll_requests_per_message(rates, gap_s, hold_timeout_s)
    return None


@_classroom
def plot_latency_vs_rate(
    summary: pd.DataFrame, *, sweep: str | None = "rate", ax: Axes | None = None
) -> Figure:
    """Median and p99 delivery latency vs publish rate, per technique."""
    figure, ax = _figure_and_axes(ax, (12, 7.5))
    rows = summary if sweep is None else summary[summary["sweep"] == sweep]
    if rows.empty:
        raise ValueError(f"no rows in the {sweep!r} sweep")
    _scale_axis(ax, "x", rows["publish_rate"], "publish rate λ", "msg/s", ticks_at_values=True)
    latencies = pd.concat([rows["latency_p50_ms"], rows["latency_p99_ms"]])
    _scale_axis(ax, "y", latencies, "delivery latency", "ms", log=True)
    for line in series(rows, x="publish_rate"):
        colour = TECHNIQUE_COLOURS[line.technique]
        dashes = _dashes(line.poll_interval, rows)
        _draw_points(
            ax,
            line.rows,
            line.rows["publish_rate"],
            line.rows["latency_p50_ms"],
            colour=colour,
            marker=TECHNIQUE_MARKERS[line.technique],
            linestyle=dashes,
            label=f"{line.label} (p50)",
        )
        ax.plot(
            line.rows["publish_rate"],
            line.rows["latency_p99_ms"],
            color=colour,
            linestyle=dashes,
            linewidth=1.2,
            alpha=0.6,
        )
    ax.set_title("Delivery latency vs publish rate\n(thick: median; thin: p99)")
    _legend(ax, _flag_legend_entries(rows), fontsize=11)
    return figure


@_classroom
def plot_rate_sweep(
    summary: pd.DataFrame, *, sweep: str | None = "rate", axes: Sequence[Axes] | None = None
) -> Figure:
    """Requests per message and latency vs publish rate, side by side."""
    figure, (left, right) = _figure_and_axes_row(axes, 2, (20, 7.5))
    plot_requests_per_message_vs_rate(summary, sweep=sweep, ax=left)
    plot_latency_vs_rate(summary, sweep=sweep, ax=right)
    if axes is None:
        figure.suptitle("As the publish rate grows: who batches, who pays per message")
    return figure


# --- Timeline (a sequence diagram of a recorded trace) --------------------------------------

CLIENT_Y, SERVER_Y = 0.0, 1.0
EMPTY_STYLE: dict[str, Any] = {"color": "gray", "linestyle": (0, (3, 2)), "lw": 1.5}
REQUEST_COLOUR = "#333333"


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], **style: Any) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={"arrowstyle": "-|>", "shrinkA": 0, "shrinkB": 0, "mutation_scale": 18, **style},
    )


def _timeline_counts(events: Sequence[TraceEvent]) -> str:
    """The row's title: what was published, asked and answered, counted from the trace."""
    kinds = [event.kind for event in events]
    requests = kinds.count("request")
    empty = sum(event.kind == "response" and event.message_id is None for event in events)
    pushes = kinds.count("push")
    parts = [f"{kinds.count('publish')} published", f"{requests} request{'s' * (requests != 1)}"]
    if "response" in kinds:
        parts[-1] += f" ({empty} answered empty)"
    if pushes:
        parts.append(f"{pushes} pushed on one open connection")
    return " · ".join(parts)


UP_KINDS = ("request",)
OPENING_KINDS = ("upgrade", "stream-open")  # answers that leave the connection open
DOWN_KINDS = ("response", "push", *OPENING_KINDS)


@dataclass(frozen=True)
class PlacedEvent:
    """A trace event with where its arrow touches the client and the server lines (seconds)."""

    event: TraceEvent
    client_x: float
    server_x: float


def place_events(events: Sequence[TraceEvent], slant_s: float) -> list[PlacedEvent]:
    """Lay a trace out as a sequence diagram, causes always drawn before their effects.

    On loopback a request and its answer are a millisecond apart: drawn at their true times in
    a window of seconds they would sit on top of each other. So each arrow is slanted by
    ``slant_s`` (requests rise to the right, answers fall to the right), and an event is nudged
    right — never left — just enough that it starts after what came before it on the same line:
    an answer leaves the server after the request arrived (and after the message was
    published), the next request leaves the client after the answer arrived.
    """
    client_free = server_free = -math.inf
    placed = []
    for event in events:
        if event.kind in UP_KINDS:
            client_x = max(event.t, client_free)
            server_x = client_x + slant_s
        elif event.kind in DOWN_KINDS:
            server_x = max(event.t - slant_s, server_free)
            client_x = max(event.t, server_x + slant_s)
        else:  # publish: a point on the server line
            server_x = client_x = max(event.t, server_free)
        if event.kind != "publish":
            client_free = max(client_free, client_x)
        server_free = max(server_free, server_x)
        placed.append(PlacedEvent(event, client_x, server_x))
    return placed


@_classroom
def plot_technique_timeline(
    events: Sequence[TraceEvent],
    technique: str,
    *,
    span_s: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """One technique's recorded trace as a sequence diagram: client below, server above.

    Requests go up, answers and pushes come down, publishes are stars on the server line, and
    empty answers are grey dashes. Long polling shows how long each request was held at the
    server; WebSocket and SSE show their one connection staying open. Arrows are slanted and
    nudged by :func:`place_events` (at most a few pixels) so that every one can be seen.
    """
    figure, ax = _figure_and_axes(ax, (16, 3.2))
    colour = TECHNIQUE_COLOURS.get(technique, "black")
    times = [event.t for event in events] or [0.0, 1.0]
    start, end = span_s or (min(times), max(times))
    end = max(end, start + 1e-3)
    slant = 0.006 * (end - start)
    ax.axhline(CLIENT_Y, color="black", linewidth=1.2)
    ax.axhline(SERVER_Y, color="black", linewidth=1.2)
    held_since: float | None = None
    for placed in place_events(events, slant):
        event = placed.event
        if event.kind in UP_KINDS:
            client_end, server_end = (placed.client_x, CLIENT_Y), (placed.server_x, SERVER_Y)
            _arrow(ax, client_end, server_end, color=REQUEST_COLOUR, lw=1.6)
            held_since = placed.server_x
        elif event.kind in OPENING_KINDS:
            _arrow(
                ax,
                (placed.server_x, SERVER_Y),
                (placed.client_x, CLIENT_Y),
                color=REQUEST_COLOUR,
                lw=1.6,
            )
            ax.axvspan(placed.client_x, end, ymin=0.2, ymax=0.8, color=colour, alpha=0.10)
            ax.text(
                placed.client_x + slant,
                0.5,
                f"{event.label}: the connection stays open",
                va="center",
                fontsize=12,
                color=colour,
            )
        elif event.kind in DOWN_KINDS:
            empty = event.message_id is None
            style = EMPTY_STYLE if empty else {"color": colour, "lw": 2.4}
            _arrow(ax, (placed.server_x, SERVER_Y), (placed.client_x, CLIENT_Y), **style)
            if not empty:
                ax.text(
                    placed.client_x,
                    CLIENT_Y - 0.1,
                    f"#{event.message_id}",
                    ha="center",
                    va="top",
                    fontsize=12,
                    color=colour,
                )
            if technique == "longpoll" and held_since is not None and event.kind == "response":
                ax.plot(
                    [held_since, placed.server_x],
                    [SERVER_Y + 0.06] * 2,
                    color=colour,
                    linewidth=5,
                    alpha=0.45,
                    solid_capstyle="butt",
                )
                held_since = None
        elif event.kind == "publish":
            ax.plot(
                placed.server_x,
                SERVER_Y + 0.18,
                marker="*",
                markersize=14,
                color="black",
                linestyle="none",
            )
    ax.set_xlim(start - 2 * slant, end + 3 * slant)
    ax.set_ylim(-0.35, 1.45)
    ax.set_yticks([CLIENT_Y, SERVER_Y], ["client", "server"])
    ax.grid(False)
    ax.spines[["left", "top", "right"]].set_visible(False)
    ax.set_xlabel("seconds since the trace started")
    ax.set_title(
        f"{TECHNIQUE_NAMES.get(technique, technique)}: {_timeline_counts(events)}",
        loc="left",
        fontsize=15,
    )
    return figure


@_classroom
def plot_timeline(
    trace: dict[str, list[TraceEvent]],
    *,
    techniques: Sequence[str] | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """A few real seconds of every technique, stacked on one time axis (see the single panel)."""
    techniques = [t for t in (techniques or TECHNIQUES) if t in trace]
    if not techniques:
        raise ValueError("the trace holds none of the techniques asked for")
    if axes is None:
        figure = Figure(figsize=(18, 3.3 * len(techniques) + 1.2), layout="constrained")
        panels = list(np.atleast_1d(figure.subplots(len(techniques), 1, sharex=True)))
    else:
        figure, panels = axes[0].get_figure(root=True), list(axes)  # type: ignore[assignment]
    times = [event.t for t in techniques for event in trace[t]] or [0.0, 1.0]
    span = (min(times), max(times))
    for technique, ax in zip(techniques, panels, strict=True):
        plot_technique_timeline(trace[technique], technique, span_s=span, ax=ax)
        if ax is not panels[-1]:
            ax.set_xlabel("")
    if axes is None:
        legend = [
            Line2D([], [], color=REQUEST_COLOUR, lw=1.6, marker=">", label="request ↑"),
            Line2D(
                [],
                [],
                color="dimgray",
                lw=2.4,
                marker=">",
                label="answer or push carrying a message ↓",
            ),
            Line2D([], [], color="gray", linestyle=(0, (3, 2)), lw=1.5, label="empty answer ↓"),
            Line2D(
                [],
                [],
                color="black",
                marker="*",
                markersize=14,
                linestyle="none",
                label="message published",
            ),
            Line2D(
                [],
                [],
                color=TECHNIQUE_COLOURS["longpoll"],
                lw=5,
                alpha=0.45,
                label="long poll held at the server",
            ),
        ]
        figure.legend(handles=legend, loc="outside lower center", ncols=5, fontsize=12)
        figure.suptitle("A few real seconds of each technique: what crosses the wire")
    return figure
