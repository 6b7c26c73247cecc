"""What ``environment.json`` says about the machine and the run, one ``collect_*`` per topic.

Modelled on pyperf's ``_collect_metadata.py``: each topic (the run itself, the CPU, the system,
the packages, the source tree, the bench's own settings) is gathered by one function that
returns its keys, and :func:`describe_environment` puts them together. A reader of a results
directory can then tell what was measured, where, with what, and by which command.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import resource
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pushlab.bench.core.columns import FORMAT_VERSION
from pushlab.peers.versions import versions as peer_versions
from pushlab.reconnect_policy import RECONNECT_POLICY

if TYPE_CHECKING:
    from pushlab.bench.core.scenario import MatrixSettings

PACKAGES = (
    "pushlab",
    "aiohttp",
    "locust",
    "gevent",
    "geventhttpclient",
    "websocket-client",
    "psutil",
)
"""The libraries whose versions can change what the bench measures."""

WINDOW_DEFINITION = (
    "messages published between two /stats snapshots; server counters are their "
    "differences, minus the harness's own /stats exchange (measured exactly)"
)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def collect_run(command: str) -> dict[str, Any]:
    """When the run started, and the command that started it (``finished_utc`` comes later)."""
    return {
        "started_utc": utc_now(),
        "finished_utc": None,
        "command": command,
        "argv": sys.argv,
    }


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def collect_cpu() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "cpus_available": sorted(os.sched_getaffinity(0)),
    }


def collect_system() -> dict[str, Any]:
    return {
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "rlimit_nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
    }


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def collect_packages() -> dict[str, Any]:
    return {
        "versions": {name: package_version(name) for name in PACKAGES},
        "aiohttp": package_version("aiohttp"),
        "locust": package_version("locust"),
    }


def collect_git() -> dict[str, Any]:
    """The commit of the source tree pushlab runs from, and whether it had local changes."""
    source = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=source
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, check=True, cwd=source
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"git_commit": "unknown", "git_dirty": False}
    return {"git_commit": commit, "git_dirty": bool(status.strip())}


def collect_bench(
    mode: str, settings: MatrixSettings, affinity: Mapping[str, Any], sample_hz: float
) -> dict[str, Any]:
    """The bench's own settings: the matrix (the long-poll hold included), the CPUs, and the
    reconnect policy the Locust users ran (it shapes every fault window's reconnects)."""
    return {
        "affinity": dict(affinity),
        "cpu_shared": bool(affinity["shared"]),
        "mode": mode,
        "matrix": asdict(settings),
        "peer_versions": peer_versions(settings.peers),
        "ws_compress": False,
        "reconnect_policy": RECONNECT_POLICY.as_json(),
        "sample_hz": sample_hz,
        "window": WINDOW_DEFINITION,
        "interrupted": False,
    }


def describe_environment(
    command: str,
    mode: str,
    settings: MatrixSettings,
    affinity: Mapping[str, Any],
    sample_hz: float,
) -> dict[str, Any]:
    """Everything ``environment.json`` holds at the start of a run."""
    return {
        "format_version": FORMAT_VERSION,
        **collect_run(command),
        **collect_cpu(),
        **collect_system(),
        **collect_packages(),
        **collect_git(),
        **collect_bench(mode, settings, affinity, sample_hz),
    }
