"""Issue 15's slow consumer: a real client that stops reading, against a real server; the
publisher's big texts; and the sweep, its columns and its sentence."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.analysis.slow_findings import slow_consumer_finding
from pushlab.bench.analysis.slow_window import Account
from pushlab.bench.cli import parse_args, settings_from
from pushlab.bench.core.matrix import build_matrix
from pushlab.bench.measuring.slow_consumer import SlowConsumer
from pushlab.bench.measuring.slow_sweep import SlowPart
from pushlab.protocol import Gap
from tests.conftest import server_process

TEXT_BYTES = 4096


def post(url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def last_id(url: str) -> int:
    with urllib.request.urlopen(url + "/stats", timeout=10) as answer:
        return json.load(answer)["last_id"]


def wait_for_id(url: str, wanted: int, timeout_s: float = 60) -> int:
    """Until the publisher has published up to ``wanted`` (the condition, polled)."""
    deadline = time.monotonic() + timeout_s
    while (now := last_id(url)) < wanted:
        assert time.monotonic() < deadline, f"the publisher reached only id {now}"
        time.sleep(0.05)
    return now


def kernel_send_buffer_messages() -> int:
    """How many texts the kernel may hold for a client before the server's own buffer grows."""
    most = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    return most // TEXT_BYTES + 1


def run_stall(url: str, technique: str, messages_while_paused: int) -> tuple[Account, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    consumer = SlowConsumer(technique, host, int(port), cursor=last_id(url))
    consumer.pause()
    start = last_id(url)
    post(url, "/publisher", {"publish_rate": 1000, "text_bytes": TEXT_BYTES})
    wait_for_id(url, start + messages_while_paused)
    consumer.resume()
    post(url, "/publisher", {"publish_rate": 0})
    final = last_id(url)
    return consumer.finish(final, timeout_s=60), final


@pytest.mark.parametrize("technique", ["websocket", "sse"])
def test_a_slow_consumer_past_the_history_is_told_what_it_missed(technique: str) -> None:
    """Paused long enough for the kernel's buffers, the high-water mark and a small history
    to be passed: the server names the gap; the client resumes after it; nothing is silent."""
    with server_process(technique, "--history", "50") as url:
        account, final = run_stall(url, technique, kernel_send_buffer_messages() + 500)
    assert account.error == ""
    assert account.signalled() > 0, "the history was passed: a gap signal was due"
    assert account.lost_silently(final) == 0
    assert account.duplicates() == 0
    assert account.received == sorted(account.received)
    first_gap = account.gaps[0]
    before = [i for i in account.received if i < first_gap.from_id]
    assert before == list(range(account.first_id, first_gap.from_id))  # no hole before it
    assert account.reconnects >= 1  # it came back after the gap, from the gap's end
    assert account.received[-1] == final


@pytest.mark.parametrize("technique", ["websocket", "sse"])
def test_a_slow_consumer_within_the_history_receives_every_message(technique: str) -> None:
    with server_process(technique) as url:  # the default history: 1,000
        account, final = run_stall(url, technique, 200)
    assert account.signalled() == 0
    assert account.received == list(account.owed(final))


def test_the_account_counts_what_was_neither_received_nor_signalled() -> None:
    account = Account(first_id=1, received=[1, 2, 6, 9], gaps=[Gap(3, 5)])
    assert account.lost_silently(9) == 2  # 7 and 8
    assert account.signalled() == 3
    assert Account(first_id=1, received=[1, 1, 2]).duplicates() == 1


def test_a_slow_consumer_is_a_push_client() -> None:
    with pytest.raises(ValueError, match="push client"):
        SlowConsumer("polling", "127.0.0.1", 1, 0)


# --- The publisher's big texts ----------------------------------------------------------


def test_the_publisher_pads_its_texts_and_refuses_a_bad_size() -> None:
    with server_process("polling") as url:
        answer = post(url, "/publisher", {"publish_rate": 50, "text_bytes": 300})
        assert answer["text_bytes"] == 300
        wait_for_id(url, 1)
        with urllib.request.urlopen(url + "/poll?since=0", timeout=10) as poll:
            text = json.load(poll)["messages"][0]["text"]
        assert len(text.encode()) == 300
        for bad in (-1, 10**9, "4096", True):
            with pytest.raises(urllib.error.HTTPError) as refused:
                post(url, "/publisher", {"publish_rate": 1, "text_bytes": bad})
            assert refused.value.code == 400
            assert "text_bytes" in json.load(refused.value)["error"]


# --- The sweep ----------------------------------------------------------------------------


def test_the_slow_sweep_runs_the_push_techniques_with_one_slow_consumer() -> None:
    _, settings = settings_from(
        parse_args(["--sweeps", "slow", "--slow-clients", "20", "--slow-stall-s", "30"])
    )
    rows = build_matrix(settings)
    assert {item.technique for _, item in rows} == {"websocket", "sse"}
    for sweep, item in rows:
        assert sweep == "slow" and item.clients == 20 and item.parts == (SlowPart(30.0),)
        assert item.text_bytes == TEXT_BYTES and item.id.endswith("-slow30-t4096")
        assert item.warmup_s * item.publish_rate >= 1000  # the history is full before the window
        assert item.duration_s > 30


def test_the_slow_sweep_is_not_in_the_default_run() -> None:
    _, settings = settings_from(parse_args([]))
    assert all(sweep != "slow" for sweep, _ in build_matrix(settings))


def synthetic_results(**columns: object) -> Results:
    row = ResultRow.of(
        sweep="slow",
        scenario="websocket-c20-r200-slow30-t4096",
        technique="websocket",
        clients=20,
        publish_rate=200.0,
        **columns,  # type: ignore[arg-type]
    )
    return Results(Path("."), pd.DataFrame([row.as_dict()]), {}, {})


def test_the_finding_states_each_target_from_the_row() -> None:
    text = slow_consumer_finding(
        synthetic_results(
            slow_stall_s=30.0,
            slow_rss_growth_kb=70.0,
            slow_high_water_kb=64.0,
            others_p99_before_ms=10.0,
            others_p99_during_ms=13.0,
            others_p99_change=0.3,
            slow_received=2000,
            slow_signalled=4000,
            slow_lost=0,
            slow_reconnects=1,
        )
    )
    assert text is not None
    assert "70 KB (high-water mark 64 KB)" in text
    assert "+30%, outside ±20%" in text
    assert "told of 4,000 more by a gap signal" in text and "none was lost silently" in text


def test_no_slow_rows_no_finding() -> None:
    assert slow_consumer_finding(synthetic_results(slow_stall_s=math.nan)) is None
