"""The clients sweep: more and more clients, one publish rate, polling at the base interval.

Every technique and every delivering peer at each client count of ``--clients`` (the push
techniques also at ``push_clients``: ``--full`` adds 5,000), at the base rate. What grows with
the clients: polling's requests and bytes (clients × poll rate), the server's CPU and memory.
"""

from __future__ import annotations

from typing import Any

from pushlab.bench.core.columns import plain_number
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.bench.core.sweep import FigureSpec, Sweep
from pushlab.bench.presentation import sweeps as figures
from pushlab.techniques import DELIVERING_PEERS, behaviour, label


def servers(settings: MatrixSettings) -> tuple[str, ...]:
    """The run's techniques, and the peers that deliver (a constant handler has no messages)."""
    return (*settings.techniques, *(p for p in settings.peers if p in DELIVERING_PEERS))


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    rows = []
    for name in servers(settings):
        held = behaviour(name).holds_request  # a peer's flags are its technique's
        counts = settings.clients + (settings.push_clients if held else ())
        for clients in sorted(set(counts)):
            rows.append(
                scenario(settings, name, clients, settings.base_rate, settings.base_interval)
            )
    return rows


def memory_caption(results: Any) -> str:
    """What the memory figure shows, with this run's largest client count's figures."""
    rows = results.sweep("clients")
    largest = rows[rows["clients"] == rows["clients"].max()]
    per_client = {
        label(name): plain_number(float(group["rss_kb_per_client"].mean()))
        for name, group in largest.groupby("technique", sort=False)
    }
    measured = "; ".join(f"{name} {kb} KB" for name, kb in per_client.items())
    return (
        "Holding a connection open costs memory (socket buffers, a handler, a queue). A polling "
        "client holds no request between polls, but its keep-alive connection stays open, and "
        f"that costs memory too. Per client at {int(rows['clients'].max()):,} clients in this run: "
        f"{measured}."
    )


SWEEP = Sweep(
    name="clients",
    title="Clients sweep: more and more clients, one publish rate",
    scenarios=scenarios,
    in_default=True,
    on_feeds=True,
    table_order=("clients", "publish_rate"),
    figures=(
        FigureSpec(
            "traffic_vs_clients",
            "Requests and bytes as clients grow",
            "Polling makes requests whether or not there is news, so its requests and bytes grow "
            "with clients × poll rate; long polling makes about one request per delivered "
            "message; WebSocket and SSE only their handshakes.",
            lambda results: figures.plot_traffic(results.summary),
        ),
        FigureSpec(
            "cpu_vs_clients",
            "Server CPU as clients grow",
            "Left, the server's CPU; right, the same divided by delivered messages: what one "
            "message reaching one client costs. Every HTTP request is parsed and answered, news "
            "or not.",
            lambda results: figures.plot_cpu(results.summary),
        ),
        FigureSpec(
            "memory_vs_clients",
            "Server memory per connected client",
            memory_caption,
            lambda results: figures.plot_memory(results.summary),
        ),
    ),
)
