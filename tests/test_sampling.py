"""The sampler counts a process's sockets from its descriptors: each one opened is counted,
each one closed is not, and files are not sockets."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pushlab.bench.measuring.sampling import open_sockets


def test_open_sockets_counts_the_sockets_a_process_holds(tmp_path: Path) -> None:
    before = open_sockets(os.getpid())
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    served, _ = listener.accept()
    with (tmp_path / "not-a-socket").open("w"):
        assert open_sockets(os.getpid()) - before == 3
    for sock in (client, served):
        sock.close()
    assert open_sockets(os.getpid()) - before == 1
    listener.close()
    assert open_sockets(os.getpid()) == before
