"""The lifecycle sweep in one sentence per technique, state and duration: what the pages
heard while hidden or frozen, and after."""

from __future__ import annotations

import math

import pandas as pd

from pushlab.bench.analysis.results import Results
from pushlab.bench.core.columns import plain_number
from pushlab.techniques import label

SWEEP = "lifecycle"
STATES = ("hidden", "frozen")


def seconds(ms: float) -> str:
    return "–" if math.isnan(ms) else f"{plain_number(ms / 1000)} s"


def state_sentence(row: pd.Series, state: str) -> str:
    def figure(name: str) -> float:
        return float(row[f"{state}_{name}"])

    lost = int(figure("lost"))
    return (
        f"{label(str(row['technique']))}, {state} for {plain_number(float(row['lifecycle_for_s']))}"
        f" s: {int(figure('heard_during')):,} deliveries reached the page's code meanwhile; of the "
        f"window's {int(row['messages_published']):,} messages it received "
        f"{int(figure('received')):,}, was told of {int(figure('signalled')):,} by a gap and lost "
        f"{lost:,} silently" + (" ⚠" if lost else "") + f", with {int(figure('reconnects')):,} "
        f"reconnects; shown again, it heard news after {seconds(figure('resume_ms'))} and had "
        f"caught up after {seconds(figure('caught_up_ms'))}"
    )


def lifecycle_finding(results: Results) -> str | None:
    rows = results.sweep(SWEEP)
    if rows.empty or "lifecycle_for_s" not in rows:
        return None
    sentences = [
        state_sentence(row, state)
        for _, row in rows.iterrows()
        for state in STATES
        if float(row.get(f"{state}_pages", 0) or 0) > 0
    ]
    if not sentences:
        return None
    return "Hidden and frozen pages (this run): " + ". ".join(sentences) + "."
