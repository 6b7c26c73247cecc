"""A sweep is one file and one registry line: a toy sweep, defined here, runs end to end.

``TOY`` below is everything a new lane writes: its options, settings, scenarios, a part with a
hook around the window and a column, a finding and a table. Registering it is the one line
``SWEEPS = (*SWEEPS, TOY)`` (done with monkeypatch, so the real registry is left alone). The
test then runs the bench through its CLI, on real processes, and finds the toy's rows, its
column and its finding in the results.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pushlab.bench.sweeps
from pushlab.bench import cli
from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import (
    MatrixSettings,
    Part,
    Scenario,
    ScenarioRun,
    Session,
    at_base,
)
from pushlab.bench.core.sweep import Sweep

# --- The toy sweep: what a new lane's module holds ------------------------------------------


@dataclass(frozen=True)
class ToySettings:
    clients: int = 3


@dataclass(frozen=True)
class Watched(Part):
    """Reads the feed's last id as the window opens and closes: its own view of the window."""

    def id_suffix(self) -> str:
        return "-toy"

    def session(self, run: ScenarioRun) -> Session:
        return WatchedSession(run)

    def columns(self, reduced: Any) -> dict[str, Any]:
        first, last = reduced.original.records[self.key]
        return {"toy_ids_seen": last - first, "notes": "watched by the toy sweep"}


class WatchedSession(Session):
    def __init__(self, run: ScenarioRun) -> None:
        self.run = run
        self.ids: tuple[int, int] = (0, 0)

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        first = int(self.run.stats()["last_id"])
        yield
        self.ids = (first, int(self.run.stats()["last_id"]))

    def record(self, last_id: int) -> tuple[int, int]:
        return self.ids


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--toy-clients", type=int, help="clients of the toy sweep")


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"clients": args.toy_clients} if args.toy_clients else {}


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    own: ToySettings = settings.of("toy")
    return [
        replace(at_base(settings, name), clients=own.clients, parts=(Watched(),))
        for name in settings.techniques
    ]


def toy_finding(results: Any) -> str | None:
    rows = results.sweep("toy")
    if rows.empty:
        return None
    return f"The toy sweep watched {int(rows['toy_ids_seen'].sum())} ids go by."


TOY = Sweep(
    name="toy",
    title="Toy sweep: a lane added in one file",
    scenarios=scenarios,
    settings=ToySettings(),
    options=options,
    from_options=from_options,
    columns=(c.count("toy_ids_seen", "ids seen", "ids published while the toy watched"),),
    table=("clients", "publish_rate", "toy_ids_seen"),
    findings=(toy_finding,),
)

# --- The test -------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_toy_sweep_in_one_file_and_one_line_runs_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pushlab.bench.sweeps, "SWEEPS", (*pushlab.bench.sweeps.SWEEPS, TOY))
    out = tmp_path / "run"
    argv = ["--quick", "--sweeps", "toy", "--techniques", "websocket", "--toy-clients", "2"]
    argv += ["--rates", "4", "--base-rate", "4", "--duration", "1", "--no-trace", "--out", str(out)]
    assert cli.main(argv) == 0

    summary = pd.read_csv(out / "summary.csv")
    (row,) = summary.to_dict("records")
    assert row["sweep"] == "toy" and row["scenario"] == "websocket-c2-r4-toy"
    assert row["clients"] == 2 and row["messages_delivered"] > 0
    assert list(summary.columns)[-1] == "toy_ids_seen"
    assert row["toy_ids_seen"] > 0 and "watched by the toy sweep" in row["notes"]
    report = (out / "report.md").read_text()
    assert "### Toy sweep: a lane added in one file" in report
    assert f"The toy sweep watched {row['toy_ids_seen']} ids go by." in report
