"""The lifecycle sweep: browser pages hidden and frozen for a minute (or five), then shown.

For each technique and each duration of ``--lifecycle-for`` (default 60 s; ``60,300`` for
both), ``--lifecycle-pages`` Chromium pages (default 3) at the base rate: page 0 is left alone
(the control), page 1 is hidden, page 2 frozen (and so on in turn), a few seconds into the
window, then shown again (``measuring/lifecycle.py``, ``measuring/page_lifecycle.py``). The
row gives, for the hidden and for the frozen pages, what they received, what the server told
them was gone, what they lost silently, their reconnects, and how long after being shown
again they heard news and had caught up.

Long (a minute or five per technique): run by name only (``--sweeps lifecycle``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from pushlab.bench.analysis.lifecycle_findings import lifecycle_finding
from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.bench.core.sweep import Sweep
from pushlab.bench.measuring.arguments import number_list
from pushlab.bench.measuring.browser_lane import LanePart
from pushlab.bench.measuring.lifecycle import WINDOW_LEAD_S, LifecyclePart, lifecycle_window_s
from pushlab.bench.sweeps.browser import chromium_or_skip

NAME = "lifecycle"
MAX_FREEZE_S = 3600


@dataclass(frozen=True)
class LifecycleSettings:
    pages: int = 3
    for_s: tuple[float, ...] = (60.0,)


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--lifecycle-for",
        type=number_list(float, 1, MAX_FREEZE_S),
        help="how long the lifecycle sweep's pages stay frozen, e.g. 60,300 (s; default 60)",
    )
    group.add_argument(
        "--lifecycle-pages",
        type=number_list(int, 2, 50),
        help="pages per technique in the lifecycle sweep: the first left alone, the others "
        "hidden or frozen in turn (default 3)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.lifecycle_for is not None:
        changes["for_s"] = tuple(args.lifecycle_for)
    if args.lifecycle_pages is not None:
        changes["pages"] = args.lifecycle_pages[0]
    return changes


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    if not chromium_or_skip(NAME):
        return []
    own: LifecycleSettings = settings.of(NAME)
    rows = []
    for technique in settings.techniques:
        for for_s in own.for_s:
            at = scenario(
                settings, technique, own.pages, settings.base_rate, settings.base_interval
            )
            away = LifecyclePart(for_s, after_s=at.warmup_s + WINDOW_LEAD_S)
            rows.append(
                replace(
                    at,
                    duration_s=lifecycle_window_s(for_s),
                    generator_processes=0,
                    parts=(LanePart("browser"), away),
                )
            )
    return rows


def state_columns(state: str) -> tuple[c.Column, ...]:
    def count(name: str, label: str, description: str) -> c.Column:
        return c.count(
            f"{state}_{name}", f"{state}: {label}", f"lifecycle sweep, {state} pages: {description}"
        )

    def ms(name: str, label: str, description: str) -> c.Column:
        return c.number(
            f"{state}_{name}",
            "ms",
            f"{state}: {label}",
            f"lifecycle sweep, {state} pages: {description}",
        )

    return (
        count("pages", "pages", "how many"),
        count("received", "received", "window messages they received"),
        count("signalled", "signalled", "window messages a gap told them were gone"),
        count("lost", "lost", "window messages neither received nor signalled"),
        count(
            "heard_during", "heard meanwhile", f"deliveries that reached their code while {state}"
        ),
        count("reconnects", "reconnects", f"their reconnects after they were {state}"),
        ms("resume_ms", "first news after", "shown again → their first message (median)"),
        ms(
            "caught_up_ms",
            "caught up after",
            "shown again → the last message published before (slowest)",
        ),
    )


SWEEP = Sweep(
    name=NAME,
    title="Lifecycle sweep: browser pages hidden and frozen, then shown again",
    scenarios=scenarios,
    settings=LifecycleSettings(),
    options=options,
    from_options=from_options,
    in_default=False,
    in_full=False,
    columns=(
        c.number(
            "lifecycle_for_s",
            "s",
            "away for",
            "lifecycle sweep: how long pages were hidden or frozen",
        ),
        *state_columns("hidden"),
        *state_columns("frozen"),
    ),
    table=(
        "lifecycle_for_s",
        "messages_published",
        *(
            f"{state}_{name}"
            for state in ("hidden", "frozen")
            for name in (
                "received",
                "signalled",
                "lost",
                "heard_during",
                "reconnects",
                "resume_ms",
                "caught_up_ms",
            )
        ),
    ),
    table_order=("lifecycle_for_s",),
    findings=(lifecycle_finding,),
)
