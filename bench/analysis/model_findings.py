"""The findings that hold a run against the models of ``analysis/model.py``: the interval
sweep's empty fraction and latency, the rate sweep's requests per message. Each is called by
the one rule of ``comparison.py``: the model at the rate each window really published, and a
difference called only past two standard errors.
"""

from __future__ import annotations

import pandas as pd

from pushlab.bench.analysis import comparison, model
from pushlab.bench.analysis.findings import flag_note, fmt, percent, technique_polls
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.shaping import (
    polling_rows,
    recorded_hold_s,
    requests_per_message_model,
    row_label,
    transit_estimate_ms,
)
from pushlab.techniques import NAMES, TECHNIQUES

SMALL_SAMPLE_MESSAGES = 30
"""Fewer messages than this in a window, and a measured fraction is mostly luck."""


def polling_model_finding(results: Results) -> str | None:
    """The interval sweep against the model, by the one rule (``comparison.py``): the model at
    the rate each window really published, and a difference called only past two standard
    errors."""
    rows = polling_rows(results.sweep("interval")).dropna(subset=["poll_interval"])
    if rows.empty:
        return None
    empty_checks, latency_checks = [], []
    for _, row in rows.iterrows():
        interval = float(row["poll_interval"])
        kind = row["arrivals"] if row["arrivals"] in ("poisson", "periodic") else "poisson"
        messages = comparison.messages_of(row)
        empty = float(model.polling_empty_fraction(comparison.realised_rate(row), interval, kind))
        polls = max(float(row["duration_s"]) / interval, 1.0)
        empty_checks.append(
            comparison.Check(
                float(row["empty_fraction"]), empty, comparison.fraction_se(empty, polls), messages
            )
        )
        transit_ms, _ = transit_estimate_ms(results.summary, row["clients"], row["publish_rate"])
        latency = 1000 * float(model.polling_mean_latency_s(interval, transit_ms / 1000))
        se = comparison.latency_se_ms(interval, messages)
        latency_checks.append(
            comparison.Check(float(row["latency_mean_ms"]), latency, se, messages)
        )
    kinds = {row["arrivals"] for _, row in rows.iterrows()}
    formula = "e^(−λT)" if kinds == {"poisson"} else "its model"
    worst = max(range(len(rows)), key=lambda k: empty_checks[k].off_by_se)
    worst_row, worst_check = rows.iloc[worst], empty_checks[worst]
    return (
        f"Across the interval sweep (T from {fmt(rows['poll_interval'].min())} s to "
        f"{fmt(rows['poll_interval'].max())} s), with λ the rate each window really published: "
        f"the empty fraction agreed with {formula} within two standard errors in "
        f"{sum(c.agrees for c in empty_checks)} of {len(rows)} windows (furthest at "
        f"T = {worst_row['poll_interval']:g} s: {percent(worst_check.measured)} measured, "
        f"{percent(worst_check.predicted)} predicted, {worst_check.verdict()}); the mean "
        f"latency agreed with T/2 + transit in {sum(c.agrees for c in latency_checks)} of "
        f"{len(rows)}.{_small_sample_note(rows)}" + flag_note(row for _, row in rows.iterrows())
    )


def _small_sample_note(rows: pd.DataFrame) -> str:
    fewest = rows["messages_published"].min()
    if pd.isna(fewest) or fewest >= SMALL_SAMPLE_MESSAGES:
        return ""
    return (
        f" Some of these scenarios saw as few as {fmt(fewest)} messages, so expect the points "
        "to scatter around the model; a longer run tightens them."
    )


def modelled_requests_per_message(results: Results, row: pd.Series) -> float | None:
    """The model's requests per message for one row (``None``: no model, or no hold recorded)."""
    predicted = requests_per_message_model(results.summary, row)
    return None if predicted is None else float(predicted)


def _model_words(results: Results, row: pd.Series) -> str:
    """The model beside one row, at the rate its window really published, with the verdict."""
    rate = comparison.realised_rate(row)
    predicted = requests_per_message_model(results.summary, row, publish_rate=rate)
    if predicted is None:
        if not technique_polls(row) and recorded_hold_s(row) is None:
            return "no model: the run did not record the long-poll hold"
        return "no model"
    messages = comparison.messages_of(row)
    check = comparison.Check(
        float(row["requests_per_message"]),
        float(predicted),
        comparison.per_message_se(float(predicted), messages),
        messages,
    )
    return f"model {fmt(check.predicted)} at the {fmt(rate)} msg/s published; {check.verdict()}"


def rate_finding(results: Results) -> str | None:
    rows = results.sweep("rate")
    if rows.empty or rows["publish_rate"].nunique() < 2:
        return None
    low, high = rows["publish_rate"].min(), rows["publish_rate"].max()
    parts = []
    for name in NAMES:
        if TECHNIQUES[name].pushes:
            continue
        of_technique = rows[rows["technique"] == name]
        at_low = of_technique[of_technique["publish_rate"] == low]
        at_high = of_technique[of_technique["publish_rate"] == high]
        if at_low.empty or at_high.empty:
            continue
        low_row, high_row = at_low.iloc[0], at_high.iloc[0]
        parts.append(
            f"{row_label(low_row)} {fmt(low_row['requests_per_message'])} at {low:g} msg/s "
            f"({_model_words(results, low_row)}) and "
            f"{fmt(high_row['requests_per_message'])} at {high:g} msg/s "
            f"({_model_words(results, high_row)})"
        )
    if not parts:
        return None
    return f"Requests per delivered message in the rate sweep: {'; '.join(parts)}." + flag_note(
        row for _, row in rows.iterrows()
    )
