"""A sweep is a plug-in: one module in ``bench/sweeps/`` and one line in its registry.

A sweep owns everything that is its own: its options on ``pushlab bench`` (an argument group),
its settings with their quick, default and full values, the scenarios it adds to the matrix
from the base settings, the parts it adds to those scenarios (hooks around the run that nest,
and the row's columns: ``core/scenario.py``), its columns' metadata (appended to the row in
registry order, one flat ``summary.csv``), its findings, its report table and its figures.

The core — the CLI, the matrix, the harness, the measurement, the report — names no sweep: it
asks :func:`registered` for the list, the way pytest or pyperf find their plug-ins, and calls
each sweep through the fields below. The list is looked up by module name at call time, so
the core never imports a sweep module and a sweep module may import any of the core.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pushlab.bench.core.columns import Column
from pushlab.bench.core.scenario import MatrixSettings, Scenario

REGISTRY_MODULE = "pushlab.bench.sweeps"
"""The module whose ``SWEEPS`` tuple is the registry, in the order rows and columns appear."""

Finding = Callable[[Any], "str | None"]
"""A finding: the run's ``Results`` (``analysis/results.py``) → a sentence, or None."""


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the report: its file name, heading, what to look for, and how to draw it
    (``draw`` takes the run's ``Results`` and returns a matplotlib ``Figure``; it raises
    ``ValueError`` when the run has no data for it)."""

    name: str
    title: str
    caption: str | Callable[[Any], str]  # text, or the run's ``Results`` → text (a fact)
    draw: Callable[[Any], Any]

    def caption_for(self, results: Any) -> str:
        """The caption; one that states a fact is computed from the run it describes."""
        return self.caption if isinstance(self.caption, str) else self.caption(results)


@dataclass(frozen=True)
class Sweep:
    """One sweep of the bench (see the module's docstring)."""

    name: str
    title: str  # the heading of its table in the report
    scenarios: Callable[[MatrixSettings], list[Scenario]] | None = None
    search: Callable[[MatrixSettings, Callable[[Scenario], Any]], dict[str, Any]] | None = None
    """An adaptive sweep instead of fixed scenarios: given a function that measures one
    scenario and returns its row, it chooses its steps and returns its rows by scenario id."""
    settings: Any = None  # its own settings at the default matrix (a frozen dataclass)
    quick: Mapping[str, Any] = field(default_factory=dict)  # changes for --quick
    full: Mapping[str, Any] = field(default_factory=dict)  # changes for --full
    options: Callable[[argparse._ArgumentGroup], None] | None = None
    from_options: Callable[[argparse.Namespace], dict[str, Any]] | None = None
    """The changes its options make to its settings (only the options given)."""
    in_default: bool = False  # run without --sweeps
    in_full: bool = True  # run by --full
    on_feeds: bool = False  # run on each feed of --feed (else on the memory feed)
    measures_floor: bool = False  # the run then measures the machine's floor (``floor.py``)
    columns: tuple[Column, ...] = ()
    table: tuple[str, ...] | None = None  # its report table's columns (None: the standard)
    table_order: tuple[str, ...] = ("clients", "publish_rate")
    findings: tuple[Finding, ...] = ()
    figures: tuple[FigureSpec, ...] = ()

    def settings_for(self, mode: str) -> Any:
        """Its settings in ``mode`` (quick, default or full)."""
        if self.settings is None:
            return None
        changes = {"quick": self.quick, "full": self.full}.get(mode, {})
        return replace(self.settings, **changes)


def registered() -> tuple[Sweep, ...]:
    """Every sweep of the registry, in its order."""
    return tuple(importlib.import_module(REGISTRY_MODULE).SWEEPS)


def by_name() -> dict[str, Sweep]:
    return {sweep.name: sweep for sweep in registered()}


def chosen(settings: MatrixSettings) -> tuple[Sweep, ...]:
    """The sweeps a run's settings name, in registry order."""
    return tuple(sweep for sweep in registered() if sweep.name in settings.sweeps)


def sweep_columns() -> tuple[Column, ...]:
    """Every sweep's own columns, in registry order (each once)."""
    seen: dict[str, Column] = {}
    for sweep in registered():
        for column in sweep.columns:
            seen.setdefault(column.name, column)
    return tuple(seen.values())
