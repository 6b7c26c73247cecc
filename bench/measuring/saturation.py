"""The saturation sweep (``--sweeps saturation``, issue 15): what does a "nothing new" cost?

Issue 15 asks that a poll answer with nothing new be cheap, measured against a bare aiohttp
handler that returns a constant (the ``baseline-polling`` peer): pushlab's polling server should
reach at least 90% of its requests per second at the same concurrency. So, at each client count
of ``saturation_clients`` (100 and 1,000 by default), every polling server of the run and that
peer are measured with the same clients in a closed loop: poll interval 0
(``pushlab.techniques.CLOSED_LOOP_S``, each client asks again the moment its answer arrives)
and publish rate 0, so every answer is "nothing new". The achieved rate is the row's
``requests_per_s``; a closed loop asks for no rate of its own, so the row has no target. It is
flagged ``generator_saturated`` when the load generator's CPU was near a full core, or when the
server's was not (in a closed loop every request is at the server or at the clients: a server
with CPU to spare was waiting for them). Then the rate is what Locust could ask, not what the
server could answer: ``peer_findings`` says so beside the ratio, and gives each server's
answers per second of its own CPU, which compare the servers whoever set the pace.

The sweep runs on the memory feed and one server process: the peer has no other feed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pushlab.techniques import CLOSED_LOOP_S, PEERS, behaviour

if TYPE_CHECKING:
    from pushlab.bench.measuring.scenarios import MatrixSettings, Scenario

SWEEP = "saturation"
REFERENCE = "baseline-polling"
"""The peer every polling server of the sweep is held against."""
NOTHING_PUBLISHED = 0.0

Builder = Callable[["MatrixSettings", str, int, float, float], "Scenario"]


def saturation_servers(settings: MatrixSettings) -> tuple[str, ...]:
    """The run's polling servers (techniques, then delivering peers), then the reference;
    nothing when the run has no polling server to compare with it."""
    polling = tuple(
        name
        for name in (*settings.techniques, *settings.peers)
        if behaviour(name).polls and (name not in PEERS or PEERS[name].delivers)
    )
    return (*polling, REFERENCE) if polling else ()


def saturation_rows(settings: MatrixSettings, build: Builder) -> list[tuple[str, Scenario]]:
    """The (sweep, scenario) pairs of the saturation sweep, client count by client count, so
    that the two servers of a pair are measured one after the other."""
    if SWEEP not in settings.sweeps:
        return []
    servers = saturation_servers(settings)
    return [
        (SWEEP, build(settings, name, clients, NOTHING_PUBLISHED, CLOSED_LOOP_S))
        for clients in sorted(set(settings.saturation_clients))
        for name in servers
    ]
