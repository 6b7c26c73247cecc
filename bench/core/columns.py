"""What a column of ``summary.csv`` is: its name, type, unit, label, number format and meaning.

Modelled on pyperf's ``_metadata.py``: a column is described once, where it is defined — the
core row's fields in ``analysis/row.py``, a sweep's own columns in its plug-in module — and the
CSV header, the loader's types, the report's tables, the README table, the plots' axes and
``docs/CONTRACT.md`` all read that description; none of them spells a column out again.

``FORMAT_VERSION`` is written into ``environment.json``; the loader refuses a results directory
of a version it does not know, rather than guessing what its columns mean.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 7
"""Version 1: the first bench (no ``format_version`` key). Version 2: the typed row
(``longpoll_hold_s`` added; ``environment.json`` carries ``format_version``). Version 3: the
scale-out, network and fault, and peer columns (``feed`` … ``clock_uncertainty_ms``, ``rtt_ms`` …
``peak_reconnects_per_s``, ``family``, ``sustained``). Version 4: the slow-consumer columns
(``slow_stall_s`` … ``slow_reconnects``). Version 5: the push servers' fan-out time
(``server_fanout_ms``). Version 6: ``longpoll_hold_s`` is ``hold_s``, the hold's one name from
the command line to the server (the loader renames it in older files); also in version 6, wire
latency apart from the generator's delay and late apart from lost (``wire_latency_p50_ms`` …
``arrived_late``), added columns that read as missing in older files. Version 7: the default
rows carry the radio columns (``radio_clients`` … ``radio_promotions_per_hour_3g``, the radio
sweep's since format 5) and every radio row says whether its window was short for each radio's
tail (``radio_settle_s``, ``radio_short_window_lte``, ``radio_short_window_3g``). Versions 4 to
7 only add or rename columns, so version 3 still reads; a reader finds columns by name, so their
order in the file is not part of the format."""

READABLE_VERSIONS = (3, 4, 5, 6, FORMAT_VERSION)
"""Versions the loader reads: a later one only added columns (they read as missing) or renamed
one (:data:`RENAMED_COLUMNS`)."""

RENAMED_COLUMNS = {"longpoll_hold_s": "hold_s"}
"""Old name → new name, for directories written before the rename (format 5 and older)."""

MISSING = {int: 0, float: math.nan, bool: False, str: ""}
"""What a column holds in a row that did not measure it (a network column of a loopback row)."""


@dataclass(frozen=True)
class Column:
    """What one column of ``summary.csv`` holds."""

    name: str
    kind: type  # int, float, bool or str
    unit: str  # "" for a count or a ratio with no unit
    label: str  # how a table header or a plot axis names it (without the unit)
    number_format: str  # a format spec for tables and sentences; "" for text
    description: str
    default: Any = None  # in a row that did not measure it; None: the kind's (``MISSING``)

    @property
    def heading(self) -> str:
        """``"latency p50 (ms)"``: the label with its unit, for table headers and axes."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    @property
    def missing(self) -> Any:
        return MISSING[self.kind] if self.default is None else self.default

    def format(self, value: Any) -> str:
        """One value as a table cell: ``–`` for a missing number, the column's format else."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if self.kind is bool:
            return "yes" if value else "no"
        if not self.number_format:
            return str(value)
        significant = re.fullmatch(r",?\.(\d+)g", self.number_format)
        if significant:
            return plain_number(float(value), int(significant.group(1)))
        return format(value, self.number_format)


def plain_number(value: float | None, digits: int = 3) -> str:
    """A number as a person writes it: 1,234 · 37.2 · 0.0123 — and "–" when unknown.

    ``format(1234.5, ",.3g")`` gives ``1.23e+03``; a table read from the back of a classroom
    wants whole numbers from 100 up and ``digits`` significant digits below.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    text = f"{value:.{digits}g}"
    return text if "e" not in text else f"{value:.2e}"


# --- Declaring columns ----------------------------------------------------------------------
# Each helper returns a Column; ``as_field`` turns one into a field of the core row's dataclass.


def text(name: str, label: str, description: str) -> Column:
    return Column(name, str, "", label, "", description)


def count(name: str, label: str, description: str, unit: str = "") -> Column:
    return Column(name, int, unit, label, ",.0f", description)


def number(
    name: str, unit: str, label: str, description: str, number_format: str = ",.3g"
) -> Column:
    return Column(name, float, unit, label, number_format, description)


def flag(name: str, label: str, description: str, default: bool = False) -> Column:
    return Column(name, bool, "", label, "", description, default)


def as_field(column: Column) -> Any:
    """A dataclass field holding ``column`` (its metadata) with the column's missing value."""
    return field(default=column.missing, metadata={"column": column})
