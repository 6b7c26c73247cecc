"""The findings of a run: sentences built from its rows — every number computed, none typed.

``findings(results)`` is what the report lists under "Findings" and what notebook 01 shows.
A different machine, or a different run, writes different sentences; a sweep the run did not
measure writes none. Techniques are chosen by their flags in :mod:`pushlab.techniques`
(``polls``, ``holds_request``, ``pushes``), never by name.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pushlab.bench.analysis import model
from pushlab.bench.analysis.peer_findings import PEER_FINDINGS
from pushlab.bench.analysis.peer_ranking import ranking_finding, targets_finding
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.shaping import (
    default_publish_rate,
    flag_reason,
    flagged,
    in_table_order,
    largest_common_clients,
    row_label,
    transit_estimate_ms,
)
from pushlab.bench.core.columns import plain_number
from pushlab.bench.core.sweep import registered
from pushlab.techniques import TECHNIQUES

__all__ = [
    "FIRST",
    "LAST",
    "Comparison",
    "and_list",
    "findings",
    "flag_note",
    "fmt",
    "percent",
    "technique_polls",
]

# --- Numbers in words -----------------------------------------------------------------------


fmt = plain_number
"""A number as a person writes it (see :func:`row.plain_number`)."""


def times(ratio: float) -> str:
    if math.isnan(ratio):
        return "–×"
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def percent(fraction: float) -> str:
    if math.isnan(fraction):
        return "–"
    if 0 < fraction < 0.001:
        return "<0.1%"
    return f"{100 * fraction:.1f}%" if 0 < fraction < 0.01 else f"{100 * fraction:.0f}%"


def and_list(items: Sequence[str]) -> str:
    """["a", "b", "c"] → "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def flag_note(rows: Iterable[pd.Series]) -> str:
    """The flagged rows among ``rows``, each with why, as a sentence to end a finding with."""
    reasons = [f"{row_label(row)}: {flag_reason(row)}" for row in rows if flag_reason(row)]
    return f" ⚠ Flagged — {'; '.join(reasons)}." if reasons else ""


def technique_polls(row: pd.Series) -> bool:
    """The row's technique polls (``pushlab.techniques``: chosen by flag, never by name)."""
    entry = TECHNIQUES.get(row["technique"])
    return entry is not None and entry.polls


def _pushes(row: pd.Series) -> bool:
    entry = TECHNIQUES.get(row["technique"])
    return entry is not None and entry.pushes


# --- Choosing the rows a finding compares ---------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The clients-sweep rows at one load, one per line, in the canonical order."""

    clients: float
    publish_rate: float
    rows: list[pd.Series]

    def polling(self) -> list[pd.Series]:
        """The rows of techniques that poll, longest interval first."""
        return sorted(filter(technique_polls, self.rows), key=lambda row: -row["poll_interval"])

    def first_pushed(self) -> pd.Series | None:
        return next(filter(_pushes, self.rows), None)

    @property
    def load(self) -> str:
        return f"{self.clients:,.0f} clients and {self.publish_rate:g} msg/s"


def _comparison(results: Results) -> Comparison | None:
    """The largest client count every technique reached in the clients sweep, at 1 msg/s."""
    rows = results.sweep("clients")
    if rows.empty:
        return None
    rate = default_publish_rate(rows)
    rows = rows[np.isclose(rows["publish_rate"], rate)]
    clients = largest_common_clients(rows)
    ordered = in_table_order(rows[rows["clients"] == clients])
    return Comparison(clients, rate, [row for _, row in ordered.iterrows()])


def _about_the_comparison(
    finding: Callable[[Results, Comparison], str | None],
) -> Callable[[Results], str | None]:
    """A finding about the comparison load; no sentence when the run has no clients sweep."""

    @functools.wraps(finding)
    def about_results(results: Results) -> str | None:
        comparison = _comparison(results)
        return None if comparison is None else finding(results, comparison)

    return about_results


# --- Findings about the clients sweep -------------------------------------------------------


@_about_the_comparison
def _cpu_finding(results: Results, comparison: Comparison) -> str | None:
    if not comparison.polling():
        return None
    pushed = comparison.first_pushed()
    if pushed is None:
        return None
    pushed_us = pushed["cpu_us_per_message"]
    first, *others = comparison.polling()
    sentence = (
        f"At {comparison.load}, polling every {first['poll_interval']:g} s cost "
        f"{times(first['cpu_us_per_message'] / pushed_us)} the server CPU of "
        f"{row_label(pushed)} per delivered message ({fmt(first['cpu_us_per_message'])} µs "
        f"against {fmt(pushed_us)} µs)"
    )
    for row in others:
        sentence += (
            f"; polling every {row['poll_interval']:g} s cost "
            f"{times(row['cpu_us_per_message'] / pushed_us)} ({fmt(row['cpu_us_per_message'])} µs)"
        )
    return sentence + "." + flag_note([first, *others, pushed])


@_about_the_comparison
def _requests_finding(results: Results, comparison: Comparison) -> str | None:
    parts = []
    for row in comparison.rows:
        text = f"{row_label(row)} {fmt(row['requests_per_s'])}"
        if technique_polls(row):
            text += f" ({percent(row['empty_fraction'])} answered empty)"
        elif not _pushes(row):
            text += f" ({fmt(row['requests_per_message'])} per delivered message)"
        else:
            text += " (handshakes only: no request per message)"
        parts.append(text)
    return (
        f"HTTP requests per second at {comparison.load}: {and_list(parts)}."
        f"{flag_note(comparison.rows)}"
    )


@_about_the_comparison
def _bytes_finding(results: Results, comparison: Comparison) -> str | None:
    by_cost = sorted(comparison.rows, key=lambda row: row["bytes_per_message"])
    cheapest, dearest = by_cost[0], by_cost[-1]
    parts = [f"{fmt(row['bytes_per_message'])} B with {row_label(row)}" for row in comparison.rows]
    ratio = dearest["bytes_per_message"] / cheapest["bytes_per_message"]
    return (
        f"Each delivered message cost {and_list(parts)} on the wire (at {comparison.load}): "
        f"{row_label(dearest)} moved {times(ratio)} the bytes of {row_label(cheapest)}."
    )


@_about_the_comparison
def _latency_finding(results: Results, comparison: Comparison) -> str | None:
    parts = [
        f"{row_label(row)} {fmt(row['latency_p50_ms'])} ms (p99 {fmt(row['latency_p99_ms'])} ms)"
        for row in comparison.rows
    ]
    sentence = f"Median delivery latency at {comparison.load}: {and_list(parts)}."
    transit_ms, source = transit_estimate_ms(
        results.summary, comparison.clients, comparison.publish_rate
    )
    for row in reversed(comparison.polling()):
        predicted = 1000 * model.polling_mean_latency_s(row["poll_interval"], transit_ms / 1000)
        sentence += (
            f" Polling every {row['poll_interval']:g} s averaged {fmt(row['latency_mean_ms'])} ms;"
            f" the model T/2 + transit predicts {fmt(predicted)} ms (transit {fmt(transit_ms)} ms,"
            f" the {source})."
        )
    return sentence + flag_note(comparison.rows)


@_about_the_comparison
def _memory_finding(results: Results, comparison: Comparison) -> str | None:
    by_cost = sorted(comparison.rows, key=lambda row: -row["rss_kb_per_client"])
    parts = [f"{row_label(row)} {fmt(row['rss_kb_per_client'])} KB" for row in by_cost]
    return (
        f"Server memory (RSS) per connected client at {comparison.load}: {and_list(parts)}."
        f"{flag_note(comparison.rows)}"
    )


# --- Findings about the whole run -----------------------------------------------------------


def _scenarios(results: Results) -> pd.DataFrame:
    """Each scenario once: one shared by two sweeps is one measurement, written twice."""
    return results.summary.drop_duplicates("scenario")


def _integrity_finding(results: Results) -> str:
    summary = _scenarios(results)
    damaged = summary[(summary[["missed", "duplicated", "reordered"]] > 0).any(axis=1)]
    if damaged.empty:
        return (
            f"No message was missed, duplicated or reordered in any of the {len(summary)} "
            "scenarios."
        )
    cases = [
        f"{row['scenario']} ({fmt(row['missed'])} missed, {fmt(row['duplicated'])} duplicated, "
        f"{fmt(row['reordered'])} reordered)"
        for _, row in damaged.iterrows()
    ]
    return (
        f"Messages were missed, duplicated or reordered in {len(damaged)} of {len(summary)} "
        f"scenarios: {and_list(cases)}."
    )


def _empty_window_finding(results: Results) -> str | None:
    summary = _scenarios(results)
    # A scenario that published nothing on purpose (the saturation sweep) is not one of them.
    silent = summary[~(summary["messages_published"] > 0) & (summary["publish_rate"] != 0)]
    if silent.empty:
        return None
    return (
        f"⚠ {len(silent)} scenario{'s' * (len(silent) != 1)} saw no message published in "
        f"{'their' if len(silent) != 1 else 'its'} measurement window "
        f"({and_list(list(silent['scenario']))}): "
        "per-message figures are undefined (–) there; a longer window would fix it."
    )


def _flags_finding(results: Results) -> str:
    summary = _scenarios(results)
    marked = summary[flagged(summary)]
    if marked.empty:
        return (
            f"The load generator kept up and every scenario reached its load "
            f"({len(summary)} of {len(summary)})."
        )
    cases = [f"{row['scenario']} ({flag_reason(row)})" for _, row in marked.iterrows()]
    return (
        f"⚠ {len(marked)} of {len(summary)} scenarios "
        f"{'is' if len(marked) == 1 else 'are'} flagged: {and_list(cases)}. Their numbers "
        "stay in the tables (⚠) and plots (hollow markers), but they describe the load "
        "generator's limits as much as the server's."
    )


FIRST: tuple[Callable[[Results], str | None], ...] = (
    _cpu_finding,
    _requests_finding,
    _bytes_finding,
    _latency_finding,
    _memory_finding,
)
"""The techniques compared at the run's common load, before any sweep's own findings."""
LAST: tuple[Callable[[Results], str | None], ...] = (
    *PEER_FINDINGS,  # pushlab against its peers, wherever the run measured both
    ranking_finding,  # every server of the run, ranked, with the peers' versions
    targets_finding,  # pushlab's push servers against the deployed peers' figures
    _integrity_finding,
    _empty_window_finding,
    _flags_finding,
)
"""After the sweeps' findings: the peers, and what the reader must know about every row."""


def findings(results: Results) -> list[str]:
    """Sentences about this run, each computed from its rows (a missing sweep → no sentence):
    the comparison, each sweep's own findings in registry order, then the run's integrity."""
    chain = (*FIRST, *(f for sweep in registered() for f in sweep.findings), *LAST)
    return [text for finding in chain if (text := finding(results)) is not None]
