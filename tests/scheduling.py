"""Which tests share a worker when the suite runs on several (pytest-xdist; ``make test``).

``make test`` runs ``pytest -n N --dist loadgroup``: xdist hands each worker whole groups of
tests (``xdist_group``), one group at a time, in the order they were collected. This plugin
puts every test in a group and sorts the groups, longest first:

- tests marked ``slow`` (end-to-end runs of the bench harness) form three chains, each run
  one test after another on one worker: at most three runs at once. A module's slow tests stay
  in one chain, so its module-scoped run is made once. The harness pins its server to CPU 0
  and its generator to CPU 1, so two runs share those CPUs (on a 2-core machine every other
  test shares them too): the end-to-end tests assert counts and ratios, never durations, so
  a neighbour slows them without changing what they check. The second and third chains hold
  the modules named in ``OTHER_CHAINS``, chosen to balance the three (``--durations`` shows
  the costs); a lane's new end-to-end module joins the first by being marked ``slow``.
- every other test stays with its module, as with ``--dist loadscope``: a module-scoped
  fixture (a server, a browser, the executed notebooks) is built once, on one worker.

The end-to-end chains are the longest of the run, so they start first; then the modules
that drive Chromium or run the notebooks, which wait on a browser or a kernel more than they
use a CPU; then the rest, in collection order. A test that already carries an
``xdist_group`` mark keeps it. Without xdist (``pytest tests/test_x.py``) this changes
nothing: tests run in collection order.

xdist carries a test's group to the scheduler as a suffix of its node id (``…::test@group``).
pytest 9.2 ignores that suffix and xdist 3.8 then hands the tests out one by one, with no
error; ``pytest_collection_finish`` below stops the run instead, so the groups either hold
or the suite says why.
"""

from __future__ import annotations

import os
import sys

import pytest

END_TO_END_GROUP = "end-to-end"
OTHER_CHAINS = {
    "end-to-end-2": frozenset({"test_bench_faults.py", "test_saturation.py", "test_radio_e2e.py"}),
    "end-to-end-3": frozenset({"test_distributed.py", "test_bench_proxy.py", "test_peers.py"}),
}
"""Modules whose ``slow`` tests form the second and third chains: the fault, saturation and
radio runs; the distributed, proxy and peer runs (each about as long as the first chain, the
``--quick`` run's and the harness's own)."""
END_TO_END_MARK = "slow"
WAITING_MARK = "browser"
WAITING_MODULES = frozenset({"test_notebooks.py"})
"""Modules that mostly wait (a Chromium, a kernel): started early, beside the end-to-end chains."""


def group_of(item: pytest.Item) -> str:
    """The group a test runs in: one of the end-to-end chains, else its own module."""
    if item.get_closest_marker(END_TO_END_MARK) is not None:
        chains = (group for group, modules in OTHER_CHAINS.items() if item.path.name in modules)
        return next(chains, END_TO_END_GROUP)
    return item.nodeid.split("::", 1)[0]


def start_rank(item: pytest.Item) -> int:
    """0 for the end-to-end chains, 1 for the modules that wait, 2 for everything else."""
    if item.get_closest_marker(END_TO_END_MARK) is not None:
        return 0
    if item.get_closest_marker(WAITING_MARK) is not None or item.path.name in WAITING_MODULES:
        return 1
    return 2


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks (it appends the group to nodeids)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return  # one process: collection order, each module's tests together
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group_of(item)))
    items.sort(key=start_rank)  # stable: within a rank, collection order


def pytest_collection_finish(session: pytest.Session) -> None:
    """On a ``--dist loadgroup`` worker, fail unless xdist has written each test's group."""
    if not getattr(session.config.option, "loadgroup", False):  # set on xdist workers only
        return
    ungrouped = [item.nodeid for item in session.items if "@" not in item.nodeid]
    if ungrouped:
        message = (
            f"xdist did not group {len(ungrouped)} tests (first: {ungrouped[0]}): this "
            "pytest and pytest-xdist do not agree on node ids; see the pytest pin in pyproject.toml"
        )
        print(message, file=sys.stderr)  # the controller shows a worker's stderr, not its error
        raise pytest.UsageError(message)
