"""The two sweeps of a real network: round-trip times, and faults (issue 12).

- ``network``: every technique at ``base_clients`` and ``base_rate``, at each RTT of
  ``rtts_ms`` (the default matrix: 100 ms; ``--full``: 0, 20, 100, 300 ms), through the
  emulator (``pushlab.netem``). RTT 0 still goes through it, so the sweep's first point measures
  the emulator's own cost and every point is compared like with like. With
  ``rates_at_rtt_ms`` (``--full``: 100 ms) it also runs every publish rate of ``rates`` at that
  RTT: long polling's transits per message depend on the rate.
- ``faults``: every technique once per fault of ``faults`` (drop, stall, restart), at the base
  client count and ``fault_rate`` (10 msg/s: a reconnect takes a tenth of a second or more, so
  messages are published while a client is away), through the emulator with no added delay;
  the harness injects the fault a third of the way into the window, while the publisher keeps
  publishing. With ``no_resume``
  the techniques whose clients stay connected run each fault a second time, their users
  starting from the feed's present after a reconnect: the table then shows what the cursor buys.

Polling has no connection to resume: its next poll carries the cursor anyway.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from pushlab.techniques import technique as technique_entry

if TYPE_CHECKING:
    from pushlab.bench.measuring.scenarios import MatrixSettings, Scenario

FAULTS = ("drop", "stall", "restart")
FAULT_AT_FRACTION = 1 / 3
"""The fault comes this far into the window: time before it to see the steady state, after it
to see the recovery."""
MIN_FAULT_WINDOW_S = 6.0
"""A fault window is at least this long, and long enough for the fault, a stall included, to
end with twice its length still to go."""

Builder = Callable[["MatrixSettings", str, int, float, float], "Scenario"]


def fault_window_s(duration_s: float, fault: str, stall_s: float) -> float:
    held_s = stall_s if fault == "stall" else 0.0
    return max(duration_s, MIN_FAULT_WINDOW_S, math.ceil(3 * held_s / (1 - FAULT_AT_FRACTION)))


def network_rows(settings: MatrixSettings, build: Builder) -> list[tuple[str, Scenario]]:
    """The (sweep, scenario) pairs of the network and fault sweeps, in the order they run."""
    rows: list[tuple[str, Scenario]] = []
    for technique in settings.techniques:
        base = build(
            settings, technique, settings.base_clients, settings.base_rate, settings.base_interval
        )
        if "network" in settings.sweeps:
            for rtt_ms in sorted(set(settings.rtts_ms)):
                rows.append(("network", replace(base, rtt_ms=rtt_ms, jitter_ms=settings.jitter_ms)))
            if settings.rates_at_rtt_ms is not None:  # long polling's transits against the rate
                for rate in sorted(set(settings.rates)):
                    at_rate = build(
                        settings, technique, settings.base_clients, rate, settings.base_interval
                    )
                    network = {"rtt_ms": settings.rates_at_rtt_ms, "jitter_ms": settings.jitter_ms}
                    rows.append(("network", replace(at_rate, **network)))
        if "faults" in settings.sweeps:
            held = technique_entry(technique).holds_request
            rate = settings.fault_rate
            base = build(settings, technique, settings.base_clients, rate, settings.base_interval)
            for fault in settings.faults:
                stall_s = settings.stall_s if fault == "stall" else 0.0
                window = fault_window_s(base.duration_s, fault, stall_s)
                faulty = replace(base, rtt_ms=0.0, fault=fault, stall_s=stall_s, duration_s=window)
                rows.append(("faults", faulty))
                if settings.no_resume and held:
                    rows.append(("faults", replace(faulty, resume=False)))
    unique: dict[tuple[str, str], tuple[str, Scenario]] = {}
    for sweep, item in rows:  # a scenario twice in one sweep: once, in its first place
        unique.setdefault((sweep, item.id), (sweep, item))
    return list(unique.values())


def _network_parts(scenario: Scenario) -> list[tuple[str, str]]:
    """(id part, description part) for each setting that differs from plain loopback."""
    if scenario.rtt_ms is None:
        return []
    parts = [(f"-rtt{scenario.rtt_ms:g}", f", {scenario.rtt_ms:g} ms RTT")]
    if scenario.jitter_ms:
        parts.append((f"-j{scenario.jitter_ms:g}", f" + 0–{scenario.jitter_ms:g} ms jitter"))
    if scenario.fault:
        stall = f"{scenario.stall_s:g}" if scenario.fault == "stall" else ""
        words = f", {scenario.fault}" + (f" {stall} s" if stall else "")
        parts.append((f"-{scenario.fault}{stall}", words))
    if not scenario.resume:
        parts.append(("-noresume", ", no resume"))
    return parts


def network_suffix(scenario: Scenario) -> str:
    """``-rtt100-j10``, ``-rtt0-drop``, ``-rtt0-stall2-noresume``: the id's network part."""
    return "".join(part for part, _words in _network_parts(scenario))


def network_words(scenario: Scenario) -> str:
    """``, 100 ms RTT + 0–10 ms jitter``, ``, 0 ms RTT, stall 2 s``: the description's part."""
    return "".join(words for _part, words in _network_parts(scenario))
