"""The measurement window's record, as the harness hands it to the measurement.

These types live below both ``measuring`` (which fills them) and ``analysis`` (which reduces
them to a row), so that neither imports the other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pushlab.bench.core.scenario import Scenario

OPEN_END = int(np.iinfo(np.int64).max)
"""The ``gap_to`` of a gap with no last id: every id from ``gap_from`` on, in that feed.

A client that meets a new feed (a restarted server whose feed lived in memory) knows exactly
which messages it missed, as a set: everything the old feed published after its cursor. Nobody
can list those ids (the server died holding them), so the client records the gap open-ended.
The largest int64, so that the generators' arrays hold it and ``from <= id <= to`` reads it
right; never iterate ``range(from, to + 1)`` over it (``analysis/recovery.py`` does not)."""


@dataclass(frozen=True)
class Sample:
    """The server process at one moment (``measuring/sampling.py`` takes them)."""

    monotonic: float
    phase: str
    cpu_percent: float  # of one core, since the previous sample
    rss_mb: float
    num_fds: int
    num_connections: int


@dataclass(frozen=True)
class WindowOverhead:
    """Bytes of the harness's own ``/stats`` exchanges that the server metered in the window."""

    bytes_in: int
    bytes_out: int
    extended_s: float


@dataclass(frozen=True)
class Window:
    """Everything one scenario's measurement window produced, before it is reduced to a row.

    ``before`` and ``after`` are the bodies of the two ``/stats`` snapshots; ``opened_at`` is
    the wall-clock time (epoch s, the clients' clock) just after the opening snapshot, and
    ``start_monotonic`` the harness's monotonic clock when the window opened (the samples'
    clock). ``deliveries`` holds the generator's arrays (see ``measuring/generator.py``);
    ``records`` what each of the scenario's parts recorded (by ``Part.key``).
    """

    scenario: Scenario
    before: dict[str, Any]
    after: dict[str, Any]
    overhead: WindowOverhead
    opened_at: float
    start_monotonic: float
    generator_cpu_percent: float
    baseline_rss_mb: float
    samples: tuple[Sample, ...]
    generator_report: dict[str, Any]
    deliveries: dict[str, np.ndarray] = field(repr=False)
    cores_short: bool = False  # fewer CPUs than server workers + generator processes
    records: Mapping[str, Any] = field(default_factory=dict)
    closed_at: float = math.nan  # epoch s, just after the closing snapshot (NaN: unknown)


@dataclass(frozen=True)
class Reduced:
    """What a part's columns are computed from: the window as recorded (``original``), the
    window the core columns describe (``narrowed``), the clients that had to receive every
    message, and the indices of the first receipts of window messages in ``narrowed``."""

    original: Window
    narrowed: Window
    expected_users: set[int]
    counted: np.ndarray
