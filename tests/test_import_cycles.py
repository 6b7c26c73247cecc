"""These modules import, directly or round about, no module that imports them back.

Read from the sources (``ast``), so an import under ``if TYPE_CHECKING:`` or inside a function
counts too: a cycle there is still two modules that cannot be read one without the other.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"pushlab": "pushlab", "servers": "pushlab.servers", "clients": "pushlab.clients"}


def modules() -> dict[str, Path]:
    """Installed module name → source file, for the floor, the servers and the clients."""
    found = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).glob("*.py"):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The known modules that ``path`` imports, wherever the import statement stands."""
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            named.add(node.module)
            named.update(f"{node.module}.{alias.name}" for alias in node.names)
    return named & known


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A chain of imports from ``start`` back to itself, or None (breadth-first search)."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        module = frontier.pop(0)
        for imported in sorted(graph.get(module, ())):
            if imported == start:
                return [*paths[module], start]
            if imported not in paths:
                paths[imported] = [*paths[module], imported]
                frontier.append(imported)
    return None


@functools.cache  # parsing every source takes seconds: once for all the modules below
def import_graph() -> dict[str, set[str]]:
    sources = modules()
    return {name: imports(path, set(sources)) - {name} for name, path in sources.items()}


@pytest.mark.parametrize(
    "module",
    [
        "pushlab.reconnect_policy",
        "pushlab.clients.conversation",
        "pushlab.clients.conversation_state",
        "pushlab.clients.reconnect",
        "pushlab.clients.breaks",
    ],
)
def test_no_chain_of_imports_leads_back_to(module: str) -> None:
    cycle = cycle_through(import_graph(), module)
    assert cycle is None, " → ".join(cycle or [])
