"""The demo server without a browser: the page's files, its API, CORS and the shared feed."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from pushlab.radio_profiles import PROFILES as RADIO_PROFILES
from pushlab.reconnect_policy import RECONNECT_POLICY
from pushlab.servers.config import LESSON_PUBLISH_RATE, ServerConfig
from pushlab.servers.demo import STATIC_DIR, Demo, demo_ports, share_urls, start_demo
from pushlab.techniques import LONGPOLL_HOLD_S, POLL_INTERVAL_S
from pushlab.techniques import NAMES as TECHNIQUES
from pushlab.techniques import TECHNIQUES as TABLE

PAGE_ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
async def demo() -> AsyncIterator[Demo]:
    running = await start_demo(ServerConfig(port=0))
    yield running
    await running.stop()


LAN_NAMES = ("class-laptop.local", "192.168.1.5")


@pytest.fixture
async def lan_demo() -> AsyncIterator[Demo]:
    """A demo that also answers to two names of a classroom network (``--allow-host``)."""
    running = await start_demo(ServerConfig(port=0, allowed_hosts=LAN_NAMES))
    yield running
    await running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def static_files() -> list[Path]:
    return sorted(p for p in STATIC_DIR.iterdir() if p.is_file())


# --- The page's files -------------------------------------------------------------------------


async def test_index_is_served_with_a_content_security_policy(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    async with http.get(demo.url) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:*" in policy
        assert '<script type="module" src="/static/app.js">' in await response.text()


@pytest.mark.parametrize(
    ("host", "connect_src"),
    [
        (
            "class-laptop.local:8000",
            "http://class-laptop.local:* ws://class-laptop.local:* https://class-laptop.local:* wss://class-laptop.local:*",
        ),
        (
            "192.168.1.5:8000",
            "http://192.168.1.5:* ws://192.168.1.5:* https://192.168.1.5:* wss://192.168.1.5:*",
        ),
        ("[::1]:8000", "http://[::1]:* ws://[::1]:* https://[::1]:* wss://[::1]:*"),
    ],
)
async def test_the_policy_names_the_host_the_browser_used(
    lan_demo: Demo, http: aiohttp.ClientSession, host: str, connect_src: str
) -> None:
    async with http.get(lan_demo.url, headers={"Host": host}) as response:
        policy = response.headers["Content-Security-Policy"]
    assert f"connect-src 'self' {connect_src};" in policy
    assert policy.count("script-src") == 1


@pytest.mark.parametrize("host", ["x; script-src * 'unsafe-inline'", "[::1", "evil.example:8000"])
async def test_a_host_that_is_not_ours_gets_no_page(
    lan_demo: Demo, http: aiohttp.ClientSession, host: str
) -> None:
    async with http.get(lan_demo.url, headers={"Host": host}) as response:
        assert response.status == 421
        assert "Content-Security-Policy" not in response.headers
        assert "Host" in (await response.json())["error"]


@pytest.mark.parametrize("path", static_files(), ids=lambda p: p.name)
async def test_every_static_file_is_served_byte_for_byte(
    demo: Demo, http: aiohttp.ClientSession, path: Path
) -> None:
    async with http.get(f"{demo.page.url}/static/{path.name}") as response:
        assert response.status == 200
        assert await response.read() == path.read_bytes()
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path", [p for p in static_files() if p.suffix == ".js"], ids=lambda p: p.name
)
async def test_every_module_is_served_as_javascript(
    demo: Demo, http: aiohttp.ClientSession, path: Path
) -> None:
    """A browser runs an ES module only if it comes as JavaScript (nosniff is on)."""
    async with http.get(f"{demo.page.url}/static/{path.name}") as response:
        assert response.content_type == "text/javascript"


@pytest.mark.parametrize("name", ["missing.js", "..%2Fdemo.py", ".hidden.js", "demo.py"])
async def test_only_files_of_the_static_folder_are_served(
    demo: Demo, http: aiohttp.ClientSession, name: str
) -> None:
    async with http.get(f"{demo.page.url}/static/{name}") as response:
        assert response.status == 404
        assert "error" in await response.json()


def test_nothing_is_loaded_from_the_network() -> None:
    external = re.compile(
        r"""(src|href)\s*=\s*["']?(https?:)?//|@import|\bimport\s+[^;]*["']https?:"""
    )
    for path in static_files():
        assert not external.search(path.read_text()), f"{path.name} loads from the network"


def test_the_page_never_turns_data_into_markup() -> None:
    markup_sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(")
    for path in static_files():
        assert not markup_sinks.search(path.read_text()), f"{path.name} uses a markup sink"


# --- The page's API ---------------------------------------------------------------------------


async def test_config_names_the_techniques_by_the_host_the_browser_used(
    lan_demo: Demo, http: aiohttp.ClientSession
) -> None:
    demo = lan_demo
    headers = {"Host": f"192.168.1.5:{demo.page.port}"}
    async with http.get(f"{demo.page.url}/api/config", headers=headers) as response:
        config = await response.json()
    assert config["techniques"] == {
        t: f"http://192.168.1.5:{demo.network.port(t)}" for t in TECHNIQUES
    }
    assert config["last_id"] == 0


async def test_config_carries_the_technique_table_the_plots_use(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{demo.page.url}/api/config") as response:
        config = await response.json()
    assert {name: entry["colour"] for name, entry in config["table"].items()} == {
        "polling": "#D55E00",
        "longpoll": "#CC79A7",
        "websocket": "#0072B2",
        "sse": "#009E73",
    }
    assert config["table"]["longpoll"] == TABLE["longpoll"].as_json()
    assert config["hold_s"] == LONGPOLL_HOLD_S
    assert config["poll_interval_s"] == POLL_INTERVAL_S


async def test_config_carries_the_reconnect_policy_every_client_runs(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{demo.page.url}/api/config") as response:
        config = await response.json()
    assert config["reconnect"] == RECONNECT_POLICY.as_json()


async def test_config_carries_the_radio_profiles_the_gauge_models(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{demo.page.url}/api/config") as response:
        config = await response.json()
    assert config["radio_profiles"]["lte"] == RADIO_PROFILES["lte"].as_json()
    assert (
        config["radio_profiles"]["3g"]["parameters"]["dch_fach_timer_s"]
        == (RADIO_PROFILES["3g"]["dch_fach_timer_s"])
    )


async def test_stats_of_all_four_are_read_without_counting_as_requests(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    for _ in range(3):
        async with http.get(f"{demo.page.url}/api/stats") as response:
            stats = await response.json()
    assert set(stats["techniques"]) == set(TECHNIQUES)
    for technique in TECHNIQUES:
        assert stats["techniques"][technique]["technique"] == technique
        assert stats["techniques"][technique]["requests"] == 0
        assert stats["techniques"][technique]["other_requests"] == 0


async def test_stats_name_the_one_shared_feed(demo: Demo, http: aiohttp.ClientSession) -> None:
    """A restart shows as a new feed_id: every /stats and /api/stats carry the shared one."""
    async with http.get(f"{demo.page.url}/api/stats") as response:
        page_stats = await response.json()
    for technique in TECHNIQUES:
        async with http.get(f"{demo.techniques[technique].url}/stats") as response:
            own_stats = await response.json()
        assert own_stats["feed_id"] == demo.feed.feed_id
        assert page_stats["techniques"][technique]["feed_id"] == demo.feed.feed_id


async def test_one_feed_is_shared_by_the_four_techniques(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    sse = demo.techniques["sse"].url
    async with http.post(f"{sse}/messages", json={"text": "shared"}) as response:
        assert response.status == 201
    async with http.get(f"{demo.techniques['polling'].url}/poll?since=0") as response:
        body = await response.json()
    assert [m["text"] for m in body["messages"]] == ["shared"]


async def test_publish_rate_set_on_the_page_drives_the_one_shared_publisher(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{demo.page.url}/api/publisher", json={"publish_rate": 5}) as response:
        assert response.status == 200
    for technique in TECHNIQUES:
        async with http.get(f"{demo.techniques[technique].url}/publisher") as response:
            assert (await response.json())["publish_rate"] == 5


async def test_handshake_of_a_client_is_shown_as_recorded(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    ws_url = demo.techniques["websocket"].url
    origin = {"Origin": PAGE_ORIGIN}
    async with http.ws_connect(f"{ws_url}/ws?since=0&client=abc123", headers=origin):
        async with http.get(f"{demo.page.url}/api/handshake?client=abc123") as response:
            handshake = await response.json()
    assert handshake["request_line"] == "GET /ws?since=0&client=abc123 HTTP/1.1"
    assert handshake["status"] == 101
    assert "Sec-WebSocket-Key" in dict(handshake["request_headers"])
    assert "Sec-WebSocket-Accept" in dict(handshake["response_headers"])


async def test_handshake_of_an_unknown_client_is_404(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{demo.page.url}/api/handshake?client=nobody") as response:
        assert response.status == 404


# --- Cross-origin: the page on one port, the techniques on others ----------------------------


async def test_preflight_for_a_json_post_is_answered_for_a_page_on_the_same_host(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    headers = {
        "Origin": PAGE_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    url = f"{demo.techniques['longpoll'].url}/messages"
    async with http.options(url, headers=headers) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


async def test_preflight_from_another_host_is_refused(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    url = f"{demo.techniques['polling'].url}/messages"
    async with http.options(url, headers=headers) as response:
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("technique", ["polling", "longpoll"])
async def test_answers_allow_a_same_host_page_to_read_them_and_their_timing(
    demo: Demo, http: aiohttp.ClientSession, technique: str
) -> None:
    url = f"{demo.techniques[technique].url}/poll?since=0&timeout=0"
    async with http.get(url, headers={"Origin": PAGE_ORIGIN}) as response:
        assert response.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
        assert response.headers["Timing-Allow-Origin"] == PAGE_ORIGIN


async def test_an_sse_stream_allows_a_same_host_page(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    url = f"{demo.techniques['sse'].url}/events?since=0"
    async with http.get(url, headers={"Origin": PAGE_ORIGIN}) as response:
        assert response.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
        assert await response.content.readline() == b"retry: 2000\n"


async def test_answers_to_another_host_carry_no_cors_permission(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    url = f"{demo.techniques['polling'].url}/poll?since=0"
    async with http.get(url, headers={"Origin": "http://evil.example"}) as response:
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_websocket_accepts_a_page_on_the_same_host_and_refuses_another(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    url = f"{demo.techniques['websocket'].url}/ws?since=0"
    async with http.ws_connect(url, headers={"Origin": PAGE_ORIGIN}) as ws:
        assert not ws.closed
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(url, headers={"Origin": "http://evil.example"})
    assert refused.value.status == 403


# --- Ports and addresses ----------------------------------------------------------------------


def test_default_ports_are_8000_to_8004() -> None:
    assert demo_ports(ServerConfig()) == {
        "demo": 8000,
        "polling": 8001,
        "longpoll": 8002,
        "websocket": 8003,
        "sse": 8004,
    }


def test_port_zero_picks_free_ports_for_all_five() -> None:
    assert set(demo_ports(ServerConfig(port=0)).values()) == {0}


def test_lan_addresses_are_shared_only_when_listening_on_all_interfaces() -> None:
    assert share_urls("127.0.0.1", 8000) == []
    for url in share_urls("0.0.0.0", 8000):
        assert re.fullmatch(r"http://\d+\.\d+\.\d+\.\d+:8000/", url)
        assert not url.startswith("http://127.")


# --- Hardening (issue 16) ---------------------------------------------------------------------


async def test_a_static_name_over_the_file_system_limit_is_404(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{demo.page.url}/static/{'a' * 300}.js") as response:
        assert response.status == 404
        assert "no such file" in (await response.json())["error"]


async def test_the_handshake_hands_back_no_credentials(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    ws_url = f"{demo.techniques['websocket'].url}/ws?client=abcd1234"
    secrets = {"Cookie": "session=s3cret", "Authorization": "Bearer t0ken"}
    async with http.ws_connect(ws_url, headers=secrets):
        async with http.get(f"{demo.page.url}/api/handshake?client=abcd1234") as response:
            handshake = await response.json()
    headers = {name.lower(): value for name, value in handshake["request_headers"]}
    assert headers["cookie"] == "(redacted)"
    assert headers["authorization"] == "(redacted)"
    assert "s3cret" not in str(handshake) and "t0ken" not in str(handshake)


# --- The command: the lesson's defaults, and a busy port ----------------------------------------


def run_demo(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pushlab", "demo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_demo_publishes_random_arrivals_below_the_poll_frequency_by_default() -> None:
    demo = run_demo("--port", "0")
    try:
        assert demo.stdout is not None
        first = demo.stdout.readline()
        url = re.search(r"listening on (http://\S+)", first)
        assert url, first
        with urllib.request.urlopen(f"{url[1]}/api/publisher", timeout=10) as answer:
            publisher = json.load(answer)
    finally:
        demo.terminate()
        demo.wait(timeout=20)
    assert publisher["publish_rate"] == LESSON_PUBLISH_RATE
    assert publisher["arrivals"] == "poisson"
    assert 0 < LESSON_PUBLISH_RATE * POLL_INTERVAL_S < 1  # most polls find nothing


def test_a_busy_port_is_one_line_naming_the_demo_once_and_the_way_out() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        demo = run_demo("--port", str(busy.getsockname()[1]))
        out, err = demo.communicate(timeout=60)
    assert demo.returncode == 1
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("pushlab demo: cannot listen on 127.0.0.1:")  # this port or 8001–8004
    assert err.endswith("; --port 0 puts all five servers on free ports\n")
