"""A bad value on any ``pushlab`` command is one line on stderr and exit status 2; the usage
is for ``--help``. Real processes, as a student types the commands."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from pushlab.command_line import CommandParser

REPO = Path(__file__).resolve().parent.parent

BAD_VALUES = {
    "serve": ["polling", "--rate", "-1"],
    "serve all": ["all", "--port", "65534"],
    "serve, unknown technique": ["carrier-pigeon"],
    "serve, unknown option": ["polling", "--speed", "3"],
    "demo": ["--port", "x"],
    "demo, an option only serve has": ["--workers", "2"],
    "client polling": ["polling", "--count", "0"],
    "client longpoll": ["longpoll", "--hold", "-1"],
    "client websocket": ["websocket", "--since", "x"],
    "client sse": ["sse", "--lang", "fr"],
    "client handshake": ["handshake", "--lang", "fr"],
    "client keepalive": ["keepalive", "-n", "0"],
    "client, no command": [],
    "bench": ["--clients", "x"],
    "notebooks": ["--timeout", "x"],
}
"""A bad value per command (the command is the first word of the case's name)."""


def pushlab(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pushlab", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=60)


@pytest.mark.parametrize("case", BAD_VALUES)
def test_a_bad_value_is_one_line_naming_the_command_and_exit_2(case: str) -> None:
    command = case.split(",")[0].split()[0]
    done = pushlab(command, *BAD_VALUES[case])
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"pushlab {command}")
    assert "usage:" not in done.stderr


def test_the_line_names_the_option_and_the_value() -> None:
    done = pushlab("serve", "polling", "--rate", "-1")
    assert done.stderr == (
        "pushlab serve: --rate: must be 0–1000 (a rate in messages per second), got -1\n"
    )


def test_a_sub_command_error_names_the_sub_command() -> None:
    done = pushlab("client", "polling", "--count", "0")
    assert done.stderr.startswith("pushlab client polling: --count: ")


def test_help_still_shows_the_usage() -> None:
    done = pushlab("serve", "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: pushlab serve")


@pytest.mark.parametrize(
    "client", ["polling", "longpoll", "websocket", "sse", "handshake", "keepalive"]
)
def test_every_client_accepts_chinese(client: str) -> None:
    done = pushlab("client", client, "--help")
    assert "--lang {en,zh}" in done.stdout


def test_demo_help_lists_no_option_the_demo_refuses() -> None:
    done = pushlab("demo", "--help")
    assert "--feed" not in done.stdout
    assert "--workers" not in done.stdout


def test_serve_help_says_what_the_lesson_publishes_by_default() -> None:
    from pushlab.servers.config import LESSON_ARRIVALS, LESSON_PUBLISH_RATE

    text = " ".join(pushlab("serve", "--help").stdout.split())
    assert f"default {LESSON_PUBLISH_RATE:g}" in text
    assert f"default {LESSON_ARRIVALS}" in text


def test_sub_parsers_are_command_parsers_too(capsys: pytest.CaptureFixture[str]) -> None:
    parser = CommandParser(prog="pushlab thing")
    parser.add_subparsers(dest="command").add_parser("part").add_argument("--n", type=int)
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["part", "--n", "x"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == "pushlab thing part: --n: invalid int value: 'x'\n"
    assert isinstance(parser, argparse.ArgumentParser)
