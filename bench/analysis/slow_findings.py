"""The slow-consumer sweep in one sentence per technique, against issue 15's three targets.

Each figure is the row's, from this run: the server's RSS growth during the stall beside the
high-water mark (target: no more than it plus a small constant), the other clients' p99 before
and during the stall (target: within ±20%), and the slow client's account (target: every message
received or named by a gap signal, none lost silently).
"""

from __future__ import annotations

import pandas as pd

from pushlab.bench.analysis.results import Results
from pushlab.bench.core.columns import plain_number
from pushlab.techniques import label

SWEEP = "slow"
P99_CHANGE_TARGET = 0.20


def reconnects(count: int) -> str:
    return f"{count:,} reconnect" + ("" if count == 1 else "s")


def slow_sentence(row: pd.Series) -> str:
    change = row["others_p99_change"]
    within = "within" if abs(change) <= P99_CHANGE_TARGET else "outside"
    account = (
        f"it received {row['slow_received']:,} messages and was told of "
        f"{row['slow_signalled']:,} more by a gap signal"
        + (f" (after {reconnects(row['slow_reconnects'])})" if row["slow_reconnects"] else "")
        + (
            f"; {row['slow_lost']:,} were lost silently ⚠"
            if row["slow_lost"]
            else "; none was lost silently"
        )
    )
    return (
        f"{label(str(row['technique']))}, one client not reading for "
        f"{plain_number(row['slow_stall_s'])} s among {row['clients']:,} at "
        f"{plain_number(row['publish_rate'])} msg/s: the server's RSS grew by "
        f"{plain_number(row['slow_rss_growth_kb'])} KB (high-water mark "
        f"{plain_number(row['slow_high_water_kb'])} KB); the others' p99 went from "
        f"{plain_number(row['others_p99_before_ms'])} to "
        f"{plain_number(row['others_p99_during_ms'])} ms ({change:+.0%}, {within} ±20%); " + account
    )


def slow_consumer_finding(results: Results) -> str | None:
    rows = results.sweep(SWEEP)
    if rows.empty or "slow_stall_s" not in rows:
        return None
    rows = rows[rows["slow_stall_s"].notna()]
    if rows.empty:
        return None
    sentences = [slow_sentence(row) for _, row in rows.iterrows()]
    return "A slow consumer (this run): " + ". ".join(sentences) + "."
