"""The structure the code promises: no import circle anywhere, layers that only look down.

Every ``import`` counts — at the top, inside a function, under ``if TYPE_CHECKING`` — because a
circle a type checker needs is still a circle a reader must follow. The sweeps' registry is the
one lookup by name at run time (``bench/core/sweep.py``): the core finds its plug-ins, it does
not import them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"pushlab": "pushlab", "servers": "pushlab.servers", "clients": "pushlab.clients"}
PACKAGES |= {"bench": "pushlab.bench", "peers": "pushlab.peers"}


def modules() -> dict[str, Path]:
    """Every module of the installed package, by its dotted name."""
    found = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {t for t in targets if t in known and t != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(name, path, known) for name, path in found.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_no_module_imports_its_way_back_to_itself() -> None:
    edges = graph()
    # A package's __init__ that re-exports its modules is not a circle of ideas: leave out
    # the arrows from a module to the package it lives in.
    for name in edges:
        edges[name] = {t for t in edges[name] if not name.startswith(t + ".")}
    assert circles(edges) == []


def test_the_analysis_never_imports_the_measuring() -> None:
    edges = graph()
    upward = {
        (name, target)
        for name, targets in edges.items()
        if name.startswith("pushlab.bench.analysis")
        for target in targets
        if target.startswith("pushlab.bench.measuring")
    }
    assert upward == set()


def test_the_core_names_no_sweep() -> None:
    edges = graph()
    core = ("pushlab.bench.core", "pushlab.bench.measuring.harness", "pushlab.bench.cli")
    core += ("pushlab.bench.run", "pushlab.bench.analysis.measurement")
    reaching = {
        (name, target)
        for name, targets in edges.items()
        if name.startswith(core)
        for target in targets
        if target.startswith("pushlab.bench.sweeps")
    }
    assert reaching == set()


def test_the_contracts_column_list_is_the_columns_metadata() -> None:
    from pushlab.bench.presentation.contract import with_columns

    document = (ROOT / "docs" / "CONTRACT.md").read_text()
    assert document == with_columns(document), (
        "docs/CONTRACT.md's column list is out of date: run "
        "python -m pushlab.bench.presentation.contract docs/CONTRACT.md"
    )
