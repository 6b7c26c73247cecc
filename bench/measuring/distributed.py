"""The harness's side of distributed load generation (issue 13): what to ask the generator for.

With ``--generator-processes N`` the generator process (``generator.py``) becomes Locust's
*master* and starts N Locust *workers*, each its own process pinned to its own CPU; with
``--generator-master --expect-workers K`` it starts none and waits for K workers started
elsewhere with the command it prints. Either way the harness talks to the master in the same
line protocol as to one local generator; ``generator_cluster.py`` (the Locust side) gathers
every worker's raw deliveries and clock offset. This module imports no Locust: the harness
process is never monkey-patched.
"""

from __future__ import annotations

from dataclasses import dataclass

from pushlab.bench.core.scenario import Scenario


@dataclass(frozen=True)
class RemoteWorkers:
    """Workers started on other machines: how many, and where they reach the master."""

    count: int
    master_bind: str = "127.0.0.1"


def distributed_args(scenario: Scenario, remote: RemoteWorkers | None) -> list[str]:
    """The generator's options for a master with workers (none for one local process)."""
    if remote is not None:
        return ["--expect-workers", str(remote.count), "--master-bind", remote.master_bind]
    if scenario.generator_processes > 0:
        return ["--processes", str(scenario.generator_processes)]
    return []


GENERATOR = "pushlab.bench.measuring.generator"
CLUSTER = "pushlab.bench.measuring.generator_cluster"


def generator_module(scenario: Scenario, remote: RemoteWorkers | None) -> tuple[str, list[str]]:
    """The generator's module and its extra options: one process, or a master with workers."""
    extra = distributed_args(scenario, remote)
    return (CLUSTER if extra else GENERATOR), extra
