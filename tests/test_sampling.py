"""The harness's sampler counts a process's TCP sockets as psutil does, without psutil's cost."""

from __future__ import annotations

import os
import socket

import psutil

from pushlab.bench.measuring.sampling import tcp_connections


def test_the_tcp_count_is_psutils_for_listening_connected_closed_and_other_sockets() -> None:
    listening = socket.create_server(("127.0.0.1", 0))
    others = [*socket.socketpair(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)]
    clients = [socket.create_connection(listening.getsockname()) for _ in range(3)]
    accepted = [listening.accept()[0] for _ in clients]
    clients[0].close()  # its end goes to TIME_WAIT or FIN_WAIT: not this process's any more
    process = psutil.Process(os.getpid())
    try:
        assert tcp_connections(process) == len(process.net_connections(kind="tcp"))
        assert tcp_connections(process) >= 1 + 2 + 3  # listening, two clients, three accepted
    finally:
        for held in [listening, *others, *clients[1:], *accepted]:
            held.close()
