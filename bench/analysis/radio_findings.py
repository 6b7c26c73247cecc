"""The radio sweep's findings: what each technique cost a phone's radio, which heartbeat keeps
it awake, and where push and polling cross. Every number comes from the run's own rows and
timelines, through the model of ``radio.py``; a run without radio rows writes nothing.

The rows are the radio sweep's when the run has it (long windows), else any rows that recorded
timelines: ``make bench``'s rate and interval rows, whose short windows the findings name.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pushlab.bench.analysis.radio import tail_s
from pushlab.bench.analysis.radio_curves import (
    RATES,
    crossings,
    modelled_j_per_hour,
    recorded_runs,
    sizes_by_technique,
)
from pushlab.bench.analysis.radio_traffic import SERVER_HEARTBEATS, WriteSizes
from pushlab.bench.analysis.radio_window import column_name
from pushlab.bench.analysis.results import Results
from pushlab.bench.core.columns import plain_number
from pushlab.radio_profiles import LTE, PROFILES, RadioProfile
from pushlab.techniques import NAMES, POLLING, TECHNIQUES
from pushlab.techniques import label as technique_label

fmt = plain_number
PUSHERS = tuple(name for name in NAMES if TECHNIQUES[name].pushes)


def _recorded(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.drop_duplicates("scenario")
    if rows.empty or "radio_clients" not in rows:
        return rows.iloc[0:0]
    return rows[rows["radio_clients"] > 0]


def radio_rows(results: Results) -> pd.DataFrame:
    """The rows that recorded timelines, each scenario once: the radio sweep's (its long
    windows) if it has any, else every other row that carries them (the default run's)."""
    own = _recorded(results.sweep("radio"))
    return own if not own.empty else _recorded(results.summary)


def _span(values: pd.Series) -> str:
    """``6 s``, or ``6–12 s`` when the values differ."""
    low, high = fmt(values.min()), fmt(values.max())
    return f"{low} s" if low == high else f"{low}–{high} s"


def short_windows(rows: pd.DataFrame, profiles: Sequence[RadioProfile]) -> str:
    """A sentence on the rows whose window was short for any of ``profiles``
    (``radio_window.py``), or nothing: how long their windows were, how soon after connecting
    they opened, and where the long windows are."""
    flags = {p: column_name("short_window", p.name) for p in profiles}
    flags = {p: flag for p, flag in flags.items() if flag in rows and rows[flag].eq(True).any()}
    if not flags:
        return ""
    short = rows[np.logical_or.reduce([rows[flag].eq(True) for flag in flags.values()])]
    settled = short["radio_settle_s"].dropna()
    opened = f", opened {_span(settled)} after connecting" if len(settled) else ""
    lasted = _span(short["duration_s"]) + opened
    which = "all these rows" if len(short) == len(rows) else f"{len(short)} of these rows"
    tails = " or ".join(f"{p.label}'s {tail_s(p):g} s tail" for p in flags)
    return (
        f" Caveat: {which} had a window shorter than {tails} or opened within one of the "
        f"connections ({lasted}): their energy reads high wherever the traffic would let the "
        "radio drop to a lower-power state (it counts the connection's tail and cannot see the "
        "radio fall asleep); `pushlab bench --sweeps radio` measures long windows."
    )


def _name(row: pd.Series) -> str:
    return technique_label(row["technique"], row["poll_interval"])


def energy_finding(results: Results) -> str | None:
    """Energy per client-hour and per message on LTE, technique by technique, at each rate."""
    rows = radio_rows(results)
    if rows.empty:
        return None
    parts = []
    for rate, at_rate in rows.groupby("publish_rate"):
        ordered = at_rate.sort_values(column_name("j_per_hour", LTE.name))
        cells = [
            f"{_name(row)} {fmt(row[column_name('j_per_hour', LTE.name)])} J/h "
            f"({fmt(row[column_name('j_per_message', LTE.name)])} J/msg, radio awake "
            f"{row[column_name('awake_fraction', LTE.name)]:.0%})"
            for _, row in ordered.iterrows()
        ]
        parts.append(f"at {rate:g} msg/s: " + ", ".join(cells))
    sampled = int(rows["radio_clients"].min())
    return (
        f"On LTE (ARO's default profile), the modelled radio energy of the sampled clients' "
        f"real traffic (at least {sampled} per row), cheapest first — "
        + "; ".join(parts)
        + f". One lone LTE wake-up costs a promotion and a {tail_s(LTE):g} s tail; traffic "
        "more often than that keeps the radio awake. A model over measured traffic, not a "
        "measured phone." + short_windows(rows, [LTE])
    )


def heartbeat_j_per_hour(
    technique: str,
    poll_interval_s: float | None,
    profile: RadioProfile,
    sizes: WriteSizes,
    stretch: float = 1.0,
) -> float:
    """The energy per hour of a technique's traffic with no news at all (its heartbeat alone),
    its period stretched by ``stretch``: the model lines' traffic at a publish rate of 0."""
    return modelled_j_per_hour(
        technique,
        0.0,
        profile,
        poll_interval_s=None if poll_interval_s is None else poll_interval_s * stretch,
        sizes=sizes,
        heartbeats=SERVER_HEARTBEATS.stretched(stretch),
    )


def heartbeat_finding(results: Results) -> str | None:
    """For each technique, what wakes its radio when there is no news, and what changing it
    would save (the model on that heartbeat alone, on each profile)."""
    rows = radio_rows(results)
    if rows.empty:
        return None
    sizes = sizes_by_technique(recorded_runs(results.path))
    parts = []
    for technique, poll_interval in (
        rows[["technique", "poll_interval"]].drop_duplicates().itertuples(index=False)
    ):
        interval = None if pd.isna(poll_interval) else float(poll_interval)
        period_s, what = SERVER_HEARTBEATS.of(technique, interval)
        if not period_s:
            continue
        own = sizes.get(technique, WriteSizes())
        cells = []
        for profile in PROFILES.values():
            now_j = heartbeat_j_per_hour(technique, interval, profile, own)
            doubled_j = heartbeat_j_per_hour(technique, interval, profile, own, stretch=2.0)
            awake = "keeps it awake" if period_s < tail_s(profile) else "wakes it each time"
            change = now_j - doubled_j
            effect = f"saves {fmt(change)}" if change >= 0 else f"costs {fmt(-change)} more"
            cells.append(
                f"on {profile.label} it {awake} ({profile.label} tail {tail_s(profile):g} s): "
                f"{fmt(now_j)} J/h, every {2 * period_s:g} s {fmt(doubled_j)} J/h ({effect})"
            )
        parts.append(
            f"{technique_label(technique, interval)}: {what} every {period_s:g} s — "
            + "; ".join(cells)
        )
    if not parts:
        return None
    return (
        "With no news, what wakes each technique's radio, and what doubling its period would "
        "save (the model on that traffic alone, write sizes as measured): " + ". ".join(parts) + "."
    )


def crossover_rates(
    results: Results, profile: RadioProfile
) -> list[tuple[str, float, list[float]]]:
    """(push technique, poll interval, rates where its modelled line crosses polling's)."""
    rows = radio_rows(results)
    sizes = sizes_by_technique(recorded_runs(results.path))
    intervals = sorted(
        rows.loc[rows["technique"] == POLLING.name, "poll_interval"].dropna().unique()
    )
    pushers = [name for name in PUSHERS if name in set(rows["technique"])]
    rates = np.array(RATES)
    found = []
    for interval in intervals:
        polling = np.array(
            [
                modelled_j_per_hour(
                    POLLING.name,
                    rate,
                    profile,
                    poll_interval_s=float(interval),
                    sizes=sizes.get(POLLING.name, WriteSizes()),
                )
                for rate in rates
            ]
        )
        for name in pushers:
            line = np.array(
                [
                    modelled_j_per_hour(name, rate, profile, sizes=sizes.get(name, WriteSizes()))
                    for rate in rates
                ]
            )
            found.append((name, float(interval), crossings(rates, line, polling)))
    return found


def crossover_finding(results: Results) -> str | None:
    """Where each push technique's energy line crosses polling's, on each profile."""
    rows = radio_rows(results)
    if rows.empty or POLLING.name not in set(rows["technique"]):
        return None
    parts = []
    for profile in PROFILES.values():
        cells = []
        for name, interval, rates in crossover_rates(results, profile):
            where = (
                " and ".join(f"{rate:.2g} msg/s" for rate in rates)
                if rates
                else f"nowhere from {RATES[0]:g} to {RATES[-1]:g} msg/s"
            )
            cells.append(f"{technique_label(name)} × polling every {interval:g} s: {where}")
        parts.append(f"{profile.label}: " + "; ".join(cells))
    return (
        "Publish rates where a push technique's modelled radio energy per client-hour crosses "
        "polling's (on either side of a crossing, a different one costs the phone less): "
        + ". ".join(parts)
        + "."
    )
