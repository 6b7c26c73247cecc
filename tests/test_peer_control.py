"""pushlab's control routes for the peers on other frameworks (``peers/control.py``), and the
uvicorn peers' metering through uvicorn's switch to its WebSocket protocol."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
import websocket

from pushlab.peers.control import Control
from pushlab.servers.config import ServerConfig
from tests.test_peers import call, running_peer


async def test_the_control_answers_as_pushlabs_servers_do_and_counts_each_request() -> None:
    control = Control("tornado-longpoll", ServerConfig())
    assert await control.answer("GET", "/healthz", b"") == (
        200,
        {"status": "ok", "technique": "tornado-longpoll"},
    )
    status, message = await control.answer("POST", "/messages", b'{"text": "hi"}')
    assert (status, message["id"], message["text"]) == (201, 1, "hi")
    status, stats = await control.answer("GET", "/stats", b"")
    assert (status, stats["last_id"], stats["requests"], stats["other_requests"]) == (200, 1, 1, 2)
    await control.aclose()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("POST", "/publisher", b"not json", 400, "must be JSON"),
        ("POST", "/publisher", b'{"publish_rate": -1}', 400, '"publish_rate" must be between'),
        ("POST", "/messages", b'{"text": "  "}', 400, "must not be empty"),
        ("PUT", "/stats", b"", 405, "PUT is not allowed on /stats"),
        ("GET", "/nonesuch", b"", 404, "no such path: /nonesuch"),
    ],
)
async def test_bad_control_requests_get_a_json_error_naming_the_problem(
    method: str, path: str, body: bytes, status: int, words: str
) -> None:
    control = Control("sse-starlette", ServerConfig())
    answered, error = await control.answer(method, path, body)
    assert answered == status and words in error["error"]
    await control.aclose()


def stats_of(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as answer:
        return json.loads(answer.read())


def test_a_uvicorn_websocket_is_metered_after_the_protocol_switch() -> None:
    with running_peer("starlette-websocket") as url:
        websocket_closed_and_counted(url)


def websocket_closed_and_counted(url: str) -> None:
    before = stats_of(url)
    client = websocket.create_connection(url.replace("http", "ws", 1) + "/ws", timeout=10)
    client.send("x" * 1000)  # read by the endpoint: bytes that arrive after the switch
    client.close()
    deadline = time.monotonic() + 10
    after = stats_of(url)
    while after["tcp_connections_open"] != before["tcp_connections_open"]:
        assert time.monotonic() < deadline, "the closed WebSocket is still counted as open"
        time.sleep(0.05)
        after = stats_of(url)
    assert after["bytes_in"] - before["bytes_in"] > 1000  # the upgrade request and the frame
    assert call(f"{url}/healthz")["technique"] == "starlette-websocket"
