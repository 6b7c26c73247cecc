"""``pushlab``: the one command, as a student types it (real processes, exit statuses, help)."""

from __future__ import annotations

import importlib.metadata
import json
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pushlab import __version__
from pushlab.cli import CLIENT_COMMANDS, COMMANDS

REPO = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"^pushlab polling listening on (http://127\.0\.0\.1:\d+)$")


def pushlab(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pushlab", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=60)


def test_help_lists_every_command_with_a_description() -> None:
    done = pushlab("--help")
    assert done.returncode == 0
    listed = dict(re.findall(r"^  (\w+) +(\S.*)$", done.stdout.split("commands:")[1], re.MULTILINE))
    assert set(listed) == {"serve", "demo", "client", "bench", "notebooks"}


def test_no_command_shows_the_help() -> None:
    done = pushlab()
    assert done.returncode == 0
    assert all(name in done.stdout for name in COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_help_is_its_own_parser_under_its_pushlab_name(name: str) -> None:
    done = pushlab(name, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: pushlab {name}")
    assert "--" in done.stdout.split("usage:", 1)[1]  # options follow, not only a usage line


def test_client_help_lists_the_six_clients() -> None:
    done = pushlab("client", "--help")
    assert done.returncode == 0, done.stderr
    assert CLIENT_COMMANDS == ("polling", "longpoll", "websocket", "sse", "handshake", "keepalive")
    assert all(re.search(rf"^\s+{name}\s", done.stdout, re.MULTILINE) for name in CLIENT_COMMANDS)


def test_bench_help_names_its_options() -> None:
    done = pushlab("bench", "--help")
    for option in ("--quick", "--techniques", "--sweeps", "--clients", "--out", "--no-report"):
        assert option in done.stdout


def test_notebooks_help_says_they_come_with_the_repository() -> None:
    done = pushlab("notebooks", "--help")
    assert "not with the installed package" in " ".join(done.stdout.split())


def test_notebooks_outside_a_checkout_is_a_one_line_error(tmp_path: Path) -> None:
    done = pushlab("notebooks", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("pushlab notebooks: no notebooks in")


def test_notebooks_without_the_notebook_packages_names_the_extra_in_one_line() -> None:
    # A plain `pip install pushlab` has no jupyter_client: make this interpreter lack it too.
    lacking = (
        "import sys; sys.modules['jupyter_client'] = None; from pushlab.cli import main;"
        " sys.exit(main(['notebooks']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", lacking], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("pushlab notebooks: needs jupyter_client: ")
    assert "pip install 'pushlab[notebooks]'" in done.stderr


@pytest.mark.parametrize("word", ["serv", "frobnicate", "--frobnicate"])
def test_an_unknown_command_is_one_line_and_exit_status_2(word: str) -> None:
    done = pushlab(word)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert f"'{word}'" in done.stderr


def test_a_near_miss_gets_a_suggestion() -> None:
    assert "did you mean 'serve'?" in pushlab("serv").stderr


def test_version_is_the_installed_distribution_version() -> None:
    done = pushlab("--version")
    assert done.stdout.strip() == f"pushlab {__version__}"
    assert __version__ == importlib.metadata.version("pushlab")


def test_the_console_script_is_installed_beside_the_interpreter() -> None:
    script = Path(sys.executable).parent / "pushlab"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == f"pushlab {__version__}"


IMPORTED = (
    "import json, sys\n"
    "from pushlab.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "wanted = ('pushlab.bench', 'locust', 'gevent')\n"
    "print(json.dumps(sorted(m for m in wanted if m in sys.modules)), file=sys.stderr)\n"
)


def imported_by(*args: str) -> list[str]:
    """Which of the bench, Locust and gevent a command's process imported (its --help path)."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["serve", "demo", "client"])
def test_serving_and_clients_do_not_import_the_bench(name: str) -> None:
    assert imported_by(name, "--help") == []


def test_the_bench_command_leaves_locust_to_its_generator_process() -> None:
    assert imported_by("bench", "--help") == ["pushlab.bench"]


@contextmanager
def serving(
    command: list[str], cwd: Path = REPO, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start a long-running pushlab command, yield it with its first stdout line, and make sure
    it is gone afterwards (killed if the test did not stop it)."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env
    )
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline().rstrip("\n")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def stops_on_sigterm(process: subprocess.Popen[str]) -> bool:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30) == 0


def test_serve_one_technique_prints_its_listening_line_and_stops_on_sigterm() -> None:
    command = [sys.executable, "-m", "pushlab", "serve", "polling", "--port", "0"]
    with serving(command) as (process, first_line):
        match = LISTENING.match(first_line)
        assert match, first_line
        with urllib.request.urlopen(f"{match.group(1)}/healthz", timeout=10) as answer:
            assert json.load(answer)["technique"] == "polling"
        assert stops_on_sigterm(process)
