"""The report's figures: each one's file name, heading, caption and drawing function, in order.

One table (:data:`FIGURES`), so that adding a figure is one entry; :func:`write_plots` draws every
figure a run has data for and says why it skipped the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from pushlab.bench.analysis.results import Results
from pushlab.bench.presentation import (
    distributions,
    network,
    peers,
    polling,
    scale_out,
    sweeps,
    timeline,
)


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the report: its file name, heading, what to look for, and how to draw it."""

    name: str
    title: str
    caption: str
    draw: Callable[[Results], Figure]


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "latency_cdf",
        "Delivery latency",
        "Each line is the distribution of publish → client latency. Pushed messages (WebSocket, "
        "SSE) and long polls arrive within a few transits; polling's line is a ramp across one "
        "poll interval, because a message waits for the next poll.",
        lambda results: distributions.plot_latency_cdf(results).figure,
    ),
    FigureSpec(
        "traffic_vs_clients",
        "Requests and bytes as clients grow",
        "Polling makes requests whether or not there is news, so its requests and bytes grow "
        "with clients × poll rate; long polling makes about one request per delivered message; "
        "WebSocket and SSE only their handshakes.",
        lambda results: sweeps.plot_traffic(results.summary),
    ),
    FigureSpec(
        "cpu_vs_clients",
        "Server CPU as clients grow",
        "Left, the server's CPU; right, the same divided by delivered messages: what one message "
        "reaching one client costs. Every HTTP request is parsed and answered, news or not.",
        lambda results: sweeps.plot_cpu(results.summary),
    ),
    FigureSpec(
        "polling_vs_interval",
        "Polling's trade-off, measured against the model",
        "Points are measurements, dashed lines the model of `bench/analysis/model.py`: empty "
        "fraction e^(−λT) for Poisson arrivals, mean latency T/2 + transit, "
        "requests per message 1/(λT).",
        lambda results: polling.plot_polling_vs_interval(results.summary),
    ),
    FigureSpec(
        "rate_sweep",
        "Requests per message as the publish rate grows",
        "Polling's requests per message fall as 1/(λT): each poll carries more news. Long "
        "polling stays near one request per message, above it at low rates (timeouts) and below "
        "it when messages pile up while the client re-asks. The long-poll model uses the hold the "
        "run recorded (`longpoll_hold_s`).",
        lambda results: sweeps.plot_rate_sweep(results.summary),
    ),
    FigureSpec(
        "memory_vs_clients",
        "Server memory per connected client",
        "Holding a connection open costs memory (socket buffers, a handler, a queue); polling "
        "holds nothing between requests.",
        lambda results: sweeps.plot_memory(results.summary),
    ),
    FigureSpec(
        "scale_out",
        "Past one process: server workers on a Redis feed",
        "Left, deliveries per second; right, server CPU per delivered message (summed over the "
        "workers; Redis's own CPU is not in it). Stars: the memory feed at one worker, so the "
        "step from star to line is what the Redis backplane costs. Hollow: the workers and the "
        "generator shared too few cores.",
        lambda results: scale_out.plot_scale_out(results.summary),
    ),
    FigureSpec(
        "network",
        "Through an emulated network: latency against RTT and publish rate",
        "Points are measured means through `pushlab.netem`, dashed lines the model: polling "
        "T/2 + RTT/2, WebSocket and SSE RTT/2, long polling from RTT/2 (its request waiting) "
        "towards RTT/2 + RTT/2 as the publish rate grows (messages that arrive while it "
        "re-asks wait up to a round trip more; RFC 6202 §2.2).",
        lambda results: network.plot_network(results.summary),
    ),
    FigureSpec(
        "timeline",
        "A few real seconds of each technique",
        "A sequence diagram drawn from the recorded trace: requests up, answers and pushes down, "
        "publishes as stars, empty answers dashed.",
        lambda results: timeline.plot_timeline(results.trace),
    ),
    # issue 14: pushlab beside its peers, and the capacity search
    FigureSpec(
        "peers",
        "pushlab and its peers",
        "Every server at the load most of them were measured at: pushlab's four in their "
        "colours, the peers (textbook loop, websockets.broadcast(), python-socketio, "
        "aiohttp-sse) in grey. CPU is server CPU time per delivered message.",
        lambda results: peers.plot_peer_comparison(results.summary),
    ),
    FigureSpec(
        "capacity",
        "Fan-out capacity",
        "The capacity search raises the publish rate at a fixed client count; a filled point "
        "is a step that held (≥ 98% of clients × rate delivered, p99 ≤ 500 ms).",
        lambda results: peers.plot_capacity(results.summary),
    ),
)


@dataclass(frozen=True)
class DrawnFigure:
    spec: FigureSpec
    path: Path | None  # None when the run has no data for it
    reason: str = ""


def write_plots(results: Results, plots_dir: Path) -> list[DrawnFigure]:
    """Save every figure the run has data for as ``plots_dir/<name>.png``.

    A figure whose sweep is missing (a quick run may skip one) is reported, not drawn; any
    other error is a bug and propagates.
    """
    plots_dir.mkdir(parents=True, exist_ok=True)
    drawn = []
    for spec in FIGURES:
        try:
            figure = spec.draw(results)
        except ValueError as missing:
            drawn.append(DrawnFigure(spec, None, str(missing)))
            continue
        path = plots_dir / f"{spec.name}.png"
        figure.savefig(path)
        drawn.append(DrawnFigure(spec, path))
    return drawn
