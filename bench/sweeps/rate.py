"""The rate sweep: more and more messages per second, at the base clients and interval.

Polling's requests per message fall as 1/(λT) (each poll carries more news); long polling stays
near one request per message; a push server's cost per message stays flat.
"""

from __future__ import annotations

from pushlab.bench.analysis.model_findings import rate_finding
from pushlab.bench.core.scenario import MatrixSettings, Scenario, at_base
from pushlab.bench.core.sweep import FigureSpec, Sweep
from pushlab.bench.presentation import sweeps as figures
from pushlab.bench.sweeps.clients import servers
from pushlab.bench.sweeps.radio import recorded


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    """Each server at each rate, every k-th client recorded for the radio model (the energy
    against the publish rate, from the default run)."""
    return [
        recorded(settings, at_base(settings, name, rate))
        for name in servers(settings)
        for rate in sorted(set(settings.rates))
    ]


SWEEP = Sweep(
    name="rate",
    title="Rate sweep: more and more messages per second, fixed clients",
    scenarios=scenarios,
    in_default=True,
    on_feeds=True,
    table_order=("publish_rate", "clients"),
    findings=(rate_finding,),
    figures=(
        FigureSpec(
            "rate_sweep",
            "Requests per message as the publish rate grows",
            "Polling's requests per message fall as 1/(λT): each poll carries more news. Long "
            "polling stays near one request per message, above it at low rates (timeouts) and "
            "below it when messages pile up while the client re-asks. The long-poll model uses "
            "the hold the run recorded (`hold_s`).",
            lambda results: figures.plot_rate_sweep(results.summary),
        ),
    ),
)
