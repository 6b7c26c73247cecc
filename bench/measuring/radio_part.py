"""The radio sweep's part of a scenario: every k-th client's traffic, kept as a timeline.

The generator records every write of every k-th user where its bytes pass, its sockets
(``radio_recorder.py``, switched on by ``--radio-sample-every``). This part asks for that, notes
when the window's wait began and ended (on the wall clock the recorder uses), and after the
drain keeps the timelines in the results directory, ``timelines/<scenario>.npz``
(``analysis/radio_curves.py``'s ``save_timelines`` says what the file holds). The columns come
from ``analysis/radio_window.py``.

The radio sweep's scenarios carry a *named* part (``-radio5`` in their ids: their own long
windows). The default rows of the rate and interval sweeps carry an unnamed one: recording adds
no scenario and no window, so they keep their ids and stay shared with the other sweeps
(``core/matrix.py``'s ``unique_scenarios`` gives a shared scenario every unnamed part).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from pushlab.bench.analysis.radio_curves import TIMELINES_DIR, RecordedRun, save_timelines
from pushlab.bench.analysis.radio_window import RadioRecord, radio_columns
from pushlab.bench.core.scenario import Part, ScenarioRun, Session


@dataclass(frozen=True)
class RadioPart(Part):
    """Record the traffic of every ``sample_every``-th client for the radio model."""

    sample_every: int = 1
    named: bool = True  # False: riding on a default row, whose id stays as it was

    @property
    def key(self) -> str:
        return "radio"

    def id_suffix(self) -> str:
        return f"-radio{self.sample_every}" if self.named else ""

    def words(self) -> str:
        return f", the traffic of one client in {self.sample_every} recorded for the radio model"

    def generator_args(self) -> list[str]:
        return ["--radio-sample-every", str(self.sample_every)]

    def session(self, run: ScenarioRun) -> Session:
        return RadioSession(self, run)

    def columns(self, reduced: Any) -> dict[str, Any]:
        return radio_columns(reduced.original, reduced.original.records.get(self.key))


class RadioSession(Session):
    def __init__(self, part: RadioPart, run: ScenarioRun) -> None:
        self.part, self.run = part, run
        self.window_start = self.window_end = math.nan

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        self.window_start = time.time()
        yield
        self.window_end = time.time()

    def record(self, last_id: int) -> RadioRecord:
        """Keep the timelines beside the run's other files (the generator has written them)."""
        scenario = self.run.scenario
        with np.load(self.run.raw_path) as raw:
            arrays = {key: raw[key] for key in raw.files if key.startswith("radio_")}
        window = RecordedRun(
            scenario.technique,
            scenario.publish_rate,
            scenario.poll_interval,
            self.window_start,
            self.window_end,
            {},
        )
        save_timelines(self.run.results_dir / TIMELINES_DIR, scenario.id, arrays, window)
        return RadioRecord(self.window_start, self.window_end, self.part.sample_every)
