"""The peer servers of issue 14: each starts as the bench starts it, takes ``/publisher``,
reports ``/stats``, and delivers every message in order to its own Locust user; the capacity
search stops where a server stops keeping up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from pushlab.bench.analysis.peer_findings import capacity_finding
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.cli import parse_args, settings_from
from pushlab.bench.core.matrix import build_matrix, settings_for
from pushlab.bench.core.scenario import Scenario, scenario
from pushlab.bench.measuring import capacity, harness
from pushlab.peers import node_peers
from pushlab.techniques import DELIVERING_PEERS, PEER_NAMES, PEERS, behaviour, family

QUICK = settings_for("quick")

CLIENTS = 3


def call(url: str, body: dict[str, object] | None = None) -> dict[str, object]:
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as answer:
        return json.loads(answer.read())


def require_runtime(name: str) -> None:
    """A Node peer needs Node.js and its npm packages: skip without them, fail under CI."""
    if name not in node_peers.SCRIPTS:
        return
    reason = node_peers.unavailable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the Node peer {name} cannot run: {reason}", pytrace=False)
    pytest.skip(f"{name}: {reason}")


@contextmanager
def running_peer(name: str) -> Iterator[str]:
    """``python -m pushlab.peers NAME --port 0`` as the bench starts it; its URL."""
    require_runtime(name)
    process = subprocess.Popen(
        [sys.executable, "-m", "pushlab.peers", name, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(f"pushlab {name} listening on http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(params=PEER_NAMES, scope="module")  # each peer started once for both tests
def peer(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    with running_peer(request.param) as url:
        yield request.param, url


def test_a_peer_takes_the_publisher_control_and_reports_stats(peer: tuple[str, str]) -> None:
    name, url = peer
    assert call(f"{url}/publisher", {"publish_rate": 5, "arrivals": "poisson", "seed": 3}) == {
        "publish_rate": 5.0,
        "arrivals": "poisson",
        "seed": 3,
        "text_bytes": 0,
    }
    stats = call(f"{url}/stats")
    assert stats["technique"] == name
    assert stats["publish_rate"] == 5.0
    assert stats["bytes_in"] > 0 and stats["tcp_connections_opened"] >= 1  # metered


def test_a_peer_refuses_a_bad_publisher_request_in_json(peer: tuple[str, str]) -> None:
    _name, url = peer
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(f"{url}/publisher", {"publish_rate": "fast"})
    assert refused.value.code == 400
    assert "publish_rate" in json.loads(refused.value.read())["error"]


def test_the_tornado_peer_answers_a_long_poll_with_the_messages_after_its_cursor() -> None:
    with running_peer("tornado-longpoll") as url:
        for text in ("one", "two", "three"):
            call(f"{url}/messages", {"text": text})
        answer = call(f"{url}/poll?since=1&timeout=1")
    assert [message["text"] for message in answer["messages"]] == ["two", "three"]
    assert answer["last_id"] == 3


STANDS_FOR = {"sse-starlette": "starlette-websocket", "node-ws": "node-socketio"}
"""Peers whose end-to-end run is left to another of their family (same server code, same
plumbing), so that the suite stays fast: one end-to-end run per family of peers."""
DEPLOYED_INSTEAD = ("starlette-websocket", "picows", "tornado-longpoll", "node-socketio")
"""One peer of each family on another framework or in another language (``docs/peers.md``)."""
END_TO_END = [
    pytest.param(name, marks=pytest.mark.slow) if name in DEPLOYED_INSTEAD else name
    for name in DELIVERING_PEERS
    if name not in STANDS_FOR
]


@pytest.mark.parametrize("name", END_TO_END)
def test_a_peer_delivers_every_message_in_order_to_its_locust_user(
    name: str, tmp_path: Path
) -> None:
    require_runtime(name)
    scenario = Scenario(
        name, CLIENTS, 10.0, None, duration_s=1.0, warmup_s=0.2, arrivals="periodic"
    )
    row = harness.run_scenario(scenario, harness.plan_affinity(), tmp_path).row
    assert row.clients_connected == CLIENTS
    assert row.messages_published > 0
    assert row.messages_delivered == CLIENTS * row.messages_published
    assert (row.missed, row.duplicated, row.reordered) == (0, 0, 0)
    assert row.bytes_per_message > 0
    assert row.family == "peer"


def test_socketio_polling_counts_its_polls_as_requests(tmp_path: Path) -> None:
    scenario = Scenario(
        "socketio-polling", CLIENTS, 10.0, None, duration_s=1.0, warmup_s=0.2, arrivals="periodic"
    )
    row = harness.run_scenario(scenario, harness.plan_affinity(), tmp_path).row
    assert row.requests_per_message > 0  # each delivery ends a held GET; pongs are POSTs


def test_every_peer_compares_with_one_of_the_four_and_is_of_the_peer_family() -> None:
    for name, peer in PEERS.items():
        assert behaviour(name) is peer.technique
        assert family(name) == "peer"
    assert family("websocket") == "pushlab"
    with pytest.raises(ValueError, match="baseline-websocket"):
        behaviour("nonesuch")


# --- The capacity search, against recorded rows (no server needed) --------------------------


def step_row(scenario: Scenario, delivered_fraction: float, p99_ms: float) -> ResultRow:
    offered = scenario.clients * scenario.publish_rate * scenario.duration_s
    return ResultRow.of(
        scenario=scenario.id,
        technique=scenario.technique,
        clients=scenario.clients,
        publish_rate=scenario.publish_rate,
        duration_s=scenario.duration_s,
        messages_published=round(scenario.publish_rate * scenario.duration_s),
        messages_delivered=round(offered * delivered_fraction),
        latency_p99_ms=p99_ms,
        load_achieved=True,
    )


def test_a_step_is_held_against_the_messages_published_not_the_rate() -> None:
    step = replace(
        scenario(QUICK, "websocket", 1000, 5.0, 1.0), arrivals="periodic", duration_s=6.0
    )
    row = replace(step_row(step, 1.0, 20.0), messages_published=29, messages_delivered=29_000)
    assert capacity.holds(row)  # one message short of 30 at the window's edge: still held
    assert not capacity.holds(replace(row, messages_delivered=28_000))  # 96.6% of 29,000
    assert not capacity.holds(replace(row, messages_published=20, messages_delivered=20_000))


def test_the_capacity_search_stops_at_the_first_step_that_falls_behind() -> None:
    settings = replace(QUICK, techniques=("websocket",))
    measured: list[float] = []

    def measure(scenario: Scenario) -> ResultRow:
        measured.append(scenario.publish_rate)
        return step_row(scenario, 1.0 if scenario.publish_rate < 40 else 0.9, 20.0)

    rows = capacity.search(settings, 40, (10.0, 20.0, 40.0, 80.0), measure, "capacity")
    assert measured == [10.0, 20.0, 40.0]
    assert [row.sustained for row in rows.values()] == [True, True, False]
    best = capacity.highest_sustained(list(rows.values()))
    assert best is not None and best.publish_rate == 20.0


def test_a_p99_past_half_a_second_ends_the_search() -> None:
    settings = replace(QUICK, techniques=("sse",))
    rows = capacity.search(
        settings, 40, (10.0, 20.0), lambda scenario: step_row(scenario, 1.0, 600.0), "capacity"
    )
    assert [row.sustained for row in rows.values()] == [False]


def test_a_step_is_held_to_the_wires_p99_when_every_delivery_was_stamped() -> None:
    step = replace(scenario(QUICK, "websocket", 1000, 10.0, 1.0), duration_s=6.0)
    # the generator added 800 ms after the kernel had the messages: the server kept up
    late_reader = replace(step_row(step, 1.0, 900.0), wire_latency_p99_ms=80.0, wire_stamped=1.0)
    assert capacity.holds(late_reader)
    assert not capacity.holds(replace(late_reader, wire_latency_p99_ms=700.0))
    # half the deliveries unstamped: the wire stands for nothing, the observed p99 decides
    assert not capacity.holds(replace(late_reader, wire_stamped=0.5))


def test_a_search_ended_by_a_step_the_generator_delayed_says_it_may_be_the_limit() -> None:
    step = replace(scenario(QUICK, "websocket", 1000, 10.0, 1.0), duration_s=6.0)
    stamped = replace(step_row(step, 1.0, 20.0), wire_stamped=1.0, wire_latency_p99_ms=20.0)
    held = stamped.with_columns(sustained=True)
    ended = replace(stamped, publish_rate=20.0, latency_p99_ms=3000.0, wire_latency_p99_ms=900.0)

    def finding(generator_delay_p99_ms: float) -> str:
        last = replace(ended, generator_delay_p99_ms=generator_delay_p99_ms)
        rows = [held.as_dict(), last.with_columns(sustained=False).as_dict()]
        summary = pd.DataFrame(rows).assign(sweep="capacity")
        text = capacity_finding(Results(Path("made-up"), summary, {"synthetic": True}))
        assert text is not None
        return text

    # the generator's own delay past the limit on the step that ended it: a lower bound
    assert "⚠ the generator may have been the limit" in finding(generator_delay_p99_ms=2100.0)
    assert "⚠" not in finding(generator_delay_p99_ms=80.0)  # the server fell behind on the wire
    assert "observed p99" not in finding(generator_delay_p99_ms=80.0)  # held to the wire's


def test_only_push_servers_are_searched() -> None:
    settings = replace(
        QUICK, techniques=("polling", "longpoll", "websocket"), peers=("socketio-polling",)
    )
    assert capacity.push_servers(settings) == ("websocket",)


# --- End to end -------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_quick_run_with_a_peer_writes_its_rows_findings_and_figure(tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "pushlab.bench", "--quick", "--peers", "baseline-websocket"]
    command += ["--techniques", "websocket", "--sweeps", "clients,rate"]  # peers join these two
    command += ["--clients", "10", "--base-clients", "10", "--rates", "1"]  # 2 scenarios, 4 rows
    command += ["--no-trace", "--out", str(out)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    summary = pd.read_csv(out / "summary.csv")
    peers = summary[summary["technique"] == "baseline-websocket"]
    assert set(peers["sweep"]) == {"clients", "rate"}
    assert set(peers["family"]) == {"peer"}
    assert set(summary[summary["technique"] == "websocket"]["family"]) == {"pushlab"}
    assert (peers["missed"] == 0).all() and (peers["messages_delivered"] > 0).all()
    environment = json.loads((out / "environment.json").read_text())
    assert environment["loopback_send_floor"]["send_cpu_us"] > 0
    report = (out / "report.md").read_text()
    assert "WebSocket vs textbook WebSocket loop" in report
    assert "a bare loopback send()" in report
    assert (out / "plots" / "peers.png").is_file()


# --- The command line -------------------------------------------------------------------------


def matrix_of(argv: list[str]) -> list[tuple[str, str]]:
    _mode, settings = settings_from(parse_args(argv))
    return [(sweep, item.id) for sweep, item in build_matrix(settings)]


def test_peers_join_the_clients_and_rate_sweeps_but_not_the_interval_sweep() -> None:
    matrix = matrix_of(["--quick", "--techniques", "websocket", "--peers", "socketio-polling"])
    peer_sweeps = {sweep for sweep, scenario in matrix if scenario.startswith("socketio-polling")}
    assert peer_sweeps == {"clients", "rate"}
    assert not any(s.startswith("socketio-polling") for s in dict(matrix_of(["--quick"])).values())


def test_full_runs_every_peer() -> None:
    scenarios = {scenario for _sweep, scenario in matrix_of(["--full"])}
    assert all(any(s.startswith(f"{name}-c") for s in scenarios) for name in PEER_NAMES)


def test_the_peer_table_load_is_one_rate_sweep_row_per_server() -> None:
    argv = ["--sweeps", "rate", "--base-clients", "1000", "--rates", "20", "--peers", "aiohttp-sse"]
    assert matrix_of(argv) == [
        ("rate", "polling-c1000-r20-i1"),
        ("rate", "longpoll-c1000-r20"),
        ("rate", "websocket-c1000-r20"),
        ("rate", "sse-c1000-r20"),
        ("rate", "aiohttp-sse-c1000-r20"),
    ]


@pytest.mark.parametrize(
    "argv", [["--peers", "nonesuch"], ["--base-clients", "1,2"], ["--sweeps", "capacit"]]
)
def test_a_bad_peer_or_base_value_is_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        parse_args(argv)
    assert usage.value.code == 2
