"""How every figure of pushlab looks: the classroom style, the marks, the axes.

Like seaborn's ``rcmod.py`` and ``palettes.py``, the look lives apart from the figures, so a
class can compare figures across slides:

- one colour and one marker per technique, read from :mod:`pushlab.techniques` (Okabe–Ito,
  safe for colour-blind viewers and washed-out projectors, the same as on the classroom page);
  polling intervals told apart by dashes;
- axes with units, log scales when values span decades, plain-number ticks;
- models in black dashes over measured points;
- rows measured while the load generator was saturated, or below the load asked for, drawn with
  *hollow* markers: shown, never dropped.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot, so nothing here picks a
backend or keeps figures alive: saving to PNG works headless, and in a notebook a figure
returned by a cell is shown.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

from pushlab.bench.analysis.shaping import default_publish_rate, flagged
from pushlab.techniques import PEERS, TECHNIQUES

__all__ = [
    "CLASSROOM_RC",
    "INTERVAL_DASHES",
    "MODEL_STYLE",
    "classroom",
    "classroom_style",
    "colour",
    "marker",
]

INTERVAL_DASHES = ("-", "--", "-.", ":")
MODEL_STYLE: dict[str, Any] = {"color": "black", "linestyle": "--", "linewidth": 2.0}
LOG_SPAN = 20.0
"""Values spanning more than this factor get a log axis: a linear one would flatten the rest."""
HOLLOW: dict[str, Any] = {"markerfacecolor": "white", "markeredgewidth": 2.2}

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


def colour(technique: str) -> str:
    """The technique's colour from the table, a peer's grey shade (issue 14), or black for a
    name neither table knows."""
    entry = TECHNIQUES.get(technique)
    peer = PEERS.get(technique)
    return entry.colour if entry else peer.shade if peer else "black"


def marker(technique: str) -> str:
    entry = TECHNIQUES.get(technique) or PEERS.get(technique)
    return entry.marker if entry else "o"


def classroom_style() -> AbstractContextManager[Any]:
    """``with classroom_style(): ...`` draws anything else you like in the same style."""
    return matplotlib.rc_context(CLASSROOM_RC)


def classroom(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw inside :func:`classroom_style` (rc settings apply when artists are created)."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with classroom_style():
            return draw(*args, **kwargs)

    return wrapper


def panel_axes(ax: Axes | None, figsize: tuple[float, float] = (10, 6.5)) -> Axes:
    """The Axes to draw one panel on: the one given, or a new figure's only one."""
    if ax is not None:
        return ax
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def figure_and_axes_row(
    axes: Sequence[Axes] | None, count: int, figsize: tuple[float, float]
) -> tuple[Figure, list[Axes]]:
    """The figure and the ``count`` panels of a side-by-side figure (given, or made)."""
    if axes is not None:
        if len(axes) != count:
            raise ValueError(f"this figure needs {count} axes, got {len(axes)}")
        return axes[0].get_figure(root=True), list(axes)  # type: ignore[return-value]
    figure = Figure(figsize=figsize, layout="constrained")
    return figure, list(figure.subplots(1, count, squeeze=False)[0])


def ms_text(value: float) -> str:
    """A latency for a legend: ``0.82 ms``, ``37.1 ms``, ``1,204 ms``."""
    if value >= 100:
        return f"{value:,.0f} ms"
    return f"{value:.2g} ms" if value < 10 else f"{value:.1f} ms"


def dashes(poll_interval: float | None, rows: pd.DataFrame) -> str:
    """Solid for every technique; polling intervals get solid, dashed, dash-dot... by length."""
    if poll_interval is None:
        return "-"
    intervals = sorted(rows["poll_interval"].dropna().unique())
    return INTERVAL_DASHES[intervals.index(poll_interval) % len(INTERVAL_DASHES)]


# --- Axes -----------------------------------------------------------------------------------


def plain_number(value: float, _position: object = None) -> str:
    """Tick labels students read aloud: 1,000 and 0.25, not 10³ and 2.5×10⁻¹."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def use_log_scale(values: Sequence[float] | np.ndarray | pd.Series) -> bool:
    positive = np.asarray(values, dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    return positive.size > 1 and positive.max() / positive.min() > LOG_SPAN


def _measured(values: Sequence[float] | np.ndarray | pd.Series, positive: bool) -> np.ndarray:
    measured = np.unique(np.asarray(values, dtype=float))
    keep = np.isfinite(measured) & ((measured > 0) if positive else True)
    return measured[keep]


def log_ticks(
    axis: Axis, values: Sequence[float] | np.ndarray | pd.Series, at_values: bool = False
) -> None:
    """Plain-number ticks on a log axis: at the measured values when they are few (the client
    counts, the poll intervals), else at 1-2-5 steps over short ranges, else at decades."""
    axis.set_major_formatter(FuncFormatter(plain_number))
    axis.set_minor_formatter(NullFormatter())
    measured = _measured(values, positive=True)
    if at_values and 1 < measured.size <= 8:
        axis.set_major_locator(FixedLocator(measured))
        return
    decades = np.log10(measured.max() / measured.min()) if measured.size else 3.0
    axis.set_major_locator(LogLocator(10, subs=(1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,)))


def axis_label(name: str, unit: str | None, log: bool) -> str:
    """``clients (log scale)``, ``publish rate λ (msg/s, log scale)``, ``server RSS (MB)``."""
    details = [part for part in (unit, "log scale" if log else None) if part]
    return f"{name} ({', '.join(details)})" if details else name


def scale_axis(
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
    log = use_log_scale(values) if log is None else log
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log" if log else "linear")
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(axis_label(name, unit, log))
    if log:
        log_ticks(axis, values, ticks_at_values)
    elif ticks_at_values:
        measured = _measured(values, positive=False)
        if 1 < measured.size <= 8:
            axis.set_major_locator(FixedLocator(measured))
            axis.set_major_formatter(FuncFormatter(plain_number))
    return log


def log_floor(values: pd.Series, log: bool) -> float | None:
    """Where zeros are drawn on a log axis (a third of the smallest positive value), if needed."""
    positive = values[values > 0]
    if not log or not (values <= 0).any() or positive.empty:
        return None
    return float(positive.min()) / 3


# --- Rows and marks -------------------------------------------------------------------------


def sweep_rows(summary: pd.DataFrame, sweep: str | None) -> pd.DataFrame:
    """The rows of one sweep (all rows for ``None``), or a ``ValueError`` naming the sweep."""
    rows = summary if sweep is None else summary[summary["sweep"] == sweep]
    if rows.empty:
        raise ValueError(f"no rows in the {sweep!r} sweep")
    return rows


def rows_at_rate(
    summary: pd.DataFrame, sweep: str | None, publish_rate: float | None
) -> tuple[pd.DataFrame, float]:
    """One sweep's rows at one publish rate (1 msg/s, or the commonest, unless told)."""
    rows = sweep_rows(summary, sweep)
    rate = default_publish_rate(rows) if publish_rate is None else publish_rate
    return rows[np.isclose(rows["publish_rate"], rate)], rate


def draw_points(
    ax: Axes,
    rows: pd.DataFrame,
    x: pd.Series | np.ndarray,
    y: pd.Series | np.ndarray,
    *,
    technique: str,
    linestyle: str,
    label: str,
    point_marker: str | None = None,
    y_floor: float | None = None,
) -> None:
    """A line through all points; filled markers for sound rows, hollow ones for flagged rows.

    On a log axis a zero cannot be drawn; with ``y_floor`` it is drawn at the floor with a
    downward triangle, so it is still visible.
    """
    line_colour, point = colour(technique), point_marker or marker(technique)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    zero = (y <= 0) if y_floor is not None else np.zeros(y.shape, dtype=bool)
    if zero.any():
        y = np.where(zero, y_floor, y)
        ax.plot(x[zero], y[zero], linestyle="none", marker="v", color=line_colour)
    is_flagged = flagged(rows).to_numpy() & ~zero
    # The line and its legend entry (with the marker), then flagged points redrawn hollow.
    ax.plot(
        x, y, color=line_colour, linestyle=linestyle, label=label, marker=point, markevery=~zero
    )
    ax.plot(
        x[is_flagged],
        y[is_flagged],
        linestyle="none",
        marker=point,
        color=line_colour,
        **HOLLOW,
    )


def flag_legend_entries(rows: pd.DataFrame) -> list[Line2D]:
    if not flagged(rows).any():
        return []
    label = "hollow: generator saturated\nor load not achieved"
    return [Line2D([], [], linestyle="none", marker="o", color="dimgray", label=label, **HOLLOW)]


def zero_legend_entry() -> Line2D:
    label = "zero (drawn at the axis floor)"
    return Line2D([], [], linestyle="none", marker="v", color="dimgray", label=label)


def note_entry(text: str) -> Line2D:
    """A legend line with no mark: a sentence the reader must see (a model not drawn)."""
    return Line2D([], [], linestyle="none", label=text)


def legend(ax: Axes, extra: list[Line2D] | None = None, **kwargs: Any) -> None:
    """The panel's legend, below the axes unless told where: a legend inside a panel sooner or
    later covers a line (the latency CDF's covered polling's), and constrained layout makes
    room for it outside."""
    handles, labels = ax.get_legend_handles_labels()
    for handle in extra or []:
        handles.append(handle)
        labels.append(handle.get_label())
    if "loc" not in kwargs:
        kwargs |= {"loc": "upper center", "bbox_to_anchor": (0.5, -0.14), "ncols": 2}
    ax.legend(handles, labels, **kwargs)


def coinciding(lines: dict[str, np.ndarray], tolerance: float = 0.03) -> dict[str, str]:
    """For each line that lies on an earlier one (every value within ``tolerance``, relative,
    or both zero), the earlier line's name: its legend must say so, or one line hides another."""
    on_top: dict[str, str] = {}
    names = list(lines)
    for i, name in enumerate(names):
        for earlier in names[:i]:
            a, b = lines[name], lines[earlier]
            if a.shape != b.shape or not len(a) or np.isnan(a).any() or np.isnan(b).any():
                continue
            scale = np.maximum(np.abs(a), np.abs(b))
            if np.all(np.abs(a - b) <= tolerance * np.where(scale > 0, scale, 1)):
                on_top[name] = earlier
                break
    return on_top
