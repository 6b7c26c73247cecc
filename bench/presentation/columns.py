"""The columns figures and tables show: ``summary.csv``'s own, plus a few computed from them.

A figure or a table names what it shows by column name; its label, unit and number format
come from :func:`pushlab.bench.analysis.row.all_columns`, or, for a figure computed from several
columns (the traffic both ways), from :data:`DERIVED` here, with the same metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from pushlab.bench.analysis.network_findings import modelled_mean_ms
from pushlab.bench.analysis.row import Column, all_columns


@dataclass(frozen=True)
class Derived:
    """A presentation-only column: its metadata and how to compute it from a row or a table."""

    column: Column
    compute: Callable[[pd.DataFrame | pd.Series], pd.Series | float]


DERIVED: dict[str, Derived] = {
    "traffic_kb_per_s": Derived(
        Column(
            name="traffic_kb_per_s",
            kind=float,
            unit="kB/s",
            label="traffic in + out",
            number_format=",.3g",
            description="bytes through the server's sockets, both ways, per second",
        ),
        lambda rows: (rows["bytes_in_per_s"] + rows["bytes_out_per_s"]) / 1000,
    ),
    # Issue 12: the model's mean latency beside a network row (bench/analysis/network_findings.py)
    "model_latency_ms": Derived(
        Column(
            name="model_latency_ms",
            kind=float,
            unit="ms",
            label="model mean",
            number_format=",.3g",
            description="the model's mean latency at the row's RTT, the rate its window really "
            "published, its interval and hold",
        ),
        lambda rows: (
            rows.apply(modelled_mean_ms, axis=1)
            if isinstance(rows, pd.DataFrame)
            else modelled_mean_ms(rows)
        ),
    ),
}


def column(name: str) -> Column:
    """The metadata of a summary column or a derived one (a ``KeyError`` names unknown ones)."""
    if name in DERIVED:
        return DERIVED[name].column
    known = all_columns()
    if name not in known:
        raise KeyError(f"no column {name!r}; summary.csv has {', '.join(known)}")
    return known[name]


def values(rows: pd.DataFrame | pd.Series, name: str) -> pd.Series | float:
    """The column ``name`` of a table (a Series) or of one row (a value)."""
    return DERIVED[name].compute(rows) if name in DERIVED else rows[name]
