"""The radio model between the measured points: energy against publish rate and poll interval,
and where one technique's line crosses another's.

The lines run the model of ``radio.py`` over the made-up traffic of ``radio_traffic.py``, with the
write sizes a run measured for each technique (its ``timelines/``), so that a figure's points
(the sampled clients' real traffic) and its lines (the same model on the technique's rules)
can be held against each other.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pushlab.bench.analysis.radio import Timeline, radio_use, tail_s
from pushlab.bench.analysis.radio_traffic import (
    NO_SIZES,
    SERVER_HEARTBEATS,
    Heartbeats,
    WriteSizes,
    traffic,
    write_sizes,
)
from pushlab.radio_profiles import RadioProfile
from pushlab.techniques import behaviour

TIMELINES_DIR = "timelines"
RATES = tuple(float(r) for r in np.logspace(-2, 1, 16))
"""Publish rates of the modelled lines (msg/s): 0.01 to 10, evenly on a log axis."""
INTERVALS_S = (0.5, 1.0, 2.0, 5.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0, 60.0, 120.0)
"""Poll intervals of the modelled polling line (s): dense around the tails (10 s, 17 s)."""
SETTLE_S = 60.0
"""The model's first minute is left out: it starts idle, as no connected phone is."""


@dataclass(frozen=True)
class RecordedRun:
    """One scenario's sampled timelines and its window (``timelines/<scenario>.npz``)."""

    technique: str
    publish_rate: float
    poll_interval: float | None
    window_start: float
    window_end: float
    clients: dict[int, Timeline]


def save_timelines(
    folder: Path, scenario_id: str, arrays: dict[str, np.ndarray], run: RecordedRun
) -> Path:
    """Write one scenario's ``timelines/<scenario>.npz``: the recorder's ``radio_*`` arrays
    (``radio_user``, ``radio_at`` in epoch s, ``radio_bytes``: + sent, − received), the window
    and the scenario's technique, rate and poll interval (NaN if it does not poll). ``run``'s
    ``clients`` are not written: they are in the arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{scenario_id}.npz"
    np.savez(
        path,
        **arrays,
        window_start=np.float64(run.window_start),
        window_end=np.float64(run.window_end),
        technique=np.str_(run.technique),
        publish_rate=np.float64(run.publish_rate),
        poll_interval=np.float64(math.nan if run.poll_interval is None else run.poll_interval),
    )
    return path


def load_timelines(path: Path) -> RecordedRun:
    with np.load(path) as raw:
        users, at, size = raw["radio_user"], raw["radio_at"], raw["radio_bytes"]
        interval = float(raw["poll_interval"])
        return RecordedRun(
            str(raw["technique"]),
            float(raw["publish_rate"]),
            None if math.isnan(interval) else interval,
            float(raw["window_start"]),
            float(raw["window_end"]),
            {int(u): Timeline.signed(at[users == u], size[users == u]) for u in np.unique(users)},
        )


def recorded_runs(run_dir: Path) -> dict[str, RecordedRun]:
    """Every scenario's timelines in a results directory, by scenario id."""
    folder = run_dir / TIMELINES_DIR
    return {path.stem: load_timelines(path) for path in sorted(folder.glob("*.npz"))}


def sizes_by_technique(runs: dict[str, RecordedRun]) -> dict[str, WriteSizes]:
    """Each technique's typical write, from all its sampled clients' window traffic."""
    merged: dict[str, list[Timeline]] = {}
    for run in runs.values():
        for timeline in run.clients.values():
            inside = (timeline.at_s >= run.window_start) & (timeline.at_s < run.window_end)
            merged.setdefault(run.technique, []).append(
                Timeline(
                    timeline.at_s[inside], timeline.up_bytes[inside], timeline.down_bytes[inside]
                )
            )
    return {
        technique: write_sizes(
            Timeline(
                np.concatenate([t.at_s for t in parts]),
                np.concatenate([t.up_bytes for t in parts]),
                np.concatenate([t.down_bytes for t in parts]),
            ),
            answers=not behaviour(technique).pushes,
        )
        for technique, parts in merged.items()
    }


def modelled_j_per_hour(
    technique: str,
    publish_rate: float,
    profile: RadioProfile,
    *,
    poll_interval_s: float | None = None,
    sizes: WriteSizes = NO_SIZES,
    heartbeats: Heartbeats = SERVER_HEARTBEATS,
) -> float:
    """The model's energy per client-hour for one technique at one rate (J/h)."""
    return _modelled(technique, publish_rate, profile, poll_interval_s, sizes, heartbeats)


MODELLED_MESSAGES = 1000
"""Messages the modelled traffic of one line at one rate holds (its Poisson noise ~3 %), over
at least 20 heartbeat periods or tails (unless that is longer than ``MODELLED_LONGEST_S``):
enough for a rate's energy per hour. The model's cost grows with the events it draws, and the
report draws a grid of rates per technique and profile, so the traffic also stops at
``MODELLED_EVENTS`` events (a message, a poll, a heartbeat: each a write and its answer).
Polling every second at 0.01 msg/s is its polls, whose count, not the few messages, sets its
energy."""
MODELLED_EVENTS = 5000
MODELLED_LONGEST_S = 4 * 3600.0
"""The longest modelled traffic (s): a rate so low that 1,000 messages would take days is
told by its heartbeats."""


@functools.lru_cache(maxsize=4096)
def _modelled(
    technique: str,
    publish_rate: float,
    profile: RadioProfile,
    poll_interval_s: float | None,
    sizes: WriteSizes,
    heartbeats: Heartbeats,
) -> float:
    heartbeat_s = heartbeats.of(technique, poll_interval_s)[0]
    if not heartbeat_s > 0:
        raise ValueError(f"{technique}: a heartbeat or poll interval > 0 is needed to model it")
    period_s = max(heartbeat_s, tail_s(profile))
    events_per_s = publish_rate + 1 / heartbeat_s
    duration_s = min(
        max(20 * period_s, MODELLED_MESSAGES / publish_rate if publish_rate > 0 else 0),
        max(20 * period_s, MODELLED_EVENTS / events_per_s),
        MODELLED_LONGEST_S,
    )
    timeline = traffic(
        technique,
        publish_rate,
        SETTLE_S + duration_s,
        poll_interval_s=poll_interval_s,
        sizes=sizes,
        heartbeats=heartbeats,
    )
    return radio_use(timeline, profile, SETTLE_S, SETTLE_S + duration_s).energy_j_per_hour


TIE = 0.02
"""Two modelled lines closer than 2 % are level: a crossing is a change of which is clearly
above, so that the Poisson noise of two nearly equal lines does not cross them back and forth."""


def crossings(rates: np.ndarray, first: np.ndarray, second: np.ndarray) -> list[float]:
    """The rates where ``first`` goes from clearly below ``second`` to clearly above, or back,
    interpolated on log–log axes between the two grid points either side of the change."""
    difference = np.log(first) - np.log(second)
    found = []
    last: int | None = None  # the last grid point where one line was clearly above
    for i, d in enumerate(difference):
        if abs(d) < TIE:
            continue
        if last is not None and np.sign(d) != np.sign(difference[last]):
            a, b = difference[last], d
            log_a, log_b = math.log(rates[last]), math.log(rates[i])
            found.append(math.exp(log_a + a / (a - b) * (log_b - log_a)))
        last = i
    return found
