"""nginx in front of the servers (``pushlab/proxy.py``, ``pushlab/proxy_profiles.py``): what each
profile does to each technique, against a real nginx and real server processes."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest

from pushlab.proxy import make_certificate, nginx_binary, running_nginx
from pushlab.proxy_profiles import PROFILES, nginx_conf
from tests.conftest import server_process
from tests.nginx_fixture import nginx  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("nginx")  # skipped without nginx, failed under CI=true

READ_S = 10.0  # a bound on every read: a broken proxy fails the test instead of hanging it

WEBSOCKET_HANDSHAKE = (
    "GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def host_of(url: str) -> str:
    return url.split("//", 1)[1]


def connect(url: str, request: str) -> socket.socket:
    host, port = host_of(url).split(":")
    connection = socket.create_connection((host, int(port)), timeout=READ_S)
    connection.sendall(request.format(host=host_of(url)).encode())
    return connection


def read_until(connection: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def publish(server_url: str, text: str) -> None:
    request = urllib.request.Request(
        f"{server_url}/messages",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=READ_S).close()


@pytest.fixture
def sse_server() -> Iterator[str]:
    with server_process("sse") as url:
        yield url


@pytest.mark.parametrize("name", list(PROFILES))
def test_every_profile_makes_a_config_nginx_accepts(name: str, tmp_path) -> None:
    conf = tmp_path / "nginx.conf"
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / temp).mkdir()
    conf.write_text(
        nginx_conf(
            PROFILES[name],
            prefix=tmp_path,
            listen_port=1,
            status_port=2,
            upstream="127.0.0.1:3",
            certificate=make_certificate(tmp_path),
        )
    )
    checked = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr


def test_the_default_profile_refuses_the_websocket_upgrade_and_the_tuned_one_carries_it() -> None:
    with server_process("websocket") as server:
        for name, expected in (("nginx-default", False), ("nginx-tuned", True)):
            with running_nginx(name, host_of(server)) as proxy:
                with connect(proxy.url, WEBSOCKET_HANDSHAKE) as connection:
                    answer = read_until(connection, b"\r\n\r\n")
            assert (status_of(answer) == 101) is expected, (name, answer)


def test_a_buffering_proxy_holds_sse_events_until_its_buffer_fills(sse_server: str) -> None:
    """With the server's ``X-Accel-Buffering: no`` ignored, nginx-default holds the events the
    tuned proxy (``proxy_buffering off``) passes on at once; they come when the buffer fills."""
    request = "GET /events HTTP/1.1\r\nHost: {host}\r\n\r\n"
    options = {"ignore_accel_buffering": True}
    with (
        running_nginx("nginx-default", host_of(sse_server), **options) as buffered,
        running_nginx("nginx-tuned", host_of(sse_server), **options) as tuned,
        connect(buffered.url, request) as held,
        connect(tuned.url, request) as streamed,
    ):
        assert b"retry:" in read_until(streamed, b"retry:")  # both streams are open now
        publish(sse_server, "first")
        assert b'"text":"first"' in read_until(streamed, b'"text":"first"')
        held.setblocking(False)
        with pytest.raises(BlockingIOError):
            held.recv(65536)  # nothing yet: not even the headers
        held.setblocking(True)
        for _ in range(4):  # 4 × 3,000 bytes: more than nginx's 4–8 KiB first buffer
            publish(sse_server, "x" * 3000)
        assert b'"text":"first"' in read_until(held, b'"text":"first"')


def test_the_proxy_read_timeout_cuts_a_longer_hold_and_the_tuned_one_does_not() -> None:
    """A 3 s hold: a 1 s read timeout ends it with 504 before the hold is over; the tuned
    profile's timeout (above every hold) lets the server answer 200 at the end of the hold."""
    request = "GET /poll?since=0&timeout=3 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    with server_process("longpoll") as server:
        with running_nginx("nginx-default", host_of(server), read_timeout_s=1) as proxy:
            with connect(proxy.url, request) as connection:
                assert status_of(read_until(connection, b"\r\n")) == 504
        with running_nginx("nginx-tuned", host_of(server)) as proxy:
            with connect(proxy.url, request) as connection:
                assert status_of(read_until(connection, b"\r\n")) == 200


def test_the_h2_profile_speaks_http2_over_tls(sse_server: str) -> None:
    import ssl

    with running_nginx("nginx-h2", host_of(sse_server)) as proxy:
        context = ssl.create_default_context(cafile=str(proxy.certificate))
        context.set_alpn_protocols(["h2", "http/1.1"])
        with (
            socket.create_connection(("127.0.0.1", proxy.port), timeout=READ_S) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.selected_alpn_protocol() == "h2"


def test_the_counters_count_the_clients_connections_and_requests(sse_server: str) -> None:
    with running_nginx("nginx-tuned", host_of(sse_server)) as proxy:
        before = proxy.counters()
        for _ in range(2):
            urllib.request.urlopen(f"{proxy.url}/healthz", timeout=READ_S).close()
        after = proxy.counters()
    assert (after.accepted - before.accepted, after.requests - before.requests) == (2, 2)
