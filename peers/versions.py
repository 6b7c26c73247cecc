"""What each peer is made of, package by package, as ``environment.json`` and the report say.

A peer's row is read against its versions: a library's next release can halve its CPU per
message. The Python packages' versions are the installed ones; the Node peers' are the lock
file's (``npm ci`` installs exactly those), with the version of Node itself.
"""

from __future__ import annotations

import importlib.metadata
import json

from pushlab.peers import node_peers
from pushlab.techniques import PEER_NAMES

SOCKETIO = ("python-socketio", "python-engineio", "aiohttp")
UVICORN = ("uvicorn", "starlette", "httptools", "uvloop")

PYTHON_PACKAGES: dict[str, tuple[str, ...]] = {
    "baseline-websocket": ("aiohttp",),
    "websockets-broadcast": ("websockets",),
    "socketio-websocket": SOCKETIO,
    "socketio-default": SOCKETIO,
    "socketio-polling": SOCKETIO,
    "aiohttp-sse": ("aiohttp-sse", "aiohttp"),
    "starlette-websocket": (*UVICORN, "websockets"),
    "sse-starlette": ("sse-starlette", *UVICORN),
    "picows": ("picows",),
    "tornado-longpoll": ("tornado",),
    "baseline-polling": ("aiohttp",),
}
NODE_PACKAGES: dict[str, tuple[str, ...]] = {
    "node-ws": ("ws",),
    "node-socketio": ("socket.io", "engine.io", "ws"),
}
assert set(PYTHON_PACKAGES) | set(NODE_PACKAGES) == set(PEER_NAMES), "every peer's packages"


def python_version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def locked_versions() -> dict[str, str]:
    """The Node packages' versions in the committed lock file."""
    lock = json.loads((node_peers.SOURCES / "package-lock.json").read_text())
    return {
        path.removeprefix("node_modules/"): entry["version"]
        for path, entry in lock["packages"].items()
        if path.startswith("node_modules/")
    }


def node_version() -> str:
    try:
        return f"Node.js {node_peers.node_version().removeprefix('v')}"
    except node_peers.NodeUnavailableError:
        return "Node.js not installed"


def versions(names: tuple[str, ...]) -> dict[str, str]:
    """``{"picows": "picows 2.3.1", ...}`` for the peers ``names``."""
    found: dict[str, str] = {}
    locked = locked_versions() if any(name in NODE_PACKAGES for name in names) else {}
    for name in names:
        if name in NODE_PACKAGES:
            packages = [f"{p} {locked.get(p, '?')}" for p in NODE_PACKAGES[name]]
            found[name] = ", ".join([*packages, node_version()])
        else:
            found[name] = ", ".join(f"{p} {python_version(p)}" for p in PYTHON_PACKAGES[name])
    return found
