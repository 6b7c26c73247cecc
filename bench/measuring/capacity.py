"""The fan-out capacity search (``--sweeps capacity``, issue 14): how much can a push server
deliver before it falls behind?

For each push server of the run (pushlab's WebSocket and SSE, and every push peer asked
for), at a fixed client count, the publish rate climbs a ladder. A step *holds* when the
clients receive at least 98% of clients × rate × window messages and the delivery latency's
p99 stays within 500 ms (websocket-shootout's criterion); the search stops at the first step
that does not, or where the generator, not the server, may have been the limit (the row is
flagged, and the capacity found is then a lower bound). The report states the highest
sustained deliveries per second, per core of server CPU, from these rows.

The p99 is the *wire* latency's (publish → the client's kernel) when the row's deliveries are
kernel-stamped: whether the server kept up is whether its messages reached the clients in
time. What the load generator's one core adds after that is the bench's own delay, and at a
thousand clients it is most of the observed latency: held against the observed p99, the search
measured the generator, and the same server passed or failed a step from one run to the next.
The wire p99 errs on the safe side: one read that drains a backlog stamps every message in it
with the kernel's time of that read, so a generator far behind still shows there (and the step
fails); where the generator's own delay was past the limit too, the finding says the generator
may have been the limit. A server whose deliveries carry no kernel stamps (a Socket.IO peer)
is held to the observed p99, and the finding says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from pushlab.bench.analysis.peer_findings import DELIVERED_FRACTION, P99_LIMIT_MS
from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.analysis.wire import WIRE_STAMPED_ENOUGH
from pushlab.bench.core.scenario import MatrixSettings, Scenario, scenario
from pushlab.techniques import behaviour


def push_servers(settings: MatrixSettings) -> tuple[str, ...]:
    """The run's techniques and peers whose server pushes (polling cannot fan out)."""
    return tuple(name for name in (*settings.techniques, *settings.peers) if behaviour(name).pushes)


def holds(row: ResultRow) -> bool:
    """Did the server keep up at this step?

    Deliveries are held against what was published in the window (clients ×
    ``messages_published``), and the publisher, which runs in the server's own loop, must have
    kept its rate within one message: an overloaded server publishes late. Counting against
    rate × window instead would fail a step for the luck of the arrivals, not the server.
    """
    published_enough = (
        row.messages_published >= DELIVERED_FRACTION * row.publish_rate * row.duration_s - 1
    )
    offered = row.clients * row.messages_published
    delivered_enough = offered > 0 and row.messages_delivered >= DELIVERED_FRACTION * offered
    return (
        published_enough and delivered_enough and p99_ms(row) <= P99_LIMIT_MS and row.load_achieved
    )


def p99_ms(row: ResultRow) -> float:
    """The p99 a step is held to: the wire's where the deliveries were kernel-stamped."""
    stamped = row.wire_stamped >= WIRE_STAMPED_ENOUGH  # False for NaN: nothing stamped
    return row.wire_latency_p99_ms if stamped else row.latency_p99_ms


def search(
    settings: MatrixSettings,
    clients: int,
    rates: tuple[float, ...],
    measure: Callable[[Scenario], ResultRow],
    sweep: str,
) -> dict[str, ResultRow]:
    """Climb the rate ladder for every push server; ``measure`` runs one step and returns its
    row. Returns each server's rows as measured, marked ``sustained`` where the step held."""
    rows: dict[str, ResultRow] = {}
    for name in push_servers(settings):
        for rate in sorted(rates):
            step = scenario(settings, name, clients, rate, settings.base_interval)
            step = replace(step, arrivals="periodic")  # the rate itself, not a draw around it
            row = measure(step)
            held = holds(row)
            rows[step.id] = replace(row, sweep=sweep).with_columns(sustained=held)
            if not held or row.generator_saturated:
                break
    return rows


def highest_sustained(rows: list[ResultRow]) -> ResultRow | None:
    """The sustained step with the most deliveries per second, or None if none held."""
    held = [row for row in rows if row.sustained]
    return max(held, key=lambda row: row.messages_delivered / row.duration_s, default=None)
