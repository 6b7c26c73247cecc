"""write_plots draws in forked processes when it has two CPUs: the same files and reasons as
drawing one by one, and a drawing's bug still reaches the caller."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from pushlab.bench.analysis.results import Results
from pushlab.bench.core.sweep import FigureSpec
from pushlab.bench.presentation import figures

DRAWN_BY: list[Path] = []  # where _line writes the id of the process that drew it


def _line(results: Results) -> Figure:
    with DRAWN_BY[0].open("a") as drawn_by:
        drawn_by.write(f"{os.getpid()}\n")
    figure = Figure()
    figure.add_subplot().plot(results.summary["x"], results.summary["y"])
    return figure


def _missing(results: Results) -> Figure:
    raise ValueError("this run has no such sweep")


def _broken(results: Results) -> Figure:
    raise RuntimeError("a bug in a drawing")


SPECS = (
    FigureSpec("first", "First", "", _line),
    FigureSpec("absent", "Absent", "", _missing),
    FigureSpec("second", "Second", "", _line),
)
RUN = Results(Path("made-up"), pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]}), {})


def _outcome(drawn: list[figures.DrawnFigure]) -> list[tuple[str, str | None, str]]:
    return [(d.spec.name, d.path.name if d.path else None, d.reason) for d in drawn]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to draw in two")
def test_drawing_in_two_processes_gives_what_drawing_in_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(figures, "all_figures", lambda: SPECS)
    DRAWN_BY[:] = [tmp_path / "parallel-pids"]
    parallel = figures.write_plots(RUN, tmp_path / "parallel")
    monkeypatch.setattr(figures.os, "sched_getaffinity", lambda pid: {0})
    DRAWN_BY[:] = [tmp_path / "serial-pids"]
    serial = figures.write_plots(RUN, tmp_path / "serial")
    drawn_by = {
        way: set((tmp_path / f"{way}-pids").read_text().split()) for way in ("parallel", "serial")
    }
    assert str(os.getpid()) not in drawn_by["parallel"]  # drawn in the forked processes
    assert drawn_by["serial"] == {str(os.getpid())}
    expected = [
        ("first", "first.png", ""),
        ("absent", None, "this run has no such sweep"),
        ("second", "second.png", ""),
    ]
    assert _outcome(parallel) == _outcome(serial) == expected
    for name in ("first", "second"):
        assert (tmp_path / "parallel" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_a_bug_in_a_drawing_reaches_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        figures, "all_figures", lambda: (*SPECS, FigureSpec("bug", "", "", _broken))
    )
    DRAWN_BY[:] = [tmp_path / "pids"]
    with pytest.raises(RuntimeError, match="a bug in a drawing"):
        figures.write_plots(RUN, tmp_path)
