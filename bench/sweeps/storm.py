"""The reconnect storm: the server restarted under load, with and without jitter.

For each technique of ``--storm-techniques`` (default websocket), four scenarios at
``--storm-rate`` (default 5 msg/s): ``--storm-clients`` Locust users (default 1,000) and
``--storm-pages`` Chromium pages (default 10), each once with the reconnect policy every
pushlab client runs (full jitter from 1 s, capped at 10 s) and once without jitter. A few
seconds into the window the server is killed and started again (``measuring/storm.py``); the
row gives the connections arriving per second after the restart (the figure), its peak, and
when the clients were back. Run by name only (``--sweeps storm``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.bench.core.sweep import FigureSpec, Sweep
from pushlab.bench.measuring.arguments import MAX_CLIENTS, name_list, one_number
from pushlab.bench.measuring.browser_lane import LanePart
from pushlab.bench.measuring.storm import StormPart, storm_window_s
from pushlab.bench.presentation.storm import plot_storm
from pushlab.bench.sweeps.browser import chromium_or_skip
from pushlab.techniques import NAMES, WEBSOCKET

NAME = "storm"


@dataclass(frozen=True)
class StormSettings:
    techniques: tuple[str, ...] = (WEBSOCKET.name,)
    clients: int = 1000
    pages: int = 10
    rate: float = 5.0


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--storm-techniques", type=name_list(NAMES), help="techniques restarted (default websocket)"
    )
    group.add_argument(
        "--storm-clients",
        type=one_number(int, 1, MAX_CLIENTS),
        help="Locust users of the storm (default 1000)",
    )
    group.add_argument(
        "--storm-pages",
        type=one_number(int, 1, 200),
        help="Chromium pages of the storm (default 10)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    given = {
        "techniques": args.storm_techniques and tuple(args.storm_techniques),
        "clients": args.storm_clients,
        "pages": args.storm_pages,
    }
    return {name: value for name, value in given.items() if value is not None}


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    own: StormSettings = settings.of(NAME)
    lanes = [("locust", own.clients)]
    if chromium_or_skip(NAME):
        lanes.append(("browser", own.pages))
    rows = []
    for technique in own.techniques:
        for lane, clients in lanes:
            at = scenario(settings, technique, clients, own.rate, settings.base_interval)
            at = replace(at, duration_s=storm_window_s(), generator_processes=0)
            for jitter in (True, False):
                rows.append(replace(at, parts=(LanePart(lane), StormPart(jitter))))
    return rows


SWEEP = Sweep(
    name=NAME,
    title="Reconnect storm: the server restarted under load, with and without jitter",
    scenarios=scenarios,
    settings=StormSettings(),
    options=options,
    from_options=from_options,
    in_default=False,
    in_full=False,
    columns=(
        c.text("storm_jitter", "jitter", "storm: the clients' reconnect jitter, full or none"),
        c.number("storm_down_s", "s", "restart took", "storm: kill → the new server listening"),
        c.number(
            "storm_peak_per_s",
            "/s",
            "peak arrivals",
            "storm: most connections (pages: requests) arriving in a second after the restart",
        ),
        c.number(
            "storm_back_p50_s", "s", "back, median", "storm: restart → a client's first message"
        ),
        c.number(
            "storm_all_back_s", "s", "all back", "storm: restart → the last client's first message"
        ),
        c.count("storm_back_clients", "clients back", "storm: clients that heard news again"),
        c.text(
            "storm_arrivals",
            "arrivals per second",
            "storm: connections arriving per second in each half second after the restart",
        ),
    ),
    table=(
        "clients",
        "lane",
        "storm_jitter",
        "storm_down_s",
        "storm_peak_per_s",
        "storm_back_p50_s",
        "storm_all_back_s",
        "storm_back_clients",
        "messages_lost",
        "gaps_signalled",
    ),
    table_order=("clients",),
    figures=(
        FigureSpec(
            "storm",
            "The reconnect storm: connections arriving after a restart",
            "Connections arriving at the server per second after it was killed and started "
            "again, with the clients' reconnect policy (full jitter from 1 s, capped at 10 s: "
            "solid) and without jitter (dashed). Locust users: each reconnect; Chromium pages: "
            "every request a page started.",
            lambda results: plot_storm(results.summary),
        ),
    ),
)
