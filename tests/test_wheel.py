"""A wheel built from the repository works on its own, outside the checkout.

The wheel is installed into a fresh virtual environment with ``--no-deps``; its dependencies
(aiohttp, Locust, pandas, ...) come from the project's ``.venv`` through a ``.pth`` line, so the
test needs no download beyond the build backend. That line only appends the directory to
``sys.path``: the ``.pth`` files inside it (the project's editable install of pushlab among
them) are not run, so every ``import pushlab`` finds the wheel's copy; a test checks it. Each
command then runs from an empty temporary directory, as a user who ran ``pip install pushlab``
would: the page's static files, the locustfile and the results directory must all work there.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from pushlab.cli import COMMANDS
from pushlab.techniques import NAMES
from tests.test_cli import serving, stops_on_sigterm

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
NOT_SOURCES = {
    ".venv",
    ".git",
    "build",
    "results",
    "test-artifacts",
    ".ruff_cache",
    ".pytest_cache",
}
PAGE = re.compile(r"^pushlab demo listening on (http://\S+)$")


def source_copy(ignored_dir: str, names: list[str]) -> set[str]:
    """What not to copy: build products and caches (a stale ``build/`` would leak into the
    wheel), the local results, and at the top the folders that are not sources."""
    junk = {name for name in names if name == "__pycache__" or name.endswith(".egg-info")}
    return junk | (NOT_SOURCES & set(names) if Path(ignored_dir) == REPO else set())


@dataclass(frozen=True)
class Installed:
    """A fresh environment with the wheel in it, and an empty directory to run commands in."""

    python: Path
    pushlab: Path
    cwd: Path
    env: dict[str, str]

    def run(self, *args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.pushlab), *args],
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env=self.env,
            timeout=timeout_s,
        )


def quietly(*command: str | Path, cwd: Path | None = None) -> None:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(REPO, source, ignore=source_copy)
    quietly(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        base / "dist",
        ".",
        cwd=source,
    )
    (wheel,) = (base / "dist").glob("pushlab-*.whl")
    venv = base / "venv"
    quietly(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    quietly(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel)
    site_packages = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site_packages / "zz_project_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    cwd = base / "elsewhere"
    cwd.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return Installed(python, venv / "bin" / "pushlab", cwd, env)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    done = subprocess.run(
        [installed.python, "-c", "import pushlab.servers, pushlab.bench; print(pushlab.__file__)"],
        capture_output=True,
        text=True,
        cwd=installed.cwd,
        env=installed.env,
        check=True,
    )
    assert Path(done.stdout.strip()).is_relative_to(installed.python.parent.parent)


def test_help_lists_the_commands(installed: Installed) -> None:
    done = installed.run("--help")
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in COMMANDS)


def test_demo_serves_the_page_and_its_static_files(installed: Installed) -> None:
    command = [str(installed.pushlab), "demo", "--port", "0"]
    with serving(command, installed.cwd, installed.env) as (process, first_line):
        page = PAGE.match(first_line)
        assert page, first_line
        assert process.stdout is not None
        servers = [process.stdout.readline().split() for _ in NAMES]
        assert [line[0] for line in servers] == list(NAMES)
        with urllib.request.urlopen(f"{page.group(1)}/", timeout=10) as answer:
            assert "<html" in answer.read().decode().lower()
        with urllib.request.urlopen(f"{page.group(1)}/static/app.js", timeout=10) as answer:
            assert answer.status == 200 and answer.read()
        assert stops_on_sigterm(process)


def test_a_minimal_bench_writes_results_in_the_current_directory(installed: Installed) -> None:
    done = installed.run(
        "bench",
        "--quick",
        "--techniques",
        "websocket",
        "--sweeps",
        "clients",
        "--clients",
        "5",
        "--arrivals",
        "periodic",
        "--no-trace",
        "--no-report",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = installed.cwd / "results" / "latest" / "summary.csv"
    with summary.open(newline="", encoding="utf-8") as table:
        rows = list(csv.DictReader(table))
    assert [row["technique"] for row in rows] == ["websocket"]
    assert int(rows[0]["clients"]) == 5
    assert int(rows[0]["messages_delivered"]) > 0
