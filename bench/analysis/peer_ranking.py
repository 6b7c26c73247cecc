"""Every server of a run ranked, and pushlab's push servers held against the deployed peers.

An engineer choosing a technique compares it with what they would otherwise deploy. So at the
load where the run measured the most servers (the clients and rate sweeps' rows, most clients
first), every server — pushlab's and every peer — is ranked on server CPU per delivered
message, resident memory per client and p99 latency, with each peer's versions
(``environment.json``'s ``peer_versions``). Then the targets pushlab's push servers are held
to at 1,000 clients and 20 msg/s, each against a peer measured by the same run: WebSocket CPU
per message ≤ picows's and ≤ 0.8× Node ``ws``'s; SSE ≤ 0.8× the textbook loop's and ≤ 0.5×
sse-starlette's; WebSocket memory per client ≤ 10 KiB and below every peer's; p50 no higher
than the fastest peer's. A target whose peer the run did not measure says nothing; none of the
figures is typed in.
"""

from __future__ import annotations

import math

import pandas as pd

from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.shaping import flag_reason
from pushlab.bench.core.columns import plain_number
from pushlab.techniques import NAMES, PEERS, PUSHED, SSE, WEBSOCKET, label

RANKED_SWEEPS = ("clients", "rate")
"""Sweeps whose rows are each server as deployed, at a plain load."""
TARGET_LOAD = (1000, 20.0)
CPU_TARGETS: tuple[tuple[str, str, float], ...] = (
    (WEBSOCKET.name, "picows", 1.0),
    (WEBSOCKET.name, "node-ws", 0.8),
    (SSE.name, "baseline-websocket", 0.8),
    (SSE.name, "sse-starlette", 0.5),
)
"""pushlab server, peer, the largest ratio of their CPU per delivered message."""
RSS_TARGET_KB = 10.0
"""Resident memory per WebSocket client, KiB (the bench's ``rss_kb_per_client``)."""


def server_name(name: str) -> str:
    return f"pushlab {label(name)}" if name in NAMES else label(name)


def busiest_shared_load(rows: pd.DataFrame) -> tuple[int, float] | None:
    """The (clients, rate) at which the most servers were measured; ties: the busiest."""
    if rows.empty:
        return None
    servers = rows.groupby(["clients", "publish_rate"])["technique"].nunique()
    best = max(servers.items(), key=lambda item: (item[1], item[0]))
    clients, rate = best[0]
    return int(clients), float(rate)


def at_load(results: Results, load: tuple[int, float]) -> pd.DataFrame:
    summary = results.summary
    rows = summary[
        summary["sweep"].isin(RANKED_SWEEPS)
        & (summary["clients"] == load[0])
        & (summary["publish_rate"] == load[1])
    ]
    return rows.drop_duplicates("technique")


def ranked(rows: pd.DataFrame, column: str, unit: str) -> str:
    measured = rows[rows[column].notna()].sort_values(column, kind="stable")
    return "; ".join(
        f"{place}. {server_name(str(row['technique']))} {plain_number(row[column])} {unit}"
        + (" ⚠" if flag_reason(row) else "")
        for place, (_, row) in enumerate(measured.iterrows(), start=1)
    )


def ranking_finding(results: Results) -> str | None:
    """Every server at the run's most shared load, ranked on CPU, memory and p99."""
    summary = results.summary
    load = busiest_shared_load(summary[summary["sweep"].isin(RANKED_SWEEPS)])
    if load is None:
        return None
    rows = at_load(results, load)
    if not any(name in PEERS for name in rows["technique"]) or len(rows) < 2:
        return None
    versions = results.environment.get("peer_versions") or {}
    shown = [name for name in rows["technique"] if name in versions]
    return (
        f"Every server of this run at {load[0]:,} clients and {load[1]:g} msg/s, ranked (⚠: "
        "flagged row). CPU per delivered message: "
        + ranked(rows, "cpu_us_per_message", "µs")
        + ". RSS per client: "
        + ranked(rows, "rss_kb_per_client", "KiB")
        + ". Latency p99: "
        + ranked(rows, "latency_p99_ms", "ms")
        + "."
        + (
            " Versions: " + "; ".join(f"{label(name)}: {versions[name]}" for name in shown) + "."
            if shown
            else ""
        )
    )


def judged(value: float, target: float, unit: str = "×") -> str:
    if math.isnan(value):
        return ""
    return f" (target ≤ {target:g}{unit}: {'met' if value <= target else 'not met'})"


def cpu_targets(rows: pd.DataFrame, floor_us: float) -> list[str]:
    by_name = {str(row["technique"]): row for _, row in rows.iterrows()}
    parts = []
    for ours, theirs, target in CPU_TARGETS:
        if ours not in by_name or theirs not in by_name:
            continue
        a, b = by_name[ours]["cpu_us_per_message"], by_name[theirs]["cpu_us_per_message"]
        value = a / b if b else math.nan
        if math.isnan(value):  # a row without a figure (a failed scenario): nothing to judge
            continue
        parts.append(
            f"{label(ours)} CPU per message {plain_number(a)} µs vs {label(theirs)} "
            f"{plain_number(b)} µs: {value:.2f}×{judged(value, target)}"
        )
    if parts and not math.isnan(floor_us):
        parts.append(f"the floor, a bare loopback send() on this machine: {floor_us:.2f} µs")
    return parts


def best_peer(rows: pd.DataFrame, column: str) -> pd.Series | None:
    peers = rows[rows["technique"].isin(PEERS) & rows[column].notna()]
    if peers.empty:
        return None
    return peers.loc[peers[column].idxmin()]


def memory_and_latency_targets(rows: pd.DataFrame) -> list[str]:
    parts = []
    ours = rows[rows["technique"] == WEBSOCKET.name]
    lowest = best_peer(rows, "rss_kb_per_client")
    if not ours.empty and lowest is not None:
        rss = float(ours.iloc[0]["rss_kb_per_client"])
        below = rss < lowest["rss_kb_per_client"]
        parts.append(
            f"WebSocket RSS per client {plain_number(rss)} KiB{judged(rss, RSS_TARGET_KB, ' KiB')}"
            f", the lowest peer's {plain_number(lowest['rss_kb_per_client'])} KiB "
            f"({label(str(lowest['technique']))}: below it {'met' if below else 'not met'})"
        )
    fastest = best_peer(rows, "latency_p50_ms")
    for name in PUSHED:
        row = rows[rows["technique"] == name]
        if row.empty or fastest is None:
            continue
        p50 = float(row.iloc[0]["latency_p50_ms"])
        met = p50 <= fastest["latency_p50_ms"]
        parts.append(
            f"{label(name)} p50 {plain_number(p50)} ms vs the fastest peer's "
            f"{plain_number(fastest['latency_p50_ms'])} ms ({label(str(fastest['technique']))}"
            f": no higher {'met' if met else 'not met'})"
        )
    return parts


def targets_finding(results: Results) -> str | None:
    """pushlab's push servers against the deployed peers' figures, at the targets' load."""
    rows = at_load(results, TARGET_LOAD)
    if rows.empty or not rows["technique"].isin(PEERS).any():
        return None
    floor = (results.environment.get("loopback_send_floor") or {}).get("send_cpu_us")
    floor_us = math.nan if floor is None else float(floor)
    parts = cpu_targets(rows, floor_us) + memory_and_latency_targets(rows)
    if not parts:
        return None
    flagged = [str(row["technique"]) for _, row in rows.iterrows() if flag_reason(row)]
    return (
        f"Targets against the deployed peers at {TARGET_LOAD[0]:,} clients and "
        f"{TARGET_LOAD[1]:g} msg/s (this run): "
        + "; ".join(parts)
        + "."
        + (f" ⚠ flagged rows: {', '.join(map(label, flagged))}." if flagged else "")
    )
