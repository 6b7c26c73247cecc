"""Bad input gets a 4xx with a JSON body naming the problem; the server keeps serving."""

import subprocess
import sys

import aiohttp
import pytest

from pushlab.techniques import LONGPOLL_MAX_HOLD_S

BAD_REQUESTS = [
    ("polling", "GET", "/poll?since=abc", None, 400, "since"),
    ("polling", "GET", "/poll?since=-1", None, 400, "since"),
    ("polling", "GET", "/poll?since=99", None, 400, "ahead"),
    ("longpoll", "GET", f"/poll?timeout={LONGPOLL_MAX_HOLD_S + 1:g}", None, 400, "timeout"),
    ("longpoll", "GET", "/poll?timeout=-1", None, 400, "timeout"),
    ("longpoll", "GET", "/poll?timeout=soon", None, 400, "timeout"),
    ("longpoll", "GET", "/poll?timeout=1_0", None, 400, "timeout"),
    ("longpoll", "GET", "/poll?timeout=nan", None, 400, "timeout"),
    ("longpoll", "GET", "/poll?timeout=%D9%A3", None, 400, "timeout"),
    ("websocket", "GET", "/ws?since=x", None, 426, "WebSocket client"),
    ("sse", "GET", "/events?since=x", None, 400, "since"),
    ("polling", "POST", "/messages", b"not json", 400, "JSON"),
    ("polling", "POST", "/messages", b"[1, 2]", 400, "JSON object"),
    ("polling", "POST", "/messages", b'{"txt": "typo"}', 400, "text"),
    ("polling", "POST", "/messages", b'{"text": 42}', 400, "string"),
    ("polling", "POST", "/messages", b'{"text": "   "}', 400, "empty"),
    ("polling", "POST", "/messages", b'{"text": "' + b"x" * 4097 + b'"}', 413, "4096 bytes"),
    ("polling", "POST", "/messages", b"\xff\xfe", 400, "JSON"),
    ("polling", "POST", "/messages", b'{"text": "\\ud800"}', 400, "valid Unicode"),
    ("polling", "POST", "/messages", b"[" * 30_000 + b"]" * 30_000, 400, "nested too deeply"),
    ("polling", "POST", "/messages", b'{"text": ' + b"7" * 5_000 + b"}", 400, "JSON"),
    ("polling", "GET", "/poll?since=1_0", None, 400, "since"),
    ("polling", "GET", "/poll?since=+1", None, 400, "since"),
    ("polling", "GET", "/poll?since=%D9%A3", None, 400, "since"),
    ("polling", "POST", "/publisher", b'{"publish_rate": "fast"}', 400, "publish_rate"),
    ("polling", "POST", "/publisher", b'{"publish_rate": 5000}', 400, "publish_rate"),
    ("polling", "POST", "/publisher", b'{"publish_rate": 1, "arrivals": "x"}', 400, "arrivals"),
    ("polling", "POST", "/publisher", b'{"publish_rate": 1, "seed": "abc"}', 400, "seed"),
    ("polling", "POST", "/publisher", b'{"publish_rate": 1, "seed": -1}', 400, "seed"),
    ("polling", "POST", "/publisher", b'{"publish_rate": 1, "seed": 1.5}', 400, "seed"),
    ("polling", "GET", "/nowhere", None, 404, "no such path"),
    ("polling", "DELETE", "/messages", None, 405, "not allowed"),
]


@pytest.mark.parametrize(("technique", "method", "path", "body", "status", "says"), BAD_REQUESTS)
async def test_bad_input_gets_a_json_4xx_and_the_server_keeps_serving(
    start_server, technique, method, path, body, status, says
):
    server = await start_server(technique)
    async with aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        async with session.request(
            method, f"{server.url}{path}", data=body, headers=headers
        ) as response:
            assert response.status == status
            assert response.content_type == "application/json"
            assert says in (await response.json())["error"]
        async with session.get(f"{server.url}/healthz") as response:
            assert await response.json() == {"status": "ok", "technique": technique}


@pytest.mark.parametrize("last_event_id", ["x", "-7", "1_0", "٣"])
async def test_sse_bad_last_event_id_is_refused(start_server, last_event_id):
    server = await start_server("sse")
    async with aiohttp.ClientSession() as session:
        headers = {"Last-Event-ID": last_event_id}
        async with session.get(f"{server.url}/events", headers=headers) as response:
            assert response.status == 400
            assert "Last-Event-ID" in (await response.json())["error"]


async def test_text_limit_is_configurable(start_server):
    server = await start_server("polling", max_text_bytes=8)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/messages", json={"text": "123456789"}) as response:
            assert response.status == 413
        async with session.post(f"{server.url}/messages", json={"text": "12345678"}) as response:
            assert response.status == 201


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nope"], "invalid choice"),
        (["polling", "--port", "70000"], "0–65535"),
        (["polling", "--rate", "fast"], "not a rate"),
        (["polling", "--history", "0"], "at least 1"),
        (["all", "--port", "65534"], "need 65534–65537"),
        (["all", "--port=65533"], "need 65533–65536"),
    ],
)
def test_cli_rejects_bad_arguments_in_one_line(args, says):
    result = subprocess.run(
        [sys.executable, "-m", "pushlab.servers", *args], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_says_when_the_port_is_taken():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "pushlab.servers", "polling", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        f"python -m pushlab.servers polling: cannot listen on 127.0.0.1:{port}:"
        " address already in use; try --port 0\n"
    )


def test_the_error_line_names_the_command_it_was_run_as(capsys):
    from pushlab.servers.__main__ import main

    assert main(["all", "--port", "65535"], prog="pushlab serve") == 2
    assert capsys.readouterr().err.startswith("pushlab serve all: --port 65535: the four")
