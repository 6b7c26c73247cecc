"""Shaping a run's rows for plots, tables and findings: flags, lines, comparison points.

Pure functions of the summary table (a ``pandas.DataFrame`` as :func:`load_summary` reads it).
Techniques are told apart by their flags in :mod:`pushlab.techniques`, never by name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pushlab.bench.analysis import model
from pushlab.bench.analysis.metrics import server_waited
from pushlab.bench.analysis.results import GENERATOR_BUSY_PERCENT
from pushlab.techniques import CLOSED_LOOP_S, NAMES, PUSHED, TECHNIQUES, label


def flagged(frame: pd.DataFrame) -> pd.Series:
    """Rows whose numbers describe the load generator's limits, not the server's.

    A saturated generator or a load not achieved means the server saw less than the scenario
    asked for. Those rows stay in every table and plot — marked, never dropped.
    """
    marked = frame["generator_saturated"].astype(bool) | ~frame["load_achieved"].astype(bool)
    if "cores_short" in frame:  # issue 13: server workers and generators shared CPUs
        marked |= frame["cores_short"].fillna(False).astype(bool)
    return marked


def flag_reason(row: pd.Series) -> str:
    """Why a row is flagged, in words for a table cell ("" if it is not).

    Says what was short: the generator's CPU, the clients that connected, or (polling) the
    request rate it managed against the one asked for (``target_requests_per_s``, if present);
    and whether the generator added more than its share of the latency (``analysis/wire.py``),
    which marks the row's observed latency only: ``flagged`` does not count it.
    """
    cpu = row.get("generator_cpu_percent", math.nan)
    connected = row.get("clients_connected", math.nan)
    target = row.get("target_requests_per_s", math.nan)
    short_of_clients = not pd.isna(connected) and connected < row["clients"]
    short_of_rate = not pd.isna(target) and row["requests_per_s"] < target
    rate = f"{row['requests_per_s']:,.3g} of {target:,.3g} requests/s"
    server_cpu = row.get("server_cpu_percent", math.nan)
    closed_loop = row.get("poll_interval", math.nan) == CLOSED_LOOP_S
    reasons = []
    if bool(row["generator_saturated"]):
        if not pd.isna(cpu) and cpu >= GENERATOR_BUSY_PERCENT:
            reasons.append(f"generator saturated ({cpu:.0f}% CPU)")
        elif server_waited(closed_loop, server_cpu):
            reasons.append(
                f"server at {server_cpu:.0f}% CPU in a closed loop, waiting for its clients "
                f"(generator {cpu:.0f}%)"
            )
        elif short_of_rate:
            reasons.append(f"generator saturated ({rate})")
        else:
            reasons.append("generator saturated")
    if not bool(row["load_achieved"]):
        if short_of_clients:
            reasons.append(f"load not achieved ({connected:,.0f}/{row['clients']:,.0f} connected)")
        elif short_of_rate and not reasons:
            reasons.append(f"load not achieved ({rate})")
        else:
            reasons.append("load not achieved")
    if bool(row.get("cores_short", False)):
        reasons.append(f"CPUs shared ({row['workers']:.0f} workers + generator, too few cores)")
    if bool(row.get("generator_delayed", False)):  # its latency, not the server's figures
        reasons.append(
            f"generator delayed (it added {row['generator_share']:.0%} of the latency;"
            f" wire p50 {row['wire_latency_p50_ms']:,.3g} ms)"
        )
    return "; ".join(reasons)


def row_label(row: pd.Series) -> str:
    """``"WebSocket"``, ``"polling every 1 s"``: how a row's line is named in legends and text."""
    return label(row["technique"], row["poll_interval"])


def polling_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of techniques that poll on a timer (they have a poll interval)."""
    polls = frame["technique"].map(lambda name: name in TECHNIQUES and TECHNIQUES[name].polls)
    return frame[polls.astype(bool)]


def in_table_order(rows: pd.DataFrame, *first: str) -> pd.DataFrame:
    """Rows sorted by ``first`` columns, then technique (the table's order), then interval."""
    order = {name: index for index, name in enumerate(NAMES)}
    return (
        rows.copy()  # a frame built column by column: one copy keeps pandas from warning
        .assign(_order=rows["technique"].map(order).fillna(len(order)))
        .sort_values([*first, "_order", "poll_interval"])
        .drop(columns="_order")
    )


@dataclass(frozen=True)
class Series:
    """The rows of one line on a plot: one technique (and, for polling, one poll interval)."""

    technique: str
    poll_interval: float | None
    rows: pd.DataFrame

    @property
    def label(self) -> str:
        return label(self.technique, self.poll_interval)


def series(frame: pd.DataFrame, x: str | None = None) -> Iterator[Series]:
    """Split rows into lines: techniques in the canonical order, polling by poll interval.

    With ``x``, each line's rows are sorted by that column, ready to draw.
    """
    keys = in_table_order(frame[["technique", "poll_interval"]].drop_duplicates())
    for technique, poll_interval in keys[["technique", "poll_interval"]].itertuples(index=False):
        if pd.isna(poll_interval):
            rows = frame[(frame["technique"] == technique) & frame["poll_interval"].isna()]
            interval = None
        else:
            rows = frame[
                (frame["technique"] == technique) & (frame["poll_interval"] == poll_interval)
            ]
            interval = float(poll_interval)
        yield Series(technique, interval, rows.sort_values(x) if x else rows)


def largest_common_clients(rows: pd.DataFrame, techniques: Sequence[str] | None = None) -> float:
    """The largest client count at which every technique (of ``rows``, or those named) was
    measured — the fairest single point to compare them at."""
    if techniques is not None:
        rows = rows[rows["technique"].isin(techniques)]
    if rows.empty:
        raise ValueError("no rows to compare")
    per_technique = [set(group["clients"]) for _, group in rows.groupby("technique")]
    common = set.intersection(*per_technique)
    return float(max(common or set(rows["clients"])))


def default_publish_rate(frame: pd.DataFrame) -> float:
    """The publish rate a sweep's figures show: 1 msg/s if it was measured, else the commonest."""
    rates = frame["publish_rate"].dropna()
    if rates.empty:
        raise ValueError("no rows with a publish rate")
    if (np.isclose(rates, 1.0)).any():
        return 1.0
    return float(rates.mode().iloc[0])


def transit_estimate_ms(
    summary: pd.DataFrame, clients: float, publish_rate: float
) -> tuple[float, str]:
    """One-way transit ``d`` for the models, and where it came from (for the legend).

    The models need ``d`` but nobody measures it directly. A pushed message's latency *is* one
    transit, so the median WebSocket (else SSE) latency at the same load is an independent
    estimate — independent of the polling rows the model is compared with.
    """
    for technique in PUSHED:
        same_load = summary[
            (summary["technique"] == technique)
            & (summary["clients"] == clients)
            & np.isclose(summary["publish_rate"], publish_rate)
        ]
        medians = same_load["latency_p50_ms"].dropna()
        if not medians.empty:
            source = f"{label(technique)} median at the same load"
            return float(medians.median()), source
    pushed = summary.loc[summary["technique"].isin(PUSHED), "latency_p50_ms"].dropna()
    if not pushed.empty:
        return float(pushed.min()), "lowest pushed median in this run"
    return 0.0, "no pushed technique measured: transit taken as 0"


def recorded_hold_s(row: pd.Series) -> float | None:
    """The long-poll hold this row's clients asked for, or ``None`` if the run did not record it.

    The long-poll model's timeouts depend on the hold; a model drawn with a guessed one would
    be wrong without saying so (the 20 s / 25 s mistake), so a missing hold means no model.
    """
    hold_s = row.get("hold_s", math.nan)
    return None if pd.isna(hold_s) else float(hold_s)


def requests_per_message_model(
    summary: pd.DataFrame, row: pd.Series, publish_rate: model.Number | None = None
) -> model.Number | None:
    """What the model says one client's requests per message are, for ``row``'s technique.

    Polling: ``1/(λT)``. A held request that is not a push (long polling): a gap of two
    transits (estimated at the row's load, :func:`transit_estimate_ms`) and the row's own
    hold. ``publish_rate`` defaults to the row's; pass an array to draw a curve. ``None`` for
    the pushed techniques (no request per message) and for a long-poll row without a hold.
    """
    rates = row["publish_rate"] if publish_rate is None else publish_rate
    entry = TECHNIQUES.get(row["technique"])
    if entry is None or entry.pushes:
        return None
    if entry.polls:
        if pd.isna(row["poll_interval"]):
            return None
        return model.polling_requests_per_message(rates, row["poll_interval"])
    hold_s = recorded_hold_s(row)
    if not entry.holds_request or hold_s is None:
        return None
    transit_ms, _ = transit_estimate_ms(summary, row["clients"], row["publish_rate"])
    return model.longpoll_requests_per_message(rates, 2 * transit_ms / 1000, hold_s)
