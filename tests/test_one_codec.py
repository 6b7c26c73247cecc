"""One RFC 6455 codec: no module but ``pushlab/rfc6455.py`` writes WebSocket bytes by hand, and
the codec and the handshake explainer sit in no import cycle.

The scans read the source with ``ast``: a frame header packed with the length markers 126/127,
a first byte written as a FIN + opcode constant (``0x81`` …), or an HTTP request with
``Upgrade: websocket`` written out in a string, anywhere outside the codec. tests/ is left out:
a test may write raw bytes on purpose (an unmasked frame, a broken handshake).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushlab.rfc6455 import FIN, LENGTH_16, LENGTH_64, Opcode

REPO = Path(__file__).resolve().parent.parent
PACKAGE_FOLDERS = {
    "pushlab": "pushlab",
    "servers": "pushlab.servers",
    "clients": "pushlab.clients",
    "bench": "pushlab.bench",
    "peers": "pushlab.peers",
}
CODEC = REPO / "pushlab" / "rfc6455.py"
FIRST_BYTES = {FIN | opcode for opcode in Opcode}  # 0x80, 0x81, 0x82, 0x88, 0x89, 0x8a
LENGTH_MARKERS = {LENGTH_16, LENGTH_64}


def sources() -> list[Path]:
    """Every Python file of the package and the notebooks' twins, the codec excepted."""
    found = [path for folder in PACKAGE_FOLDERS for path in (REPO / folder).rglob("*.py")]
    found += (REPO / "notebooks").glob("*.py")
    return sorted(path for path in found if path != CODEC)


def constants(node: ast.AST) -> Iterator[object]:
    for child in ast.walk(node):
        if isinstance(child, ast.Constant):
            yield child.value


HEADER_FORMAT = re.compile(r"[!>]BB[HQ]")
"""A ``struct`` format for a frame header: two bytes, then a 16- or 64-bit length (§5.2)."""
UPGRADE_LINE = re.compile(
    r"^(upgrade:\s*websocket|sec-websocket-key:)", re.IGNORECASE | re.MULTILINE
)
"""A header line of the opening handshake (§4.1), at the start of a line as a request has it."""


def hand_built_frames(source: str) -> list[str]:
    """Where ``source`` builds a frame header itself: a header's ``struct`` format, a
    ``pack()`` with the length markers 126/127, or ``bytes([0x81, ...])`` / ``b"\\x81..."``
    (a FIN + opcode first byte)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            values = {v for arg in node.args for v in constants(arg) if type(v) is int}
            if name in {"pack", "pack_into"} and values & LENGTH_MARKERS:
                found.append(f"line {node.lineno}: {name}() with a 126/127 length marker")
            first = node.args[0] if node.args else None
            if (
                name in {"bytes", "bytearray"}
                and isinstance(first, ast.List | ast.Tuple)
                and first.elts
                and isinstance(first.elts[0], ast.Constant)
                and first.elts[0].value in FIRST_BYTES
            ):
                found.append(f"line {node.lineno}: {name}() starting with a frame's first byte")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if HEADER_FORMAT.fullmatch(node.value):
                found.append(f"line {node.lineno}: a frame header's struct format")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, bytes)
            and len(node.value) >= 2
            and node.value[0] in FIRST_BYTES
        ):
            found.append(f"line {node.lineno}: a bytes literal starting with a frame's first byte")
    return found


def hand_written_upgrades(source: str) -> list[str]:
    """Where ``source`` writes an opening handshake request out itself (a line that starts
    ``Upgrade: websocket`` or ``Sec-WebSocket-Key:``) instead of the codec's builder."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            value = node.value
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            if UPGRADE_LINE.search(text):
                found.append(f"line {node.lineno}: an upgrade request written by hand")
    return found


# What the scans must catch: the three hand-made encoders pushlab had before the codec.
OLD_SERVER_FRAME = """
def text_frame(payload):
    length = len(payload)
    if length < 126:
        return struct.pack("!BB", 0x81, length) + payload
    if length < 65536:
        return struct.pack("!BBH", 0x81, 126, length) + payload
    return struct.pack("!BBQ", 0x81, 127, length) + payload
"""
OLD_FLOOR_FRAME = "frame = bytes([0x81, len(payload)]) + payload\n"
OLD_PROBE_REQUEST = """
def request_for(port):
    return (
        f"GET /ws HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nUpgrade: websocket\\r\\n"
        f"Connection: Upgrade\\r\\nSec-WebSocket-Key: {KEY}\\r\\n"
        "Sec-WebSocket-Version: 13\\r\\n\\r\\n"
    ).encode()
"""


@pytest.mark.parametrize("source", [OLD_SERVER_FRAME, OLD_FLOOR_FRAME], ids=["server", "floor"])
def test_the_scan_finds_a_frame_header_built_by_hand(source):
    assert hand_built_frames(source)


def test_the_scan_finds_an_upgrade_request_written_by_hand():
    assert hand_written_upgrades(OLD_PROBE_REQUEST)


def test_the_scan_recognises_how_the_codec_itself_builds_headers():
    assert hand_built_frames(CODEC.read_text())


def test_the_scan_leaves_upgrade_words_in_prose_alone():
    assert hand_written_upgrades('"""The client sends\n\n    Upgrade: websocket\n"""') == []
    assert hand_written_upgrades('label = f"GET {path}  Upgrade: websocket"') == []


def test_no_module_but_the_codec_builds_frame_headers():
    found = {
        str(path.relative_to(REPO)): problems
        for path in sources()
        if (problems := hand_built_frames(path.read_text()))
    }
    assert found == {}, "use pushlab.rfc6455 (frame_bytes, encode_frame) instead"


def test_no_module_but_the_codec_writes_an_upgrade_request():
    found = {
        str(path.relative_to(REPO)): problems
        for path in sources()
        if (problems := hand_written_upgrades(path.read_text()))
    }
    assert found == {}, "use pushlab.rfc6455.build_upgrade_request instead"


# --- Imports ----------------------------------------------------------------------------


def module_files() -> dict[str, Path]:
    """pushlab's modules by their installed names (``servers/feed.py`` → pushlab.servers.feed)."""
    modules = {}
    for folder, package in PACKAGE_FOLDERS.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(REPO / folder).with_suffix("").parts]
            modules[".".join([package, *(p for p in parts if p != "__init__")])] = path
    return modules


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every pushlab module ``path`` imports, wherever the import stands (``if TYPE_CHECKING``
    and function bodies included): a cycle through any of them is still a cycle."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def reachable(start: str, graph: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(graph[start])
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return seen


@pytest.fixture(scope="module")
def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def test_the_codec_imports_nothing_of_pushlab(import_graph):
    assert import_graph["pushlab.rfc6455"] == set()


@pytest.mark.parametrize(
    "module",
    [
        "pushlab.rfc6455",
        "pushlab.clients.handshake",
        "pushlab.clients.handshake_frames",
        "pushlab.clients.wire",
        "pushlab.clients.annotate",
        "pushlab.servers.rfc6455_rules",
        "pushlab.servers.websocket",
    ],
)
def test_no_import_cycle_runs_through_the_websocket_modules(import_graph, module):
    assert module not in reachable(module, import_graph)
