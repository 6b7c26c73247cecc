"""A technique's name is typed only where that technique lives.

``pushlab.techniques`` is the one table of the techniques; each technique's own files (its
server) may name it too. Everywhere else code asks the table: a behaviour flag (``polls``,
``holds_request``, ``pushes``, ``full_duplex``), a tuple (``PUSHED``, ``HELD``) or a constant
(``techniques.WEBSOCKET.name``). So a fifth technique is never missed by an ``if name ==
"websocket"`` nobody remembers, and renaming one is a change to the table.

The scan reads every Python module of the repository (tests and notebooks excepted) and finds
string constants equal to a technique's name; docstrings and comments are prose, not code.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pushlab.techniques import LONGPOLL, NAMES, POLLING, SSE, WEBSOCKET

ROOT = Path(__file__).resolve().parent.parent
NOT_SCANNED = frozenset({"tests", "notebooks", "results", "docs", "build", "dist"})
"""Top-level folders that hold no pushlab code (hidden ones, ``.venv`` included, neither)."""

OWN_FILES: dict[str, frozenset[str]] = {
    "pushlab/techniques.py": frozenset(NAMES),
    "servers/polling.py": frozenset({POLLING.name}),
    "servers/longpoll.py": frozenset({LONGPOLL.name}),
    "servers/websocket.py": frozenset({WEBSOCKET.name}),  # and RFC 6455's "Upgrade: websocket"
    "servers/sse.py": frozenset({SSE.name}),
    "pushlab/rfc6455.py": frozenset({WEBSOCKET.name}),  # the upgrade request's "Upgrade: websocket"
}
"""Where a technique's name may be typed: the table, and each technique's own files."""

OTHER_PROTOCOLS_WORDS: dict[str, frozenset[str]] = {
    # Engine.IO names its transports "polling" (which is long polling) and "websocket"
    "clients/engineio.py": frozenset({POLLING.name, WEBSOCKET.name}),
}
"""Another protocol's word that is spelled like a technique, written once in its codec."""

PENDING: dict[str, frozenset[str]] = {}
"""Literals another branch removes; delete the entry when it has (the last test says when)."""

ALLOWED = {
    path: OWN_FILES.get(path, frozenset())
    | OTHER_PROTOCOLS_WORDS.get(path, frozenset())
    | PENDING.get(path, frozenset())
    for path in {*OWN_FILES, *OTHER_PROTOCOLS_WORDS, *PENDING}
}


def typed_names(source: str) -> list[tuple[int, str]]:
    """(line, name) of every string constant in ``source`` that is a technique's name, outside
    docstrings (a string standing alone as a statement: a module's, class's, function's or
    attribute's docstring). Comments are not in the syntax tree at all."""
    tree = ast.parse(source)
    prose = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in NAMES
        and id(node) not in prose
    )


def modules() -> list[Path]:
    """Every Python module of the repository that the scan reads, as a path from its root."""
    return sorted(
        path.relative_to(ROOT)
        for path in ROOT.rglob("*.py")
        if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
        and path.relative_to(ROOT).parts[0] not in NOT_SCANNED
    )


def names_typed_in(path: Path) -> list[tuple[int, str]]:
    return typed_names((ROOT / path).read_text(encoding="utf-8"))


def test_the_scan_finds_a_typed_name_and_skips_prose() -> None:
    source = (
        '"""The sse module."""\n'
        "# websocket, in a comment\n"
        "def f(name):\n"
        '    """Is it polling?"""\n'
        '    return name == "websocket" or name in ("sse", "not-a-technique")\n'
        'LABEL = f"{1}sse"\n'
        'DOC = "longpoll"\n'
        '"""An attribute docstring: longpoll."""\n'
    )
    assert typed_names(source) == [(5, "sse"), (5, "websocket"), (6, "sse"), (7, "longpoll")]


def test_the_scan_reads_pushlab_code() -> None:
    scanned = {str(path) for path in modules()}
    assert {"pushlab/techniques.py", "servers/app.py", "clients/conversation.py"} <= scanned
    assert {"bench/measuring/locustfile.py", "peers/socketio_server.py"} <= scanned
    assert not any(path.startswith(("tests/", "notebooks/")) for path in scanned)


def test_no_technique_name_is_typed_outside_its_own_files() -> None:
    typed = [
        f"{path}:{line}: {name!r}"
        for path in modules()
        for line, name in names_typed_in(path)
        if name not in ALLOWED.get(str(path), frozenset())
    ]
    assert not typed, (
        "a technique's name typed outside pushlab/techniques.py and the technique's own files; "
        "decide by a flag of its entry (polls, holds_request, pushes, full_duplex) or import "
        "its constant (techniques.WEBSOCKET.name):\n" + "\n".join(typed)
    )


def test_every_allowance_is_still_used() -> None:
    """An allowance nobody needs any more would let a new literal in unnoticed."""
    unused = [
        f"{path}: {name!r}"
        for path, names in ALLOWED.items()
        for name in sorted(names - {typed for _, typed in names_typed_in(Path(path))})
        if path != "pushlab/techniques.py"
    ]
    assert not unused, "allowed but no longer typed; remove from this test:\n" + "\n".join(unused)
