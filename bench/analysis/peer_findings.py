"""Findings that hold pushlab's servers against their peers (issues 14 and 15), from one run.

Each comparison takes two rows of the same run at the same load (the most clients, then the
highest publish rate, that both servers were measured at) and states their ratio: CPU per
delivered message, latency p50/p99, memory per client, the share of deliveries achieved,
requests and bytes per message. Issue 15's targets are ratios too: pushlab's WebSocket CPU per
message over the textbook loop's, over ``websockets.broadcast()``'s and over a bare loopback
``send()`` measured by the same run (``environment.json``, ``loopback_send_floor``). The
capacity search's result is the highest sustained deliveries per second of each push server,
and the same per core of server CPU. The saturation sweep's result is pushlab's polling server's
requests per second over the bare aiohttp poll handler's (``baseline-polling``) at each client
count, with the target of issue 15 (at least 0.9×) and a warning where the load generator was
the limit. No number is typed in: a pair not measured writes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.shaping import flag_reason
from pushlab.bench.analysis.wire import WIRE_STAMPED_ENOUGH
from pushlab.bench.core.columns import plain_number
from pushlab.techniques import PEERS, PUSHED, SSE, WEBSOCKET, label

CAPACITY = "capacity"
SATURATION = "saturation"
LOOP_SWEEP = "loop"
NOT_PAIRED = (CAPACITY, SATURATION, LOOP_SWEEP)
"""Sweeps whose rows are not at the load the matrix's rows are compared at, or whose servers
are not as deployed by default (the loop sweep's run on a chosen event loop)."""
LOOP = "baseline-websocket"
"""The textbook broadcast loop: the reference for every push server's CPU per message."""
CPU_TARGETS_15: tuple[tuple[str, str, float | None], ...] = (
    (WEBSOCKET.name, LOOP, 0.7),
    (WEBSOCKET.name, "websockets-broadcast", None),
    (SSE.name, LOOP, 0.8),
)
"""Issue 15's ratios of CPU per message (ours, theirs, the most ours ÷ theirs may be): pushlab
WebSocket ≤ 0.7× the loop, stated beside websockets.broadcast(); SSE ≤ 0.8× the loop."""
FLOOR_TARGET_15 = (WEBSOCKET.name, 2.0)
"""Issue 15: pushlab's WebSocket ≤ 2× a bare loopback send() per delivered message."""
EMPTY_ANSWER_TARGET = 0.9
"""Issue 15: pushlab's polling server answers at least 0.9× the requests per second of a bare
aiohttp handler returning a constant, at the same concurrency."""
EMPTY_ANSWER_REFERENCE = "baseline-polling"
LATENCY_TARGET_15 = {
    "technique": WEBSOCKET.name,
    "clients": 1000,
    "publish_rate": 20.0,
    "p50_ms": 5.0,
    "p99_ms": 15.0,
}
"""Issue 15: pushlab's WebSocket at 1,000 clients and 20 msg/s delivers with p50 ≤ 5 ms and
p99 ≤ 15 ms, where the generator is not the limit."""


def ratio(a: float, b: float) -> float:
    return a / b if b and not (math.isnan(a) or math.isnan(b)) else math.nan


def times(value: float) -> str:
    return "–×" if math.isnan(value) else f"{value:.2f}×"


def pair(results: Results, first: str, second: str) -> tuple[pd.Series, pd.Series] | None:
    """The two servers' rows at the same load: most clients, then highest rate, both measured."""
    rows = results.summary[~results.summary["sweep"].isin(NOT_PAIRED)]
    a, b = rows[rows["technique"] == first], rows[rows["technique"] == second]
    loads = set(zip(a["clients"], a["publish_rate"], strict=True)) & set(
        zip(b["clients"], b["publish_rate"], strict=True)
    )
    if not loads:
        return None
    clients, rate = max(loads)

    def at(frame: pd.DataFrame) -> pd.Series:
        return frame[(frame["clients"] == clients) & (frame["publish_rate"] == rate)].iloc[0]

    return at(a), at(b)


def achieved(row: pd.Series) -> float:
    """Deliveries received over clients × messages published in the window."""
    return ratio(row["messages_delivered"], row["clients"] * row["messages_published"])


def load_words(row: pd.Series) -> str:
    return f"{row['clients']:,} clients at {row['publish_rate']:g} msg/s"


def compare_push(results: Results, ours: str, theirs: str) -> str | None:
    """CPU per message, latency, memory per client and load held, ours against a peer."""
    rows = pair(results, ours, theirs)
    if rows is None:
        return None
    a, b = rows

    def both(column: str, unit: str) -> str:
        return f"{plain_number(a[column])} vs {plain_number(b[column])} {unit}"

    return (
        f"{label(ours)} vs {label(theirs)} ({load_words(a)}, this run): CPU per delivered "
        f"message {both('cpu_us_per_message', 'µs')} "
        f"({times(ratio(a['cpu_us_per_message'], b['cpu_us_per_message']))}); "
        f"latency p50 {both('latency_p50_ms', 'ms')}, p99 {both('latency_p99_ms', 'ms')}; "
        f"RSS per client {both('rss_kb_per_client', 'KB')}; deliveries achieved "
        f"{achieved(a):.0%} vs {achieved(b):.0%}."
    )


def compare_polling(results: Results, ours: str, theirs: str) -> str | None:
    """Requests and bytes per message: what each long-polling protocol spends per delivery."""
    rows = pair(results, ours, theirs)
    if rows is None:
        return None
    a, b = rows
    return (
        f"{label(ours)} vs {label(theirs)} ({load_words(a)}): "
        f"{plain_number(a['requests_per_message'])} vs {plain_number(b['requests_per_message'])}"
        f" requests and {plain_number(a['bytes_per_message'])} vs "
        f"{plain_number(b['bytes_per_message'])} bytes per delivered message "
        "(Engine.IO adds its pings, their pongs as POSTs, and its own framing)."
    )


def floor_us(results: Results) -> float:
    floor = results.environment.get("loopback_send_floor") or {}
    return float(floor.get("send_cpu_us", math.nan))


def issue_15_ratios(results: Results) -> str | None:
    """pushlab WebSocket ÷ the loop, ÷ websockets.broadcast, ÷ a bare send(); SSE ÷ the loop."""
    parts: list[str] = []
    for ours, theirs, target in CPU_TARGETS_15:
        rows = pair(results, ours, theirs)
        if rows is not None:
            value = ratio(rows[0]["cpu_us_per_message"], rows[1]["cpu_us_per_message"])
            parts.append(f"{label(ours)} ÷ {label(theirs)} {times(value)}{goal(value, target)}")
    floor = floor_us(results)
    summary = results.summary
    ours, target = FLOOR_TARGET_15
    rows = summary[(summary["technique"] == ours) & ~summary["sweep"].isin(NOT_PAIRED)]
    if not math.isnan(floor) and not rows.empty:
        busiest = rows.sort_values(["clients", "publish_rate"]).iloc[-1]
        value = ratio(busiest["cpu_us_per_message"], floor)
        parts.append(
            f"{label(ours)} ({load_words(busiest)}) ÷ a bare loopback send() ({floor:.2f} µs, "
            f"measured by this run) {times(value)}{goal(value, target)}"
        )
    return (
        "Server CPU per delivered message, as ratios: " + "; ".join(parts) + "." if parts else None
    )


def at_latency_target_load(row: pd.Series) -> bool:
    """A row of the technique (WebSocket) at the load issue 15's latency target names."""
    target = LATENCY_TARGET_15
    return (row["technique"], row["clients"], row["publish_rate"]) == (
        target["technique"],
        target["clients"],
        target["publish_rate"],
    )


def latency_target(row: pd.Series) -> str:
    """Issue 15's latency target, judged only at the load it names."""
    if not at_latency_target_load(row):
        return ""
    target = LATENCY_TARGET_15
    met = row["latency_p50_ms"] <= target["p50_ms"] and row["latency_p99_ms"] <= target["p99_ms"]
    return (
        f" (target p50 ≤ {target['p50_ms']:g} ms, p99 ≤ {target['p99_ms']:g} ms: "
        f"{'met' if met else 'not met'})"
    )


FANOUT_SWEEPS = ("clients", "rate")
"""Sweeps whose push rows are a plain fan-out (no added delay, fault, stalled client or workers)."""


def fanout_row(results: Results, name: str) -> pd.Series | None:
    """The row to state: WebSocket's at issue 15's target load if measured, else the busiest."""
    summary = results.summary
    rows = summary[
        (summary["technique"] == name)
        & summary["sweep"].isin(FANOUT_SWEEPS)
        & summary["server_fanout_ms"].notna()
        & summary["latency_p50_ms"].notna()
    ]
    if rows.empty:
        return None
    at_target = rows[rows.apply(at_latency_target_load, axis=1)]
    if not at_target.empty:
        return at_target.iloc[0]
    return rows.sort_values(["clients", "publish_rate"], kind="stable").iloc[-1]


def fanout_finding(results: Results) -> str | None:
    """How much of each push server's delivery latency the server itself can have spent.

    A message's latency runs from its publish to the client's receipt. The broadcast loop
    measures its own part, publish → its last write (``server_fanout_ms``, the mean over the
    window's messages): no client waited longer than that on the server, and whatever a client
    waited beyond it was spent in the kernel and in the load generator, which reads a thousand
    sockets one after another.
    """
    if "server_fanout_ms" not in results.summary:
        return None
    parts: list[str] = []
    for name in PUSHED:
        row = fanout_row(results, name)
        if row is None:
            continue
        parts.append(
            f"{label(name)} at {load_words(row)}: clients received at p50 "
            f"{plain_number(row['latency_p50_ms'])} ms and p99 "
            f"{plain_number(row['latency_p99_ms'])} ms{latency_target(row)}, and the loop "
            f"was done {plain_number(row['server_fanout_ms'])} ms after the publish"
            + (f" ⚠ {flag_reason(row)}" if bool(row["generator_saturated"]) else "")
            + "."
        )
    if not parts:
        return None
    return (
        "Where the push latency goes. The server's broadcast loop times itself from the publish "
        "to its last write (a mean over the window's messages); no client waited longer than "
        "that on the server, and the rest of a client's latency was spent in the kernel and in "
        "the load generator. " + " ".join(parts)
    )


def goal(value: float, target: float | None) -> str:
    if target is None or math.isnan(value):
        return ""
    return f" (target ≤ {target:g}×: {'met' if value <= target else 'not met'})"


DELIVERED_FRACTION = 0.98
P99_LIMIT_MS = 500.0
"""The capacity search's criterion (``measuring/capacity.py``): a step holds when the clients
received this share of what was published, with a p99 within this limit."""


def capacity_finding(results: Results) -> str | None:
    """The highest sustained deliveries per second of each push server, and per core."""
    rows = results.sweep(CAPACITY)
    if rows.empty:
        return None
    parts: list[str] = []
    for name, steps in rows.groupby("technique", sort=False):
        held = steps[steps["sustained"].astype(bool)]
        ended = steps[~steps["sustained"].astype(bool)]  # the step that ended the search
        own_delay_p99 = ended.get("generator_delay_p99_ms", pd.Series(dtype=float))
        limited = bool(steps["generator_saturated"].astype(bool).any()) or bool(
            (own_delay_p99 > P99_LIMIT_MS).any()
        )
        if held.empty:
            parts.append(f"{label(str(name))}: no step held")
            continue
        best = held.loc[(held["messages_delivered"] / held["duration_s"]).idxmax()]
        per_s = best["messages_delivered"] / best["duration_s"]
        per_core = ratio(per_s, best["server_cpu_percent"] / 100)
        observed = not float(best.get("wire_stamped", 0.0)) >= WIRE_STAMPED_ENOUGH
        parts.append(
            f"{label(str(name))}: {plain_number(per_s)} deliveries/s at "
            f"{best['publish_rate']:g} msg/s ({plain_number(per_core)} per core of server CPU)"
            + (" (held to the observed p99: no kernel stamps)" if observed else "")
            + (" ⚠ the generator may have been the limit" if limited else "")
        )
    clients = int(rows["clients"].iloc[0])
    return (
        f"Fan-out capacity at {clients:,} clients (the highest rate still delivering ≥ 98% "
        f"with p99 ≤ {P99_LIMIT_MS:g} ms on the wire, publish → the client's kernel): "
        + "; ".join(parts)
        + "."
    )


def answers_per_cpu_s(row: pd.Series) -> float:
    """Answers per second of the server's own CPU time: requests/s ÷ the share of a core."""
    return ratio(row["requests_per_s"], row["server_cpu_percent"] / 100)


def empty_answer_pair(ours: pd.Series, reference: pd.Series) -> str:
    """One client count of the saturation sweep: requests/s, their ratio, and who limited it."""
    value = ratio(ours["requests_per_s"], reference["requests_per_s"])
    cpu_ours, cpu_reference = answers_per_cpu_s(ours), answers_per_cpu_s(reference)
    text = (
        f"at {ours['clients']:,} clients {plain_number(ours['requests_per_s'])} vs "
        f"{plain_number(reference['requests_per_s'])} requests/s, {times(value)}"
    )
    limited = [row for row in (ours, reference) if bool(row["generator_saturated"])]
    if not limited:
        return (
            text
            + at_least(value, EMPTY_ANSWER_TARGET)
            + (
                f"; server CPU {plain_number(ours['server_cpu_percent'])}% vs "
                f"{plain_number(reference['server_cpu_percent'])}% of a core"
            )
        )
    reasons = "; ".join(f"{label(str(row['technique']))}: {flag_reason(row)}" for row in limited)
    per_cpu = ratio(cpu_ours, cpu_reference)
    return text + (
        f" ⚠ the load generator was the limit ({reasons}), so this ratio says what the "
        "generator allowed, not what the servers can; per second of their own CPU they "
        f"answered {plain_number(cpu_ours)} vs {plain_number(cpu_reference)}: "
        f"{times(per_cpu)}{at_least(per_cpu, EMPTY_ANSWER_TARGET)}"
    )


def at_least(value: float, target: float) -> str:
    if math.isnan(value):
        return ""
    return f" (target ≥ {target:g}×: {'met' if value >= target else 'not met'})"


def empty_answer_finding(results: Results) -> str | None:
    """Issue 15: the polling servers' empty answers/s over the constant handler's, per count."""
    rows = results.sweep(SATURATION)
    reference = rows[rows["technique"] == EMPTY_ANSWER_REFERENCE]
    if reference.empty:
        return None
    sentences: list[str] = []
    for name, ours in rows[rows["technique"] != EMPTY_ANSWER_REFERENCE].groupby(
        "technique", sort=False
    ):
        parts = []
        for _, row in ours.sort_values("clients").iterrows():
            same = reference[reference["clients"] == row["clients"]]
            if not same.empty:
                parts.append(empty_answer_pair(row, same.iloc[0]))
        if parts:
            sentences.append(
                f"{label(str(name))} ÷ {label(EMPTY_ANSWER_REFERENCE)}: " + "; ".join(parts)
            )
    if not sentences:
        return None
    return (
        "Empty poll answers at saturation (each client polls again as its answer arrives, "
        "nothing is published, the same clients; this run): " + ". ".join(sentences) + "."
    )


HEAD_TO_HEAD = ("baseline-websocket", "socketio-websocket", "aiohttp-sse", "socketio-polling")
"""The peers stated side by side with the technique they compare with (``PEERS``): a push
peer by CPU, latency and memory, a polling one by requests and bytes per message."""


def head_to_head(theirs: str) -> Callable[[Results], str | None]:
    """The finding that states peer ``theirs`` against pushlab's server of its technique."""
    peer = PEERS[theirs]
    compare = compare_push if peer.technique.pushes else compare_polling
    return lambda results: compare(results, peer.compares_with, theirs)


PEER_FINDINGS: tuple[Callable[[Results], str | None], ...] = (
    *(head_to_head(name) for name in HEAD_TO_HEAD),
    issue_15_ratios,
    fanout_finding,
)
"""Each returns a sentence, or None when the run did not measure what it compares."""
