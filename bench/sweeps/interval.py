"""The interval sweep: polling faster and slower, at the base clients and rate.

Only the techniques that poll run it. Their trade-off against the model of
``analysis/model.py``: the empty fraction e^(−λT), mean latency T/2 + transit, requests per
message 1/(λT).
"""

from __future__ import annotations

from pushlab.bench.analysis.model_findings import polling_model_finding
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.bench.core.sweep import FigureSpec, Sweep
from pushlab.bench.presentation import polling as figures
from pushlab.bench.sweeps.clients import servers
from pushlab.bench.sweeps.radio import recorded
from pushlab.techniques import behaviour


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    """Each polling server at each interval, every k-th client recorded for the radio model
    (polling's energy against its interval, from the default run)."""
    return [
        recorded(
            settings, scenario(settings, name, settings.base_clients, settings.base_rate, interval)
        )
        for name in servers(settings)
        if behaviour(name).polls
        for interval in sorted(set(settings.intervals))
    ]


SWEEP = Sweep(
    name="interval",
    title="Interval sweep: polling faster and slower",
    scenarios=scenarios,
    in_default=True,
    on_feeds=True,
    table_order=("poll_interval", "clients"),
    findings=(polling_model_finding,),
    figures=(
        FigureSpec(
            "polling_vs_interval",
            "Polling's trade-off, measured against the model",
            "Points are measurements, dashed lines the model of `bench/analysis/model.py`: empty "
            "fraction e^(−λT) for Poisson arrivals, mean latency T/2 + transit, "
            "requests per message 1/(λT).",
            lambda results: figures.plot_polling_vs_interval(results.summary),
        ),
    ),
)
