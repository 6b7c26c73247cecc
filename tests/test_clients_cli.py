"""``python -m pushlab.clients ...`` as a student runs it: real processes, servers, exit codes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from pushlab.techniques import LONGPOLL_MAX_HOLD_S
from tests.conftest import server_process

REPO = Path(__file__).resolve().parent.parent


def clients(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pushlab.clients", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


def post(url: str, text: str) -> None:
    request = urllib.request.Request(
        f"{url}/messages",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_polling_with_count_prints_exchanges_and_a_summary():
    with server_process("polling") as url:
        post(url, "first")
        post(url, "second")
        done = clients("polling", "--url", url, "--count", "2", "--since", "0")
    assert done.returncode == 0, done.stderr
    assert "→ GET /poll?since=0" in done.stdout
    assert "← 200, 2 messages #1–#2 (latency" in done.stdout
    assert "bytes sent" in done.stdout and "counted at this client's socket" in done.stdout
    assert "\x1b[" not in done.stdout  # piped: plain text
    assert done.stderr == ""


def test_ctrl_c_stops_cleanly_with_a_summary():
    with server_process("polling") as url:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pushlab.clients",
                "polling",
                "--url",
                url,
                "--interval",
                "0.01",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert process.stdout is not None
        empty_answers = 0
        while empty_answers < 2:
            line = process.stdout.readline()
            assert line, "the client ended early"
            empty_answers += "(nothing new)" in line
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert "stopped: interrupted (Ctrl-C)" in rest
    assert "Traceback" not in errors


def test_handshake_against_a_live_server_process():
    with server_process("websocket") as url:
        done = clients("handshake", url.replace("http://", "ws://") + "/ws")
    assert done.returncode == 0, done.stderr
    assert "101 Switching Protocols" in done.stdout and "✓ matches" in done.stdout


def test_keepalive_against_a_live_server_process():
    with server_process("polling") as url:
        done = clients("keepalive", f"{url}/poll", "-n", "3")
    assert done.returncode == 0, done.stderr
    assert "(+1)" in done.stdout and "(+3)" in done.stdout


@pytest.mark.parametrize("command", ["polling", "longpoll", "websocket", "sse", "keepalive"])
def test_a_refused_port_is_one_line_on_stderr(command):
    url = f"http://127.0.0.1:{free_port()}"
    args = [command, "--url", url] if command != "keepalive" else [command, url + "/poll"]
    done = clients(*args)
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "Connection refused" in done.stderr
    assert done.stderr.startswith(f"python -m pushlab.clients {command}: ")


def test_handshake_to_a_refused_port_is_one_line_on_stderr():
    done = clients("handshake", f"ws://127.0.0.1:{free_port()}/ws")
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "Connection refused" in done.stderr


@pytest.mark.parametrize(
    "url", ["htp://127.0.0.1:8001", "http://127.0.0.1:99999", "nonsense", "http://[::1"]
)
def test_a_bad_url_is_one_line_on_stderr(url):
    done = clients("polling", "--url", url)
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "bad URL" in done.stderr


def test_a_server_of_the_wrong_technique_is_one_line_on_stderr():
    with server_process("sse") as url:
        done = clients("websocket", "--url", url, "--count", "1")
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1
    assert "serves sse, not websocket" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["polling", "--interval", "inf"],
        ["polling", "--interval", "nan"],
        ["longpoll", "--hold", str(LONGPOLL_MAX_HOLD_S + 1)],
        ["polling", "--count", "0"],
        ["keepalive", "-n", "0"],
        ["keepalive", "-n", "100000"],
        ["keepalive", "-n", "٣"],
    ],
)
def test_a_number_out_of_range_is_a_usage_error(args):
    done = clients(*args)
    assert done.returncode == 2
    assert args[-2] in done.stderr
    assert "Traceback" not in done.stderr
