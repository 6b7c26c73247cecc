"""The matrix of a run: its base settings in each mode, and every (sweep, scenario) pair.

A scenario that belongs to two sweeps (100 clients at 1 msg/s is on the clients, rate and
interval sweeps) is measured once and written once per sweep, under the same ``scenario`` id.
The sweeps themselves are plug-ins (``bench/sweeps/``); this module only asks each chosen one
for its scenarios, in registry order.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pushlab.bench.core.scenario import MatrixSettings, Scenario
from pushlab.bench.core.sweep import chosen, registered
from pushlab.techniques import PEER_NAMES

MODES = ("quick", "default", "full")

BASE_CHANGES: dict[str, dict[str, Any]] = {
    "quick": {
        "clients": (10, 40),
        "rates": (1.0, 4.0),
        "base_rate": 1.0,  # short windows that still hold three messages
        "intervals": (0.25, 1.0),
        "base_clients": 40,
        "duration_s": 3.0,
        "warmup_s": 0.5,
        "arrivals": "periodic",  # a fixed number of messages per window: the tests need some
        "trace_s": 3.0,
    },
    "default": {},
    "full": {
        "clients": (10, 100, 1000, 2000),
        "push_clients": (5000,),
        "rates": (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0),
        "intervals": (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
        "duration_s": 15.0,
        "warmup_s": 3.0,
        "peers": PEER_NAMES,
    },
}
"""How ``--quick`` and ``--full`` change the base settings (each sweep has its own changes)."""


def settings_for(mode: str) -> MatrixSettings:
    """The matrix of ``mode``: the base values, the sweeps it runs, and each sweep's settings."""
    sweeps = registered()
    runs = [s.name for s in sweeps if (s.in_full if mode == "full" else s.in_default)]
    own = {s.name: s.settings_for(mode) for s in sweeps if s.settings is not None}
    return MatrixSettings(**BASE_CHANGES[mode], sweeps=tuple(runs), own=own)


def sweep_names() -> tuple[str, ...]:
    """What ``--sweeps`` may name, in registry order."""
    return tuple(sweep.name for sweep in registered())


def build_matrix(settings: MatrixSettings) -> list[tuple[str, Scenario]]:
    """Every (sweep, scenario) pair of the fixed sweeps, in the order they are run; scenarios
    may repeat. A sweep that runs on each feed does so feed by feed. Adaptive sweeps
    (``Sweep.search``) choose their scenarios while they run."""
    rows: list[tuple[str, Scenario]] = []
    for sweep in chosen(settings):
        if sweep.scenarios is None:
            continue
        made = sweep.scenarios(settings)
        if sweep.on_feeds:
            made = [replace(item, feed=feed) for feed in settings.feeds for item in made]
        rows += [(sweep.name, item) for item in made]
    return rows


def unique_scenarios(matrix: list[tuple[str, Scenario]]) -> list[Scenario]:
    """Each scenario once, in first-seen order (a shared one is measured once).

    A part that does not name itself in the id (``Part.id_suffix`` empty) rides on a scenario
    without changing what it is: a shared scenario is measured with every such part any of its
    sweeps gave it (one of each ``key``, the first seen)."""
    seen: dict[str, Scenario] = {}
    for _sweep, item in matrix:
        first = seen.setdefault(item.id, item)
        keys = {part.key for part in first.parts}
        riding = tuple(p for p in item.parts if not p.id_suffix() and p.key not in keys)
        if riding:
            seen[item.id] = replace(first, parts=(*first.parts, *riding))
    return list(seen.values())
