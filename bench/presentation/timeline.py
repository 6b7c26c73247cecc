"""A recorded trace as a sequence diagram: what crosses the wire, for each technique.

Client below, server above; requests go up, answers and pushes come down, publishes are stars
on the server line, empty answers grey dashes. :func:`place_events` lays the events out so that
a cause is always drawn before its effect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pushlab.bench.analysis.results import TraceEvent
from pushlab.bench.presentation.style import classroom, colour, panel_axes
from pushlab.techniques import NAMES, TECHNIQUES, label

__all__ = ["PlacedEvent", "place_events", "plot_technique_timeline", "plot_timeline"]

CLIENT_Y, SERVER_Y = 0.0, 1.0
EMPTY_STYLE: dict[str, Any] = {"color": "gray", "linestyle": (0, (3, 2)), "lw": 1.5}
REQUEST_COLOUR = "#333333"
UP_KINDS = ("request",)
OPENING_KINDS = ("upgrade", "stream-open")  # answers that leave the connection open
DOWN_KINDS = ("response", "push", *OPENING_KINDS)
HELD_STYLE: dict[str, Any] = {"linewidth": 5, "alpha": 0.45, "solid_capstyle": "butt"}


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


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], **style: Any) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={"arrowstyle": "-|>", "shrinkA": 0, "shrinkB": 0, "mutation_scale": 18, **style},
    )


def _holds_without_pushing(technique: str) -> bool:
    """Long polling's shape: a request held at the server, answered once, asked again."""
    entry = TECHNIQUES.get(technique)
    return entry is not None and entry.holds_request and not entry.pushes


@dataclass
class _Diagram:
    """One technique's panel while it is drawn: where the trace ends, how arrows slant."""

    ax: Axes
    technique: str
    end: float
    slant: float
    held_since: float | None = None

    def up(self, placed: PlacedEvent) -> None:
        start, end = (placed.client_x, CLIENT_Y), (placed.server_x, SERVER_Y)
        _arrow(self.ax, start, end, color=REQUEST_COLOUR, lw=1.6)
        self.held_since = placed.server_x

    def opening(self, placed: PlacedEvent) -> None:
        start, end = (placed.server_x, SERVER_Y), (placed.client_x, CLIENT_Y)
        _arrow(self.ax, start, end, color=REQUEST_COLOUR, lw=1.6)
        line_colour = colour(self.technique)
        self.ax.axvspan(placed.client_x, self.end, ymin=0.2, ymax=0.8, color=line_colour, alpha=0.1)
        text = f"{placed.event.label}: the connection stays open"
        x = placed.client_x + self.slant
        self.ax.text(x, 0.5, text, va="center", fontsize=12, color=line_colour)

    def down(self, placed: PlacedEvent) -> None:
        event, line_colour = placed.event, colour(self.technique)
        empty = event.message_id is None
        style = EMPTY_STYLE if empty else {"color": line_colour, "lw": 2.4}
        _arrow(self.ax, (placed.server_x, SERVER_Y), (placed.client_x, CLIENT_Y), **style)
        if not empty:
            at = (placed.client_x, CLIENT_Y - 0.1)
            text = f"#{event.message_id}"
            self.ax.text(*at, text, ha="center", va="top", fontsize=12, color=line_colour)
        held = _holds_without_pushing(self.technique) and self.held_since is not None
        if held and event.kind == "response":
            span = [self.held_since, placed.server_x]
            self.ax.plot(span, [SERVER_Y + 0.06] * 2, color=line_colour, **HELD_STYLE)
            self.held_since = None

    def publish(self, placed: PlacedEvent) -> None:
        at = (placed.server_x, SERVER_Y + 0.18)
        self.ax.plot(*at, marker="*", markersize=14, color="black", linestyle="none")

    def draw(self, placed: PlacedEvent) -> None:
        kind = placed.event.kind
        if kind in UP_KINDS:
            self.up(placed)
        elif kind in OPENING_KINDS:
            self.opening(placed)
        elif kind in DOWN_KINDS:
            self.down(placed)
        elif kind == "publish":
            self.publish(placed)


@classroom
def plot_technique_timeline(
    events: Sequence[TraceEvent],
    technique: str,
    ax: Axes | None = None,
    *,
    span_s: tuple[float, float] | None = None,
) -> Axes:
    """One technique's recorded trace as a sequence diagram: client below, server above.

    Long polling shows how long each request was held at the server; WebSocket and SSE show
    their one connection staying open. Arrows are slanted and nudged by :func:`place_events`
    (at most a few pixels) so that every one can be seen.
    """
    ax = panel_axes(ax, (16, 3.2))
    times = [event.t for event in events] or [0.0, 1.0]
    start, end = span_s or (min(times), max(times))
    end = max(end, start + 1e-3)
    diagram = _Diagram(ax, technique, end, slant=0.006 * (end - start))
    ax.axhline(CLIENT_Y, color="black", linewidth=1.2)
    ax.axhline(SERVER_Y, color="black", linewidth=1.2)
    for placed in place_events(events, diagram.slant):
        diagram.draw(placed)
    ax.set_xlim(start - 2 * diagram.slant, end + 3 * diagram.slant)
    ax.set_ylim(-0.35, 1.45)
    ax.set_yticks([CLIENT_Y, SERVER_Y], ["client", "server"])
    ax.grid(False)
    ax.spines[["left", "top", "right"]].set_visible(False)
    ax.set_xlabel("seconds since the trace started")
    ax.set_title(f"{label(technique)}: {_timeline_counts(events)}", loc="left", fontsize=15)
    return ax


def _legend_lines() -> list[Line2D]:
    held = next((name for name in NAMES if _holds_without_pushing(name)), None)
    lines = [
        Line2D([], [], color=REQUEST_COLOUR, lw=1.6, marker=">", label="request ↑"),
        Line2D(
            [], [], color="dimgray", lw=2.4, marker=">", label="answer or push carrying a message ↓"
        ),
        Line2D([], [], label="empty answer ↓", **EMPTY_STYLE),
        Line2D(
            [],
            [],
            color="black",
            marker="*",
            markersize=14,
            linestyle="none",
            label="message published",
        ),
    ]
    if held is not None:
        lines.append(
            Line2D(
                [],
                [],
                color=colour(held),
                lw=5,
                alpha=0.45,
                label=f"{label(held)} held at the server",
            )
        )
    return lines


@classroom
def plot_timeline(
    trace: dict[str, list[TraceEvent]],
    *,
    techniques: Sequence[str] | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """A few real seconds of every technique, stacked on one time axis (see the single panel)."""
    techniques = [t for t in (techniques or NAMES) if t in trace]
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
        plot_technique_timeline(trace[technique], technique, ax, span_s=span)
        if ax is not panels[-1]:
            ax.set_xlabel("")
    if axes is None:
        figure.legend(handles=_legend_lines(), loc="outside lower center", ncols=5, fontsize=12)
        figure.suptitle("A few real seconds of each technique: what crosses the wire")
    return figure
