"""A row's deliveries message by message: how sure its mean is, and where its fan-out starts.

One message reaches every client of a row at nearly the same moment, through the same server
loop, emulator and generator, so its clients share its fate (when it was published, a re-ask
it met): for the mean latency the window's *messages* are the sample, not its deliveries. And
each message's *first* delivery is the path of one client (what the network model describes);
the rest of the mean, ``mean − first``, is the time the fan-out took to reach the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from pushlab.bench.analysis.results import Results


@dataclass(frozen=True)
class PerMessage:
    messages: int
    mean_se_ms: float  # the spread of the per-message mean latencies over √N
    first_ms: float  # each message's first delivery, averaged over the messages
    first_se_ms: float
    fanout_ms: float  # the mean latency minus first_ms: reaching every other client


def per_message(results: Results, scenario: str) -> PerMessage | None:
    """None without per-delivery data (or message ids), or with fewer than two messages."""
    if not results.has_latency(scenario):
        return None
    ids = results.message_ids(scenario)
    if ids is None or len(ids) == 0:
        return None
    latency = pd.Series(results.latency_ms(scenario))
    by_message = latency.groupby(ids)  # one feed's ids: a restart's new feed would repeat them
    means, firsts = by_message.mean(), by_message.min()
    if len(means) < 2:
        return None
    root_n = math.sqrt(len(means))
    return PerMessage(
        messages=len(means),
        mean_se_ms=float(means.std(ddof=1) / root_n),
        first_ms=float(firsts.mean()),
        first_se_ms=float(firsts.std(ddof=1) / root_n),
        fanout_ms=float(latency.mean() - firsts.mean()),
    )
