"""The radio sweep: what each technique costs a phone's cellular radio.

Every technique at each rate of ``--radio-rates`` (polling at each interval of
``--radio-intervals``), with a few clients, every k-th of them recorded write by write
(``--radio-sample-every``; the part: ``measuring/radio_part.py``). Each window lasts at least
``--radio-window-s``, longer than the radios' tails, so that a window sees the radio fall asleep
if the traffic lets it, and opens ``settle_s`` after the publisher starts, longer than either
tail after the clients connected, so that the burst of their connecting is over. The row's
columns run ARO's LTE and 3G state machines over those timelines
(``analysis/radio_window.py``); the findings and figures add the same model over each
technique's rules (``analysis/radio_curves.py``).

Its long windows would add minutes to ``make bench``, so the sweep itself runs by name and in
``--full``. ``make bench`` still gets energy columns, findings and figures from its own rows:
:func:`recorded` puts an unnamed radio part on the rate and interval sweeps' rows (their ids do
not change), and the findings and figures draw on those rows when the run has no radio sweep.
Their windows are the default ones (6 s, opened about a second after the clients connected),
shorter than either tail, and the rows say so (``radio_short_window_<profile>``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from pushlab.bench.analysis.radio import tail_s
from pushlab.bench.analysis.radio_findings import (
    crossover_finding,
    energy_finding,
    heartbeat_finding,
    radio_rows,
    short_windows,
)
from pushlab.bench.analysis.radio_window import column_name
from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.bench.core.sweep import FigureSpec, Sweep
from pushlab.bench.measuring.arguments import (
    MAX_CLIENTS,
    MAX_POLL_INTERVAL_S,
    MAX_PUBLISH_RATE,
    MIN_PUBLISH_RATE,
    number_list,
    one_number,
    seconds,
)
from pushlab.bench.measuring.radio_part import RadioPart
from pushlab.bench.presentation import radio as figures
from pushlab.radio_profiles import PROFILES
from pushlab.techniques import behaviour

NAME = "radio"


@dataclass(frozen=True)
class RadioSettings:
    clients: int = 20
    sample_every: int = 5
    rates: tuple[float, ...] = (0.1, 1.0)
    intervals: tuple[float, ...] = (1.0, 10.0)
    window_s: float = 20.0  # longer than LTE's tail (10.12 s) and 3G's (17 s)
    settle_s: float = 18.0  # warm-up longer than either tail: the connection's burst is over


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--radio-rates",
        type=number_list(float, MIN_PUBLISH_RATE, MAX_PUBLISH_RATE),
        help="publish rates of the radio sweep (msg/s, default 0.1,1; --quick 1)",
    )
    group.add_argument(
        "--radio-intervals",
        type=number_list(float, 0.05, MAX_POLL_INTERVAL_S),
        help="poll intervals of the radio sweep (s, default 1,10; --quick 1)",
    )
    group.add_argument(
        "--radio-clients",
        type=one_number(int, 1, MAX_CLIENTS),
        help="clients per radio scenario (default 20; --quick 10)",
    )
    group.add_argument(
        "--radio-sample-every",
        type=one_number(int, 1, MAX_CLIENTS),
        help="record the traffic of every K-th client for the radio model, in the radio "
        "sweep and in the rate and interval sweeps' rows (default 5)",
    )
    group.add_argument(
        "--radio-window-s",
        type=seconds(1, 3600, zero_allowed=False),
        help="the radio sweep's shortest window (s, default 20; --quick 3)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    given = {
        "rates": args.radio_rates,
        "intervals": args.radio_intervals,
        "clients": args.radio_clients,
        "sample_every": args.radio_sample_every,
        "window_s": args.radio_window_s,
    }
    return {name: value for name, value in given.items() if value is not None}


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    own: RadioSettings = settings.of(NAME)
    longer = replace(settings, duration_s=max(settings.duration_s, own.window_s))
    part = RadioPart(sample_every=own.sample_every)
    rows = []
    for name in settings.techniques:
        intervals = sorted(set(own.intervals)) if behaviour(name).polls else [1.0]
        for rate in sorted(set(own.rates)):
            for interval in intervals:
                item = scenario(longer, name, own.clients, rate, interval)
                # One generator process: the recorder lives in it (a cluster records nothing).
                warmup_s = max(item.warmup_s, own.settle_s)
                rows.append(replace(item, warmup_s=warmup_s, generator_processes=0, parts=(part,)))
    return rows


def recorded(settings: MatrixSettings, item: Scenario) -> Scenario:
    """``item`` with every k-th client recorded for the radio model (``--radio-sample-every``),
    its id and window unchanged: how the default rows carry radio columns. A scenario run by a
    cluster of generator processes is left alone (the recorder lives in a single generator)."""
    if item.generator_processes or item.technique not in settings.techniques:
        return item
    own: RadioSettings = settings.own.get(NAME, RadioSettings())
    part = RadioPart(sample_every=own.sample_every, named=False)
    return replace(item, parts=(*item.parts, part))


def energy_caption(results: Any) -> str:
    """The energy figure's caption, with the caveat of short windows when its points have them."""
    rows = radio_rows(results)
    return (
        "Points: the modelled radio energy of sampled clients' real traffic (ARO's LTE and 3G "
        "defaults); lines: the same model over each technique's rules with the write sizes the "
        "run measured; ×: where a push line crosses a polling line. A model over measured "
        "traffic, not a measured phone: fast dormancy and the OS's batching of background "
        "traffic are not in it." + short_windows(rows, tuple(PROFILES.values()))
    )


def _profile_columns() -> tuple[c.Column, ...]:
    made = []
    for profile in PROFILES.values():
        p = profile.label
        made += [
            c.number(
                column_name("j_per_hour", profile.name),
                "J/h",
                f"{p} radio energy per client-hour",
                f"the sampled clients' modelled {p} radio energy (ARO defaults), per client-hour",
            ),
            c.number(
                column_name("j_per_message", profile.name),
                "J",
                f"{p} radio energy per message",
                f"the sampled clients' modelled {p} radio energy over the window's messages "
                "they received (heartbeats included)",
            ),
            c.number(
                column_name("awake_fraction", profile.name),
                "",
                f"{p} radio awake",
                f"fraction of the window the sampled clients' {p} radio was not idle",
                ".0%",
            ),
            c.number(
                column_name("promotions_per_hour", profile.name),
                "/h",
                f"{p} promotions per hour",
                f"the sampled clients' {p} radio wake-ups from idle (3G: and FACH → DCH), per hour",
            ),
            c.flag(
                column_name("short_window", profile.name),
                f"{p} window short",
                f"the window was shorter than the {p} tail ({tail_s(profile):g} s) or opened "
                "within one after the sampled clients connected: its energy reads high where the "
                "traffic would let the radio drop to a lower-power state (the default rows; the "
                "radio sweep's windows are long)",
            ),
        ]
    return tuple(made)


SWEEP = Sweep(
    name=NAME,
    title="Radio sweep: what each technique costs a phone's cellular radio (model over traffic)",
    scenarios=scenarios,
    settings=RadioSettings(),
    quick={"rates": (1.0,), "intervals": (1.0,), "clients": 10, "window_s": 3.0, "settle_s": 1.0},
    options=options,
    from_options=from_options,
    in_default=False,  # its long windows would add minutes: `make bench` records its own rows
    in_full=True,
    columns=(
        c.count(
            "radio_clients",
            "radio clients",
            "clients whose traffic was recorded (the radio sweep's rows, and the default rate "
            "and interval rows)",
        ),
        c.count("radio_sample_every", "radio sampling", "one client in this many was recorded"),
        c.number(
            "radio_settle_s",
            "s",
            "radio settle",
            "from the last sampled client's connection (its first write) to the window's start",
        ),
        *_profile_columns(),
    ),
    table=(
        "publish_rate",
        "radio_clients",
        *(column_name(m, p) for p in PROFILES for m in ("j_per_hour", "j_per_message")),
        *(column_name("awake_fraction", p) for p in PROFILES),
    ),
    table_order=("publish_rate", "poll_interval"),
    findings=(energy_finding, heartbeat_finding, crossover_finding),
    figures=(
        FigureSpec(
            "radio_energy_vs_rate",
            "A phone's radio: energy per client-hour against the publish rate",
            energy_caption,
            figures.plot_energy_vs_rate,
        ),
        FigureSpec(
            "radio_polling_vs_interval",
            "Polling's radio energy against its interval",
            "Below the radio's tail (grey lines) every poll finds the radio still awake and "
            "polling costs nearly the same at any interval; past it, each poll pays a promotion "
            "and a whole tail.",
            figures.plot_polling_vs_interval,
        ),
    ),
)
