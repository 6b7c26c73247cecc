"""The radio sweep's columns: the model of ``radio.py`` run over each sampled client's timeline.

The generator recorded every write of every k-th client (``bench/measuring/radio_recorder.py``);
the radio part noted when the window's wait began and ended. For each sampled client the state
machine runs from the client's first write (its connection) and is counted over the window only,
so the window starts in whatever state the client's earlier traffic left the radio. A row gives,
for each radio profile, the sampled clients' mean energy per hour, their energy per message they
received in the window (all the energy, heartbeats included, over the messages), the fraction
of the window their radio was awake, and their promotions per hour.

A short window can read high. After a client's connecting its radio stays awake for a tail
(LTE 10.12 s, 3G 17 s): a window opened sooner than that after the sampled clients connected
counts part of that tail, and a window shorter than the tail cannot see a radio that sparse
traffic would let fall asleep. Both overstate the energy wherever the traffic would let the
radio drop to a lower-power state: LTE traffic sparser than the tail, and on 3G also small
writes that would leave DCH for FACH (the connection's burst holds it in DCH). The row says how
long after the last sampled connection its window opened (``radio_settle_s``) and, per profile,
whether its window was short in either sense (``radio_short_window_<profile>``); the radio
sweep's own windows are long in both senses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pushlab.bench.analysis.radio import RadioUse, Timeline, radio_use, tail_s
from pushlab.radio_profiles import PROFILES

METRICS = ("j_per_hour", "j_per_message", "awake_fraction", "promotions_per_hour")
"""What each profile adds to a row (``column_name`` names them)."""


def column_name(metric: str, profile: str) -> str:
    """``radio_j_per_hour_lte``: one metric of one profile."""
    return f"radio_{metric}_{profile}"


@dataclass(frozen=True)
class RadioRecord:
    """What the radio part noted: the window's wait on the clients' clock (epoch s), and how
    many users were sampled."""

    window_start: float
    window_end: float
    sample_every: int


def timelines(deliveries: dict[str, np.ndarray]) -> dict[int, Timeline]:
    """Each sampled user's timeline, from the generator's ``radio_*`` arrays."""
    if "radio_user" not in deliveries:
        return {}
    users, at, size = deliveries["radio_user"], deliveries["radio_at"], deliveries["radio_bytes"]
    return {
        int(user): Timeline.signed(at[users == user], size[users == user])
        for user in np.unique(users)
    }


def messages_received(
    deliveries: dict[str, np.ndarray], user: int, first_id: int, last_id: int
) -> int:
    """How many of the window's messages (ids ``first_id``–``last_id``) the user received."""
    mine = deliveries["user"] == user
    ids = deliveries["message_id"][mine]
    return len(np.unique(ids[(ids >= first_id) & (ids <= last_id)]))


def summarise(uses: list[RadioUse], messages: list[int]) -> dict[str, float]:
    """One profile's metrics over the sampled clients (energy per message: all their energy
    over all the messages they received)."""
    if not uses:
        return dict.fromkeys(METRICS, float("nan"))
    energy_j = sum(use.energy_j for use in uses)
    hours = sum(use.duration_s for use in uses) / 3600
    return {
        "j_per_hour": energy_j / hours,
        "j_per_message": energy_j / sum(messages) if sum(messages) else float("nan"),
        "awake_fraction": sum(use.awake_s for use in uses) / (hours * 3600),
        "promotions_per_hour": sum(use.promotions for use in uses) / hours,
    }


def settle_s(found: dict[int, Timeline], window_start: float) -> float:
    """How long after the last sampled client's first write (its connection) the window
    opened; NaN with no timelines."""
    firsts = [float(t.at_s.min()) for t in found.values() if len(t.at_s)]
    return window_start - max(firsts) if firsts else float("nan")


def short_window(window_s: float, settled_s: float, tail: float) -> bool:
    """Whether a window may read high for traffic sparser than ``tail``: it is shorter than
    the tail, or opened within one of the connections (unknown settling counts as short)."""
    return window_s < tail or not settled_s >= tail


def radio_columns(window: Any, record: RadioRecord | None) -> dict[str, Any]:
    """The row's radio columns, from the original window (``core/window.py``'s ``Window``)."""
    found = timelines(window.deliveries) if record is not None else {}
    columns: dict[str, Any] = {
        "radio_clients": len(found),
        "radio_sample_every": record.sample_every if record is not None else 0,
    }
    if found and record is not None:
        columns["radio_settle_s"] = settled = settle_s(found, record.window_start)
        for profile in PROFILES.values():
            columns[column_name("short_window", profile.name)] = short_window(
                record.window_end - record.window_start, settled, tail_s(profile)
            )
    first_id, last_id = int(window.before["last_id"]) + 1, int(window.after["last_id"])
    for profile in PROFILES.values():
        uses, messages = [], []
        if record is not None:
            for user, timeline in found.items():
                uses.append(radio_use(timeline, profile, record.window_start, record.window_end))
                messages.append(messages_received(window.deliveries, user, first_id, last_id))
        for metric, value in summarise(uses, messages).items():
            columns[column_name(metric, profile.name)] = value
    if not found:
        columns["notes"] = "radio: no client timelines were recorded"
    return columns
