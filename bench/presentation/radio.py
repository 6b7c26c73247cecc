"""The radio sweep's figures: a phone's radio energy against publish rate and poll interval.

Points are the sampled clients' real traffic through the model (the rows' ``radio_j_per_hour_*``
columns); lines are the same model over each technique's rules (``analysis/radio_traffic.py``)
with the write sizes the run measured; crosses mark where a push line crosses a polling line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pushlab.bench.analysis import radio
from pushlab.bench.analysis.radio import Span, Timeline, state_power_w, tail_s
from pushlab.bench.analysis.radio_curves import (
    INTERVALS_S,
    RATES,
    crossings,
    modelled_j_per_hour,
    recorded_runs,
    sizes_by_technique,
)
from pushlab.bench.analysis.radio_findings import PUSHERS, radio_rows
from pushlab.bench.analysis.radio_traffic import WriteSizes
from pushlab.bench.analysis.radio_window import column_name
from pushlab.bench.analysis.results import Results
from pushlab.bench.presentation.style import (
    INTERVAL_DASHES,
    classroom,
    colour,
    figure_and_axes_row,
    legend,
    marker,
    note_entry,
)
from pushlab.radio_profiles import PROFILES, RadioProfile
from pushlab.techniques import NAMES, POLLING
from pushlab.techniques import label as technique_label


def _lines(
    rows: pd.DataFrame, profile: RadioProfile, sizes: dict[str, WriteSizes]
) -> dict[tuple[str, float | None], np.ndarray]:
    """The modelled J/h over ``RATES`` of each technique (polling: each interval the run has)."""
    intervals = sorted(
        rows.loc[rows["technique"] == POLLING.name, "poll_interval"].dropna().unique()
    )
    keys: list[tuple[str, float | None]] = [(POLLING.name, float(i)) for i in intervals]
    keys += [
        (name, None) for name in NAMES if name != POLLING.name and name in set(rows["technique"])
    ]
    return {
        (name, interval): np.array(
            [
                modelled_j_per_hour(
                    name,
                    rate,
                    profile,
                    poll_interval_s=interval,
                    sizes=sizes.get(name, WriteSizes()),
                )
                for rate in RATES
            ]
        )
        for name, interval in keys
    }


def plot_energy_vs_rate_panel(
    results: Results, profile: RadioProfile, ax: Axes, sizes: dict[str, WriteSizes]
) -> Axes:
    rows = radio_rows(results)
    lines = _lines(rows, profile, sizes)
    rates = np.array(RATES)
    polling_keys = [key for key in lines if key[0] == POLLING.name]
    for (name, interval), energy in lines.items():
        style = INTERVAL_DASHES[polling_keys.index((name, interval)) % 4] if interval else "-"
        ax.plot(rates, energy, style, color=colour(name), label=technique_label(name, interval))
    for _, row in rows.iterrows():
        ax.plot(
            row["publish_rate"],
            row[column_name("j_per_hour", profile.name)],
            marker(row["technique"]),
            color=colour(row["technique"]),
            markersize=11,
            markeredgecolor="black",
        )
    named = []
    for key in polling_keys:
        for name in PUSHERS:
            if (name, None) not in lines:
                continue
            for rate in crossings(rates, lines[(name, None)], lines[key]):
                at = np.interp(np.log(rate), np.log(rates), lines[key])
                ax.plot(rate, at, "x", color=colour(name), markersize=14, markeredgewidth=3)
                named.append(f"{technique_label(name)} × {technique_label(*key)}: {rate:.2g} msg/s")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("publish rate (msg/s)")
    ax.set_ylabel("radio energy per client-hour (J)")
    ax.set_title(f"{profile.label} (ARO defaults; tail {tail_s(profile):g} s)")
    crossed = [note_entry("× " + text) for text in named]  # listed: they often fall together
    legend(ax, crossed, fontsize=10, loc="best")
    return ax


@classroom
def plot_energy_vs_rate(results: Results, *, axes: Sequence[Axes] | None = None) -> Figure:
    """One panel per radio profile; raises ``ValueError`` if the run has no radio rows."""
    if radio_rows(results).empty:
        raise ValueError("the run has no radio rows with timelines")
    sizes = sizes_by_technique(recorded_runs(results.path))
    figure, panels = figure_and_axes_row(axes, len(PROFILES), (20, 7.5))
    for profile, ax in zip(PROFILES.values(), panels, strict=True):
        plot_energy_vs_rate_panel(results, profile, ax, sizes)
    if axes is None:
        figure.suptitle(
            "A phone's radio: energy per client-hour against the publish rate (× = crossing)"
        )
    return figure


@classroom
def plot_polling_vs_interval(results: Results, *, ax: Axes | None = None) -> Figure:
    """Polling's modelled energy against its interval, each profile, with the measured points."""
    rows = radio_rows(results)
    polled = rows[rows["technique"] == POLLING.name]
    if polled.empty:
        raise ValueError("the run has no polling rows with timelines")
    sizes = sizes_by_technique(recorded_runs(results.path)).get(POLLING.name, WriteSizes())
    rate = float(polled["publish_rate"].min())
    if ax is None:
        figure = Figure(figsize=(11, 7), layout="constrained")
        ax = figure.add_subplot()
    figure = ax.get_figure(root=True)
    for index, profile in enumerate(PROFILES.values()):
        style = INTERVAL_DASHES[index % 4]
        energy = [
            modelled_j_per_hour(POLLING.name, rate, profile, poll_interval_s=i, sizes=sizes)
            for i in INTERVALS_S
        ]
        ax.plot(INTERVALS_S, energy, style, color="black", label=f"{profile.label}, model")
        ax.axvline(tail_s(profile), linestyle=style, color="grey", linewidth=1)
        at_rate = polled[np.isclose(polled["publish_rate"], rate)]
        ax.plot(
            at_rate["poll_interval"],
            at_rate[column_name("j_per_hour", profile.name)],
            marker(POLLING.name),
            color=colour(POLLING.name),
            markersize=11,
            markeredgecolor="black",
            markerfacecolor=colour(POLLING.name) if index == 0 else "white",  # tell the two apart
            linestyle="none",
            label=f"{profile.label}, sampled clients",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("poll interval (s); grey lines: each profile's tail")
    ax.set_ylabel("radio energy per client-hour (J)")
    ax.set_title(f"Polling's radio energy against its interval, at {rate:g} msg/s")
    legend(ax, fontsize=11)
    return figure  # type: ignore[return-value]


STATE_COLOURS = {
    radio.IDLE: "#F0F0F0",
    radio.PROMOTION: "#E69F00",
    radio.FACH_PROMOTION: "#E69F00",
    radio.CONTINUOUS: "#D55E00",
    radio.DCH: "#D55E00",
    radio.TAIL: "#CC79A7",
    radio.SHORT_DRX: "#0072B2",
    radio.LONG_DRX: "#56B4E9",
    radio.FACH: "#56B4E9",
}
"""One colour per state (Okabe–Ito), hottest states warmest."""


def states_between(
    timeline: Timeline, profile: RadioProfile, start_s: float, end_s: float
) -> list[Span]:
    """The radio's states over ``[start_s, end_s]`` (idle before the first packet's promotion)."""
    drawn = radio.spans(timeline, profile, end_s)
    if drawn and start_s < drawn[0].start_s:
        drawn.insert(0, Span(start_s, drawn[0].start_s, radio.IDLE))
    return [
        Span(max(span.start_s, start_s), min(span.end_s, end_s), span.state)
        for span in drawn
        if span.end_s > start_s and span.start_s < end_s
    ]


@classroom
def plot_radio_states(
    timeline: Timeline,
    profile: RadioProfile,
    start_s: float,
    end_s: float,
    *,
    ax: Axes | None = None,
    title: str = "",
) -> Figure:
    """One client's radio over time: each state's power as a band, each write as a tick
    (up above the axis, down below), times from ``start_s``."""
    if ax is None:
        ax = Figure(figsize=(16, 5), layout="constrained").add_subplot()
    figure = ax.get_figure(root=True)
    seen: set[str] = set()
    for span in states_between(timeline, profile, start_s, end_s):
        power_w = state_power_w(profile, span.state)
        ax.fill_between(
            [span.start_s - start_s, span.end_s - start_s],
            0,
            max(power_w, 0.01),
            color=STATE_COLOURS[span.state],
            label=None if span.state in seen else f"{span.state} ({power_w:.2g} W)",
            linewidth=0,
        )
        seen.add(span.state)
    inside = (timeline.at_s >= start_s) & (timeline.at_s <= end_s)
    at = timeline.at_s[inside] - start_s
    sent = timeline.up_bytes[inside] > 0
    ax.vlines(at[sent], -0.25, -0.05, color="black", linewidth=1.5, label="a write sent")
    ax.vlines(at[~sent], -0.5, -0.3, color="grey", linewidth=1.5, label="a write received")
    ax.set_xlim(0, end_s - start_s)
    ax.set_ylim(-0.55, None)
    ax.set_xlabel("time in the window (s)")
    ax.set_ylabel("modelled radio power (W)")
    ax.set_title(title or f"{profile.label}: the radio's states over one client's traffic")
    legend(ax, fontsize=10, loc="upper right", ncol=2)
    return figure  # type: ignore[return-value]
