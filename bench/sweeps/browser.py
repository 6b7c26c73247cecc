"""The browser sweep: each technique loaded by Chromium pages and by Locust users, side by side.

For each technique and each page count of ``--browser-pages`` (default 10; ``--full`` 10 and
50, about what two cores hold), two scenarios at the base rate and interval: one with Locust's
users, one with that many pages of one headless Chromium, each running the classroom page's
own client (``servers/static/clients.js``) inside ``bench-page.html``
(``measuring/browser_generator.py``). The rows sit side by side in the table (column
``lane``), and the finding compares their latency, requests per message and bytes per message.

Without Chromium or the playwright package the sweep measures nothing and says why; under
``CI=true`` that is an error.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from typing import Any

from pushlab.bench.analysis.browser_findings import browser_finding
from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.bench.core.sweep import Sweep
from pushlab.bench.measuring import chromium
from pushlab.bench.measuring.arguments import number_list
from pushlab.bench.measuring.browser_lane import LanePart

NAME = "browser"
MAX_PAGES = 200
"""Each page is a renderer process of its own: a few hundred MB of RAM per ten."""


@dataclass(frozen=True)
class BrowserSettings:
    pages: tuple[int, ...] = (10,)


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--browser-pages",
        type=number_list(int, 1, MAX_PAGES),
        help="Chromium pages of the browser sweep, e.g. 10,50 (default 10; --quick 3; "
        "--full 10,50); each count is also run with as many Locust users",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    return {} if args.browser_pages is None else {"pages": tuple(args.browser_pages)}


def chromium_or_skip(sweep: str) -> bool:
    """True if Chromium pages can run here; else say why and skip (under CI: an error)."""
    reason = chromium.missing_reason()
    if reason is None:
        return True
    if chromium.must_run():
        raise RuntimeError(f"CI=true but the {sweep} sweep cannot run: {reason}")
    print(f"{sweep} sweep skipped: {reason}", file=sys.stderr)
    return False


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    if not chromium_or_skip(NAME):
        return []
    own: BrowserSettings = settings.of(NAME)
    rows = []
    for technique in settings.techniques:
        for pages in own.pages:
            at = scenario(settings, technique, pages, settings.base_rate, settings.base_interval)
            at = replace(at, generator_processes=0)
            rows += [replace(at, parts=(LanePart(lane),)) for lane in ("locust", "browser")]
    return rows


SWEEP = Sweep(
    name=NAME,
    title="Browser sweep: Chromium pages beside Locust users, at the same load",
    scenarios=scenarios,
    settings=BrowserSettings(),
    quick={"pages": (3,)},
    full={"pages": (10, 50)},
    options=options,
    from_options=from_options,
    in_default=False,
    in_full=True,
    columns=(c.text("lane", "lane", "browser sweep: Locust users or Chromium pages"),),
    table=(
        "clients",
        "lane",
        "publish_rate",
        "poll_interval",
        "latency_p50_ms",
        "latency_p99_ms",
        "requests_per_message",
        "bytes_per_message",
        "missed",
        "messages_lost",
        "gaps_signalled",
        "reconnects",
    ),
    table_order=("clients",),  # then technique; a technique's Locust row comes first
    findings=(browser_finding,),
)
