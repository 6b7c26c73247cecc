"""The browser lane beside Locust's, in one sentence per technique (the browser sweep's finding).

Each pair of rows is one technique at the same clients, rate and interval, loaded once by
Locust's users and once by Chromium pages running the classroom page's own client. The
sentence gives both rows' median latency, requests per message and bytes per message, and
says which differ by more than a tenth, with the reason that difference has on the wire:

- **bytes**: a browser sends its own headers with every request (``User-Agent``,
  ``Accept-*``, ``Sec-Fetch-*``, client hints) and its upgrade asks for permessage-deflate: a
  technique that makes a request per message pays them per message;
- **requests**: the page's clients add requests of their own (a ``/stats`` to find the feed)
  and follow the server's answers as Locust's users do, so a difference there is a behaviour
  of the client, named in the row's notes;
- **latency**: a page hears a message only once Chromium's network process has handed it to
  the page's renderer and the renderer has run the client's code (parse, dispatch, our
  record): a process hop further than a Locust greenlet, with every page's renderer sharing
  the generator's one CPU.
"""

from __future__ import annotations

import math

import pandas as pd

from pushlab.bench.analysis.results import Results
from pushlab.bench.core.columns import plain_number
from pushlab.techniques import label

SWEEP = "browser"
BROWSER, LOCUST = "Chromium pages", "Locust users"
DIFFERENT = 0.10
"""A relative difference past this is called a difference (on one run: a reading, not a test)."""
PAIRED_BY = ["technique", "clients", "publish_rate", "poll_interval"]
COMPARED = {
    "latency_p50_ms": ("median latency", "ms"),
    "requests_per_message": ("requests per message", ""),
    "bytes_per_message": ("bytes per message", " B"),
}
WHY = {
    "latency_p50_ms": "a page hears a message only once Chromium's network process has handed it "
    "to the page's renderer and the renderer has run the client's code, every page's renderer "
    "on the generator's one CPU",
    "requests_per_message": "the page's client asks on its own schedule (see the notes)",
    "bytes_per_message": "a browser's request headers are larger than Locust's",
}


def pairs(rows: pd.DataFrame) -> list[tuple[pd.Series, pd.Series]]:
    """(browser row, Locust row) at the same technique, clients, rate and interval."""
    if "lane" not in rows:
        return []
    found = []
    for _, browser in rows[rows["lane"] == BROWSER].iterrows():
        same = rows["lane"] == LOCUST
        for column in PAIRED_BY:
            value = browser[column]
            same &= rows[column].isna() if pd.isna(value) else rows[column] == value
        if same.any():
            found.append((browser, rows[same].iloc[0]))
    return found


def relative_difference(browser: float, locust: float) -> float:
    if math.isnan(browser) or math.isnan(locust) or locust == 0:
        return math.nan
    return (browser - locust) / locust


def pair_sentence(browser: pd.Series, locust: pd.Series) -> str:
    figures, reasons = [], []
    for column, (words, unit) in COMPARED.items():
        b, lo = float(browser[column]), float(locust[column])
        figures.append(f"{words} {plain_number(b)}{unit} (Locust {plain_number(lo)}{unit})")
        change = relative_difference(b, lo)
        if not math.isnan(change) and abs(change) > DIFFERENT:
            reasons.append(f"{words} {change:+.0%}: {WHY[column]}")
    where = "; ".join(reasons) if reasons else "no figure differs by more than a tenth"
    return (
        f"{label(str(browser['technique']))} at {int(browser['clients']):,} clients and "
        f"{plain_number(float(browser['publish_rate']))} msg/s: "
        + ", ".join(figures)
        + f" — {where}"
    )


def browser_finding(results: Results) -> str | None:
    rows = results.sweep(SWEEP)
    found = pairs(rows) if not rows.empty else []
    if not found:
        return None
    sentences = [pair_sentence(browser, locust) for browser, locust in found]
    return "Chromium pages beside Locust users (this run): " + ". ".join(sentences) + "."
