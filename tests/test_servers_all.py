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
