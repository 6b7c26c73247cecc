"""``python -m pushlab.servers all`` runs four servers as four processes and stops them together."""

import signal
import socket
import subprocess
import sys

import pytest

from pushlab.techniques import NAMES as TECHNIQUES
from pushlab.techniques import TECHNIQUES as TABLE


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_all_starts_four_processes_and_sigterm_stops_them():
    ports = [TABLE[t].port for t in TECHNIQUES]
    if not all(port_is_free(p) for p in ports):
        pytest.skip(f"ports {ports} are in use here (is `make serve` running?)")
    parent = subprocess.Popen(
        [sys.executable, "-m", "pushlab.servers", "all"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        lines = [parent.stdout.readline() for _ in TECHNIQUES]
        started = {line.split()[1] for line in lines}
        assert started == set(TECHNIQUES)
        for port in ports:
            socket.create_connection(("127.0.0.1", port)).close()
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=20) == 0
        assert all(port_is_free(p) for p in ports)  # no child left behind
    finally:
        if parent.poll() is None:  # stop the children too, even when an assertion failed
            parent.send_signal(signal.SIGTERM)
            try:
                parent.wait(timeout=20)
            except subprocess.TimeoutExpired:
                parent.kill()


def start_all(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pushlab", "serve", "all", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(parent: subprocess.Popen[str]) -> None:
    if parent.poll() is None:
        parent.send_signal(signal.SIGTERM)
        try:
            parent.wait(timeout=20)
        except subprocess.TimeoutExpired:
            parent.kill()
            parent.wait()


def test_port_zero_puts_the_four_on_free_ports_and_prints_each():
    parent = start_all("--port", "0")
    try:
        assert parent.stdout is not None
        lines = [parent.stdout.readline() for _ in TECHNIQUES]
        assert {line.split()[1] for line in lines} == set(TECHNIQUES)
        for line in lines:
            port = int(line.rsplit(":", 1)[1])
            socket.create_connection(("127.0.0.1", port)).close()
    finally:
        stop(parent)
    assert parent.returncode == 0


def test_one_busy_port_starts_none_and_says_which_in_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # P, P+1, P+2, P+3: polling gets the busy one; each port that is taken says so.
        parent = start_all("--port", str(port))
        try:
            out, err = parent.communicate(timeout=60)
        finally:
            stop(parent)
    assert parent.returncode == 1
    assert out == ""  # no "listening" line: the three that started were stopped unannounced
    first = err.splitlines()[0]
    assert first == (
        f"pushlab serve polling: cannot listen on 127.0.0.1:{port}: address already in use;"
        " try --port 0"
    )
    assert "Traceback" not in err


def test_a_child_killed_with_sigkill_is_reported_and_the_rest_stop():
    import psutil

    parent = start_all("--port", "0")
    try:
        assert parent.stdout is not None and parent.stderr is not None
        for _ in TECHNIQUES:
            assert "listening on" in parent.stdout.readline()
        children = psutil.Process(parent.pid).children()
        assert len(children) == len(TECHNIQUES)
        victim = children[1]
        victim.send_signal(signal.SIGKILL)
        said = parent.stderr.readline()
        assert parent.wait(timeout=20) == 1
    finally:
        stop(parent)
    assert f"(pid {victim.pid}) was killed by SIGKILL; stopping the other three" in said
    assert said.startswith("pushlab serve all: the ")
    # The other three were stopped (and reaped): their processes are gone. Not their ports:
    # a freed ephemeral port can be taken at once by a test on another worker.
    assert not any(child.is_running() for child in children)
