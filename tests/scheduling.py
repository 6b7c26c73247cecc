"""Which tests share a worker when the suite runs on several (pytest-xdist; ``make test``).

``make test`` runs ``pytest -n N --dist loadgroup``: xdist hands each worker whole groups of
tests (``xdist_group``), one group at a time, in the order they were collected. This plugin
puts every test in a group and sorts the groups, longest first:

- tests marked ``slow`` (end-to-end runs of the bench harness) form one group, so one worker
  runs them one after another. The harness pins its server to CPU 0 and its generator to
  CPU 1: two runs at once would share those CPUs and measure each other. A lane adds its one
  end-to-end run to this group by marking it ``slow``.
- every other test stays with its module, as with ``--dist loadscope``: a module-scoped
  fixture (a server, a browser, the executed notebooks) is built once, on one worker.

The end-to-end group is the longest chain of the run, so it starts first; then the modules
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
END_TO_END_MARK = "slow"
WAITING_MARK = "browser"
WAITING_MODULES = frozenset({"test_notebooks.py"})
"""Modules that mostly wait (a Chromium, a kernel): started early, beside the end-to-end group."""


def group_of(item: pytest.Item) -> str:
    """The group a test runs in: the end-to-end chain, else its own module."""
    if item.get_closest_marker(END_TO_END_MARK) is not None:
        return END_TO_END_GROUP
    return item.nodeid.split("::", 1)[0]


def start_rank(item: pytest.Item) -> int:
    """0 for the end-to-end chain, 1 for the modules that wait, 2 for everything else."""
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
