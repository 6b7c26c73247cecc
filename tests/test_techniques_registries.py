"""Every table that has a row per technique (or per peer) has exactly one for each.

A fifth technique is an entry in ``pushlab.techniques`` plus a row in each table below; this
test names the tables a row is missing from, instead of a ``KeyError`` in the middle of a run.
The Locust users' tables are read in a process of their own: ``import locust`` patches the
interpreter for gevent, which the asyncio tests in this one must not see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Collection, Mapping

import pytest

from pushlab.bench.measuring.slow_consumer import SESSIONS
from pushlab.clients.__main__ import CONVERSATION_HELP
from pushlab.clients.conversation import TALKERS
from pushlab.peers.__main__ import MODULES
from pushlab.servers.app import SERVERS
from pushlab.techniques import NAMES, PEER_NAMES, PUSHED

TABLES: dict[str, tuple[Mapping[str, object], Collection[str]]] = {
    "pushlab.servers.app.SERVERS": (SERVERS, NAMES),
    "pushlab.clients.conversation.TALKERS": (TALKERS, NAMES),
    "pushlab.clients.__main__.CONVERSATION_HELP": (CONVERSATION_HELP, NAMES),
    "pushlab.bench.measuring.slow_consumer.SESSIONS": (SESSIONS, PUSHED),
    "pushlab.peers.__main__.MODULES": (MODULES, PEER_NAMES),
}
"""Each table, and the names it must have a row for: every technique, the pushed ones, or
every peer."""

LOCUST_TABLES: dict[str, Collection[str]] = {
    "pushlab.bench.measuring.generator.TECHNIQUE_USERS": NAMES,
    "pushlab.bench.measuring.peer_users.PEER_USERS": PEER_NAMES,
}


def difference(keys: Collection[str], expected: Collection[str]) -> str:
    missing, extra = sorted(set(expected) - set(keys)), sorted(set(keys) - set(expected))
    return f"missing {missing}, not in pushlab.techniques {extra}"


@pytest.mark.parametrize("name", TABLES)
def test_table_has_a_row_for_each_of_its_techniques(name: str) -> None:
    table, expected = TABLES[name]
    assert set(table) == set(expected), f"{name}: {difference(tuple(table), expected)}"


def test_locust_tables_have_a_row_for_each_of_their_techniques() -> None:
    reader = (
        "import importlib, json\n"
        f"tables = {list(LOCUST_TABLES)!r}\n"
        "print(json.dumps({t: list(getattr(importlib.import_module(t.rpartition('.')[0]),"
        " t.rpartition('.')[2])) for t in tables}))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", reader], capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    keys = json.loads(finished.stdout.splitlines()[-1])
    for name, expected in LOCUST_TABLES.items():
        assert set(keys[name]) == set(expected), f"{name}: {difference(keys[name], expected)}"
