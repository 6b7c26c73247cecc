"""A long-poll client that hangs up must release its waiter at once — on the real process.

pytest-aiohttp's test server always cancels handlers on disconnect; ``web.run_app`` does not
by default. So this runs ``python -m pushlab.servers longpoll`` as a process (FIELD-NOTES).
"""

import json
import socket
import time

from tests.conftest import server_process


def stats(port: int) -> dict:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b"".join(iter(lambda: sock.recv(65536), b""))
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def wait_for(port: int, key: str, value: int, timeout_s: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        current = stats(port)
        if current[key] == value or time.monotonic() > deadline:
            return current
        time.sleep(0.02)


def test_hung_up_long_polls_leave_no_waiter_behind():
    with server_process("longpoll") as url:
        port = int(url.rsplit(":", 1)[1])
        clients = []
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /poll?since=0&timeout=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            clients.append(sock)
        assert wait_for(port, "clients_connected", 20)["clients_connected"] == 20
        for sock in clients:
            sock.close()
        assert wait_for(port, "clients_connected", 0)["clients_connected"] == 0


def test_hung_up_push_clients_are_released_too():
    for technique, request in (
        ("sse", b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        (
            "websocket",
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        ),
    ):
        with server_process(technique) as url:
            port = int(url.rsplit(":", 1)[1])
            clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
            for sock in clients:
                sock.sendall(request)
            assert wait_for(port, "clients_connected", 5)["clients_connected"] == 5
            for sock in clients:
                sock.close()
            assert wait_for(port, "clients_connected", 0)["clients_connected"] == 0, technique
