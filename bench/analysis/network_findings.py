"""The findings of the network and fault sweeps (issue 12): every number from the run's rows.

Measured mean latency is held against :func:`model.network_mean_latency_s`, with the rate the
row's window really published (``comparison.py``'s rule), its poll interval and long-poll hold,
and counted in one-way transits (``RTT/2``): RFC 6202 §2.2 says long polling needs one transit
when its request is waiting and up to three when the message arrives while it re-asks. Each
comparison ends in a verdict: within ``TOLERANCE`` of the model, or the named cause of the
difference when the row shows one (the load generator's own delay, the bench's own floor, a
window too short to tell, the fan-out to the other clients: :func:`model_verdict`), or
"unexplained". A run with no network or fault rows writes nothing.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from pushlab.bench.analysis import model
from pushlab.bench.analysis.comparison import Check, messages_of, realised_rate
from pushlab.bench.analysis.per_message import PerMessage, per_message
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.wire import WIRE_STAMPED_ENOUGH
from pushlab.bench.core.columns import plain_number
from pushlab.techniques import NAMES, TECHNIQUES
from pushlab.techniques import label as technique_label

fmt = plain_number

TOLERANCE = 0.10
"""How close to the model a measured mean must come to agree with it without a named cause."""


def modelled_mean_ms(row: pd.Series) -> float:
    """The model's mean latency for one network row (Poisson arrivals, re-asking at once)."""
    rtt_ms = row["rtt_ms"]
    if pd.isna(rtt_ms) or row["technique"] not in TECHNIQUES:
        return math.nan
    hold_s = row["hold_s"]
    interval_s = row["poll_interval"]
    mean_s = model.network_mean_latency_s(
        row["technique"],
        rtt_ms / 1000,
        publish_rate=realised_rate(row),
        poll_interval_s=1.0 if pd.isna(interval_s) else interval_s,
        hold_timeout_s=np.inf if pd.isna(hold_s) else hold_s,
    )
    return float(mean_s) * 1000


def model_verdict(
    row: pd.Series,
    floor_ms: float = math.nan,
    *,
    own: PerMessage | None = None,
    floor: PerMessage | None = None,
    without_emulator: bool = False,
) -> str:
    """How the row's measured mean stands against the model, and why when it is off.

    The model has only the emulated network in it, and one client. The causes a row can name,
    each measured in the same run:

    - the load generator's own delay (its share of the mean latency, from the kernel's receive
      stamps: ``analysis/wire.py``);
    - the bench's own floor, ``floor_ms``: the same technique's mean with the emulator at 0 ms
      RTT (the server, the emulator's relay and the generator, with no network);
    - a window too short to tell: the row's and the floor's standard errors, from their
      per-message means (``own``, ``floor``: ``per_message.py``) when they held at least
      :data:`MESSAGES_FOR_AN_ERROR` messages; for long polling never less than the model's
      (every client re-asks at once, so the window's messages are the sample);
    - the fan-out: each message's first delivery is one client's path, which the model
      describes; when it agrees with one transit plus the floor's first delivery, the rest of
      the mean is the time the fan-out took to reach the other clients, which the model leaves
      out, measured in the row itself (and beside it, the floor's).

    ``without_emulator``: the floor is the same load measured without the emulator
    (:func:`direct_floor`, a run with no 0 ms row). Its mean is not the same path, so only its
    first delivery is used. Anything else is said to be unexplained.
    """
    measured_ms, model_ms = float(row["latency_mean_ms"]), float(row["model_mean_ms"])
    if math.isnan(measured_ms):
        return "no deliveries"
    if math.isnan(model_ms):
        return "no model for this row"
    if not model_ms > 0:
        return "no network: the bench's own floor"
    off = measured_ms / model_ms - 1
    if abs(off) <= TOLERANCE:
        return f"{off:+.0%}, within {TOLERANCE:.0%}"
    share = float(row.get("generator_share", math.nan))
    if float(row.get("wire_stamped", 0.0)) >= WIRE_STAMPED_ENOUGH and not math.isnan(share):
        on_wire = measured_ms * (1 - share) / model_ms - 1
        if abs(on_wire) <= TOLERANCE:
            return (
                f"{off:+.0%}; {on_wire:+.0%} without the load generator's own delay "
                f"(mean {fmt(measured_ms * share)} ms)"
            )
    expected_ms, on_floor = model_ms, ""
    if floor_ms > 0 and not without_emulator:
        expected_ms = model_ms + floor_ms
        on_floor = f" plus the bench's own floor ({fmt(floor_ms)} ms)"
        off_floor = measured_ms / expected_ms - 1
        if abs(off_floor) <= TOLERANCE:
            return f"{off:+.0%}; {off_floor:+.0%} from the model{on_floor}"
    se_ms = mean_se_ms(row, own)
    if on_floor:
        se_ms = math.hypot(se_ms, mean_se_ms(row, floor))
    check = Check(measured_ms, expected_ms, se_ms, messages_of(row)) if se_ms > 0 else None
    if check is not None and check.agrees:
        return f"{off:+.0%}; the model{on_floor}: {check.verdict()}"
    fan_out = fan_out_verdict(row, own, floor, without_emulator)
    if fan_out:
        return f"{off:+.0%}; {fan_out}"
    messages = messages_of(row)
    entry = TECHNIQUES.get(row["technique"])
    if messages < MESSAGES_FOR_AN_ERROR and entry is not None and not entry.polls:
        return (
            f"{off:+.0%}; {messages:,.0f} messages, too few to tell a cause (a window of at "
            f"least {MESSAGES_FOR_AN_ERROR}, beside a 0 ms row, can)"
        )
    if check is None:
        return f"{off:+.0%}, unexplained"
    return f"{off:+.0%}; the model{on_floor}: {check.verdict()}, unexplained"


MESSAGES_FOR_AN_ERROR = 10
"""A standard error estimated from fewer per-message means is itself too uncertain to judge by."""


def mean_se_ms(row: pd.Series, seen: PerMessage | None) -> float:
    """The standard error of a mean latency: measured from its messages when there are enough
    of them; for long polling never less than the model's (0 when neither is known)."""
    measured = seen.mean_se_ms if seen and seen.messages >= MESSAGES_FOR_AN_ERROR else 0.0
    return max(measured, modelled_se_ms(row))


def fan_out_verdict(
    row: pd.Series, own: PerMessage | None, floor: PerMessage | None, without_emulator: bool
) -> str:
    """ "first deliveries within …; the fan-out …", or "" when the first deliveries do not agree
    with one transit plus the floor's (or the row cannot say: polling, too few messages)."""
    entry = TECHNIQUES.get(row["technique"])
    if own is None or floor is None or entry is None or entry.polls:
        return ""
    if min(own.messages, floor.messages) < MESSAGES_FOR_AN_ERROR:
        return ""
    one_transit_ms = float(model.push_latency_s(row["rtt_ms"] / 2000)) * 1000
    expected_ms = one_transit_ms + floor.first_ms
    first = Check(
        own.first_ms, expected_ms, math.hypot(own.first_se_ms, floor.first_se_ms), own.messages
    )
    off_first = own.first_ms / expected_ms - 1
    if not (abs(off_first) <= TOLERANCE or first.agrees):
        return ""
    where = " without the emulator" if without_emulator else ""
    return (
        f"each message's first delivery {off_first:+.0%} from one transit plus the floor's"
        f"{where} ({fmt(floor.first_ms)} ms); the rest is the fan-out to the other clients, "
        f"{fmt(own.fanout_ms)} ms on average (the floor's {fmt(floor.fanout_ms)}), which the "
        "model (one client) leaves out"
    )


def modelled_se_ms(row: pd.Series) -> float:
    """The standard error of a long-poll row's mean latency under the model (0 for the others).

    After each message every client re-asks at once, so whether a message lands in the gap is
    one draw for them all: the sample is the window's messages, each waiting a uniform gap with
    the model's probability. (Polling clients poll at phases of their own, so their waits are
    many independent draws and a short window is no excuse; a pushed message has no modelled
    spread.)
    """
    messages = messages_of(row)
    entry = TECHNIQUES.get(row["technique"])
    if entry is None or entry.polls or entry.pushes or not entry.holds_request:
        return 0.0
    hold_s = row["hold_s"]
    sd_s = model.longpoll_latency_sd_s(
        realised_rate(row),
        row["rtt_ms"] / 2000,
        hold_timeout_s=np.inf if pd.isna(hold_s) else hold_s,
    )
    return 1000 * float(sd_s) / math.sqrt(messages)


PLAIN_SWEEPS = ("clients", "rate")
"""Sweeps whose rows are a technique alone: no emulator, proxy, fault or peer in the path."""


def direct_floor(results: Results, row: pd.Series) -> pd.Series | None:
    """The same technique, clients and rate measured in the same run without the emulator, for
    a run with no 0 ms row (the default matrix): a floor of the server and the generator
    alone. The emulator's own relay is not in it, so it is the smaller floor."""
    summary = results.summary
    same = summary[
        summary["sweep"].isin(PLAIN_SWEEPS)
        & (summary["technique"] == row["technique"])
        & (summary["clients"] == row["clients"])
        & np.isclose(summary["publish_rate"], row["publish_rate"])
    ]
    return None if same.empty else same.iloc[0]


def transits(latency_ms: float, rtt_ms: float) -> float:
    """A latency in one-way transits; NaN at zero RTT, where a transit is no unit."""
    return float(model.transits(latency_ms, rtt_ms)) if rtt_ms > 0 else math.nan


def network_rows(results: Results) -> pd.DataFrame:
    """The network sweep, each scenario once, with the model's mean beside the measured one."""
    rows = results.sweep("network").drop_duplicates("scenario")
    if rows.empty:
        return rows
    return rows.copy().assign(model_mean_ms=rows.apply(modelled_mean_ms, axis=1))


def _at_base_rate(rows: pd.DataFrame) -> pd.DataFrame:
    rate = rows["publish_rate"].mode().iloc[0]
    return rows[np.isclose(rows["publish_rate"], rate)]


def rtt_finding(results: Results) -> str | None:
    rows = network_rows(results)
    if rows.empty:
        return None
    rows = _at_base_rate(rows)
    at_zero = rows[(rows["rtt_ms"] == 0) & rows["poll_interval"].isna()]  # polling's is T/2
    floors = {row["technique"]: row for _, row in at_zero.iterrows()}
    seen = functools.cache(lambda scenario: per_message(results, scenario))  # a floor serves 3 RTTs

    def verdict(row: pd.Series) -> str:
        floor = floors.get(row["technique"]) if row["rtt_ms"] else None
        if floor is None and row["rtt_ms"] and pd.isna(row["poll_interval"]):
            floor = direct_floor(results, row)
        return model_verdict(
            row,
            math.nan if floor is None else floor["latency_mean_ms"],
            own=seen(row["scenario"]),
            floor=None if floor is None else seen(floor["scenario"]),
            without_emulator=floor is not None and floor["sweep"] != "network",
        )

    parts = []
    for rtt_ms, at_rtt in rows.groupby("rtt_ms"):
        cells = [
            f"{technique_label(row['technique'], row['poll_interval'])} "
            f"{fmt(row['latency_mean_ms'])} ms (model {fmt(row['model_mean_ms'])}: {verdict(row)})"
            for name in NAMES
            for _, row in at_rtt[at_rtt["technique"] == name].iterrows()
        ]
        parts.append(f"at {rtt_ms:g} ms RTT: " + ", ".join(cells))
    rate = rows["publish_rate"].iloc[0]
    return (
        f"Mean delivery latency through the emulated network at {rate:g} msg/s, measured and "
        f"modelled (polling T/2 + RTT/2, push RTT/2, long polling RTT/2 to 3·RTT/2): "
        + "; ".join(parts)
        + "."
    )


def longpoll_transits_finding(results: Results) -> str | None:
    """How many transits long polling needed at each publish rate, at one RTT."""
    rows = network_rows(results)
    held = [
        name for name in NAMES if TECHNIQUES[name].holds_request and not TECHNIQUES[name].pushes
    ]
    rows = rows[rows["technique"].isin(held) & (rows["rtt_ms"] > 0)] if not rows.empty else rows
    if rows.empty:
        return None
    rtt_ms = rows.groupby("rtt_ms")["publish_rate"].nunique().idxmax()
    rows = rows[rows["rtt_ms"] == rtt_ms].sort_values("publish_rate")
    parts = [
        f"{transits(row['latency_mean_ms'], rtt_ms):.2f} at {row['publish_rate']:g} msg/s "
        f"(model {transits(row['model_mean_ms'], rtt_ms):.2f})"
        for _, row in rows.iterrows()
    ]
    return (
        f"At {rtt_ms:g} ms RTT long polling needed, on average, {'; '.join(parts)} one-way "
        "transits per message: one when its request was waiting at the server, more when the "
        "message came while it was re-asking (RFC 6202 §2.2)."
    )


def fault_finding(results: Results) -> str | None:
    rows = results.sweep("faults").drop_duplicates("scenario")
    if rows.empty:
        return None
    parts = []
    for _, row in rows.iterrows():
        how = "resuming" if row["resume"] else "without resume"
        parts.append(
            f"{technique_label(row['technique'], row['poll_interval'])} {row['fault']} "
            f"({how}): {fmt(row['messages_lost'])} lost, {fmt(row['duplicated'])} duplicated, "
            f"back after {fmt(row['recovery_p50_ms'])} ms (median; slowest "
            f"{fmt(row['recovery_max_ms'])} ms), peak {fmt(row['peak_reconnects_per_s'])} "
            "reconnects/s"
        )
    text = "Faults injected once a third into the window: " + "; ".join(parts) + "."
    restarts = rows[rows["fault"] == "restart"]
    on_redis = restarts["feed"] == "redis" if "feed" in restarts else restarts["fault"] == ""
    if on_redis.any():
        text += (
            " On the Redis feed the restarted server found the old one's history and feed_id:"
            " a client that resumed from its cursor lost nothing it had not been told of."
        )
    if (~on_redis).any():
        text += (
            " A restart loses what the old server held and a client had not yet received: the "
            "feed lives in the server's memory, and the new server starts a new one (a new "
            "feed_id, ids from #1)."
        )
    return text
