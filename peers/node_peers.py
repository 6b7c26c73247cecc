"""The Node.js peers: the ``ws`` library and Socket.IO 4, what many deploy on Node.

Their code is in ``peers/node/`` (``peer.js`` holds pushlab's feed, publisher, meter and
control routes; ``ws.js`` and ``socketio.js`` the delivering route). Their npm packages are
pinned in ``peers/node/package-lock.json`` and installed by ``npm ci`` into a folder of the
project's own, ``.node-peers/`` beside the repository's ``.venv`` (git-ignored), on first use
and again whenever the lock file changes. ``python -m pushlab.peers node-ws`` then *becomes*
the Node process (``os.execvp``): the bench's process id is Node's, so its CPU and memory are
sampled from outside exactly as a Python server's are.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from pushlab.servers.config import ServerConfig

SOURCES = Path(__file__).resolve().parent / "node"
INSTALL_DIR = Path(__file__).resolve().parent.parent / ".node-peers"
MANIFESTS = ("package.json", "package-lock.json")
SCRIPTS = {"node-ws": "ws.js", "node-socketio": "socketio.js"}
MIN_NODE_MAJOR = 18
NPM_TIMEOUT_S = 300.0


class NodeUnavailableError(RuntimeError):
    """Node.js or the peers' npm packages cannot be had on this machine."""


def node_version() -> str:
    """``v20.20.2``, or a NodeUnavailableError saying what is missing."""
    node = shutil.which("node")
    if node is None:
        raise NodeUnavailableError("Node.js is not installed (the Node peers need node and npm)")
    found = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    match = re.match(r"v(\d+)\.", found.stdout)
    if match is None or int(match.group(1)) < MIN_NODE_MAJOR:
        raise NodeUnavailableError(
            f"Node.js {MIN_NODE_MAJOR} or newer is needed, found {found.stdout.strip() or '?'}"
        )
    return found.stdout.strip()


def installed() -> bool:
    """The lock file's packages are in INSTALL_DIR (the same lock file as in the sources)."""
    return (INSTALL_DIR / "node_modules" / ".package-lock.json").exists() and all(
        (INSTALL_DIR / name).exists()
        and (INSTALL_DIR / name).read_bytes() == (SOURCES / name).read_bytes()
        for name in MANIFESTS
    )


def install() -> Path:
    """``npm ci`` the committed lock file into INSTALL_DIR unless it is there; its
    ``node_modules``."""
    node_version()
    if not installed():
        npm = shutil.which("npm")
        if npm is None:
            raise NodeUnavailableError("npm is not installed (the Node peers need node and npm)")
        INSTALL_DIR.mkdir(exist_ok=True)
        for name in MANIFESTS:
            shutil.copyfile(SOURCES / name, INSTALL_DIR / name)
        command = [npm, "ci", "--prefix", str(INSTALL_DIR), "--ignore-scripts"]
        done = subprocess.run(
            [*command, "--no-audit", "--no-fund", "--loglevel=error"],
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise NodeUnavailableError(f"npm ci into {INSTALL_DIR} failed: {last}")
    return INSTALL_DIR / "node_modules"


def unavailable() -> str | None:
    """Why the Node peers cannot run here (installing their packages if need be), or None."""
    try:
        install()
    except (NodeUnavailableError, OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None


def program(name: str, config: ServerConfig) -> list[str]:
    """The command line of peer ``name``: node, its script, and the options as JSON."""
    os.environ["NODE_PATH"] = str(install())
    options = {
        "name": name,
        "host": config.host,
        "port": config.port or 0,
        "rate": config.publish_rate,
        "arrivals": config.arrivals,
        "history": config.history_size,
        "max_text_bytes": config.max_text_bytes,
        "max_publish_rate": config.max_publish_rate,
        "keepalive_timeout_s": config.keepalive_timeout_s,
    }
    return ["node", str(SOURCES / SCRIPTS[name]), json.dumps(options)]
