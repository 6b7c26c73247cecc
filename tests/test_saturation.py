"""Issue 15's empty poll answers: the bare aiohttp poll handler (``baseline-polling``), the
saturation sweep that holds pushlab's polling server against it, and the finding it writes."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import aiohttp
import pandas as pd
import pytest

from pushlab.bench.analysis import metrics
from pushlab.bench.analysis.findings import findings
from pushlab.bench.analysis.peer_findings import empty_answer_finding
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.cli import parse_args, settings_from
from pushlab.bench.core.matrix import build_matrix
from pushlab.bench.core.scenario import Scenario
from pushlab.bench.measuring.stats_connection import ServerConnection
from pushlab.bench.measuring.window import close_window
from pushlab.peers import baseline_polling
from pushlab.peers.app import make_peer_app
from pushlab.servers.app import make_app
from pushlab.servers.config import ServerConfig
from pushlab.servers.runner import RunningServer, start
from pushlab.techniques import CLOSED_LOOP_S, PEERS, label
from tests.conftest import server_process

# --- The peer -------------------------------------------------------------------------------


async def get(server: RunningServer, query: str) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/poll?{query}") as response:
            return response.status, await response.read(), dict(response.headers)


@pytest.fixture
async def both() -> tuple[RunningServer, RunningServer]:
    config = ServerConfig(publish_rate=0)
    ours = await start(make_app("polling", config))
    theirs = await start(make_peer_app("baseline-polling", config, baseline_polling.setup))
    yield ours, theirs
    await ours.stop()
    await theirs.stop()


async def test_the_bare_handler_answers_as_pushlab_answers_a_poll_with_nothing_new(both) -> None:
    ours, theirs = both
    status, body, headers = await get(ours, "since=0")
    peer_status, peer_body, peer_headers = await get(theirs, "since=0")
    assert (peer_status, peer_body) == (status, body) == (200, body)
    for name in ("Content-Type", "Cache-Control"):
        assert peer_headers[name] == headers[name]


async def test_the_bare_handler_is_metered_like_every_peer(both) -> None:
    _ours, theirs = both
    for _ in range(3):
        await get(theirs, "since=0")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{theirs.url}/stats") as response:
            stats = await response.json()
    assert stats["technique"] == "baseline-polling"
    assert (stats["requests"], stats["empty_responses"]) == (3, 3)
    assert stats["bytes_out"] > 0


async def test_pushlab_still_refuses_a_bad_cursor_in_json_where_the_constant_does_not(
    both,
) -> None:
    ours, theirs = both
    status, body, _ = await get(ours, "since=abc")
    assert status == 400 and b"since" in body
    assert (await get(theirs, "since=abc"))[0] == 200  # it reads nothing: the floor's point


def test_the_bare_handler_is_a_peer_that_never_delivers() -> None:
    peer = PEERS["baseline-polling"]
    assert (peer.compares_with, peer.path, peer.delivers) == ("polling", "/poll", False)


# --- The sweep ------------------------------------------------------------------------------


def matrix_of(argv: list[str]) -> list[tuple[str, Scenario]]:
    _mode, settings = settings_from(parse_args(argv))
    return build_matrix(settings)


def test_the_saturation_sweep_pairs_polling_and_the_bare_handler_at_each_client_count() -> None:
    matrix = matrix_of(["--sweeps", "saturation", "--saturation-clients", "1000,100"])
    assert [(sweep, item.id) for sweep, item in matrix] == [
        ("saturation", "polling-c100-r0-i0"),
        ("saturation", "baseline-polling-c100-r0-i0"),
        ("saturation", "polling-c1000-r0-i0"),
        ("saturation", "baseline-polling-c1000-r0-i0"),
    ]
    for _sweep, item in matrix:
        assert (item.publish_rate, item.poll_interval) == (0.0, CLOSED_LOOP_S)
        assert item.duration_s == 6.0  # nothing published: no window stretched for messages


def test_the_quick_saturation_sweep_runs_at_its_own_client_count() -> None:
    matrix = matrix_of(["--quick", "--sweeps", "saturation"])
    assert {item.clients for _sweep, item in matrix} == {40}


def test_without_a_polling_server_there_is_nothing_to_saturate() -> None:
    assert matrix_of(["--sweeps", "saturation", "--techniques", "websocket,sse"]) == []


def test_the_saturation_sweep_runs_only_when_asked_for_or_in_full() -> None:
    assert not any(sweep == "saturation" for sweep, _ in matrix_of([]))
    assert any(sweep == "saturation" for sweep, _ in matrix_of(["--full"]))


def test_the_bare_handler_stays_out_of_the_sweeps_where_messages_must_arrive() -> None:
    matrix = matrix_of(["--quick", "--techniques", "polling", "--peers", "baseline-polling"])
    assert {sweep for sweep, item in matrix if item.technique == "baseline-polling"} == set()
    matrix = matrix_of(["--full"])
    assert {sweep for sweep, item in matrix if item.technique == "baseline-polling"} == {
        "saturation"
    }


def test_a_closed_loop_is_named_as_one() -> None:
    assert label("polling", CLOSED_LOOP_S) == "polling, closed loop"
    assert "again as its answer arrives" in matrix_of(["--sweeps", "saturation"])[0][1].describe()


@pytest.mark.parametrize("argv", [["--saturation-clients", "0"], ["--saturation-clients", "x"]])
def test_a_bad_saturation_client_count_is_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        parse_args(argv)
    assert usage.value.code == 2


def test_the_generator_takes_a_poll_interval_of_zero_but_not_below() -> None:
    command = [sys.executable, "-m", "pushlab.bench.measuring.generator", "polling"]
    command += ["--host", "http://127.0.0.1:9", "--clients", "1", "--out", "/dev/null"]
    refused = subprocess.run([*command, "--poll-interval", "-1"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--poll-interval" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_window_where_nothing_is_published_is_not_stretched() -> None:
    """Only the closing snapshot is asked for: no extension steps waiting for messages."""
    silent = Scenario("polling", 1, 0.0, CLOSED_LOOP_S, duration_s=0.6, warmup_s=0)
    with server_process("polling") as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        connection = ServerConnection(host, int(port))
        try:
            before = connection.stats()
            after, overhead = close_window(connection, before, silent)
        finally:
            connection.close()
    assert overhead.bytes_in == after.bytes_sent  # the one closing question


def test_in_a_closed_loop_a_server_with_cpu_to_spare_was_waiting_for_the_generator() -> None:
    nothing = math.nan
    assert metrics.generator_saturated(60.0, nothing, 5000.0, 55.0, closed_loop=True)
    assert not metrics.generator_saturated(60.0, nothing, 5000.0, 99.0, closed_loop=True)
    assert not metrics.generator_saturated(60.0, nothing, 5000.0, 55.0, closed_loop=False)
    assert metrics.generator_saturated(95.0, nothing, 5000.0, 99.0, closed_loop=True)


# --- The finding, from made-up rows (it formats; it does not measure) -----------------------


def saturation_row(technique: str, clients: int, requests_per_s: float, **values: object) -> dict:
    row = ResultRow.of(
        sweep="saturation",
        scenario=f"{technique}-c{clients}-r0-i0",
        technique=technique,
        clients=clients,
        publish_rate=0.0,
        poll_interval=CLOSED_LOOP_S,
        requests_per_s=requests_per_s,
        server_cpu_percent=100.0,
        generator_cpu_percent=50.0,
        load_achieved=True,
        clients_connected=clients,
    )
    return replace(row, **values).as_dict()


def results_of(*rows: dict) -> Results:
    return Results(Path("made-up"), pd.DataFrame(list(rows)), {})


def test_the_finding_states_the_ratio_and_the_target() -> None:
    results = results_of(
        saturation_row("polling", 100, 9000.0),
        saturation_row("baseline-polling", 100, 10000.0),
        saturation_row("polling", 1000, 4000.0),
        saturation_row("baseline-polling", 1000, 5000.0),
    )
    text = empty_answer_finding(results)
    assert text is not None
    assert "polling ÷ bare aiohttp poll handler" in text
    assert "at 100 clients 9,000 vs 10,000 requests/s, 0.90× (target ≥ 0.9×: met)" in text
    assert "at 1,000 clients 4,000 vs 5,000 requests/s, 0.80× (target ≥ 0.9×: not met)" in text
    assert "⚠" not in text


def test_a_generator_limited_pair_says_the_ratio_is_the_generators() -> None:
    results = results_of(
        saturation_row("polling", 100, 5000.0, server_cpu_percent=60.0, generator_saturated=True),
        saturation_row(
            "baseline-polling",
            100,
            5000.0,
            server_cpu_percent=40.0,
            generator_cpu_percent=95.0,
            generator_saturated=True,
        ),
    )
    text = empty_answer_finding(results)
    assert text is not None
    assert "1.00×" in text and "what the generator allowed" in text
    assert "generator saturated (95% CPU)" in text  # the peer's row: its generator was busy
    assert "server at 60% CPU" in text  # ours: the server waited for its clients
    # answers per second of server CPU: 5,000 / 0.6 and 5,000 / 0.4
    assert "8,333 vs 12,500: 0.67× (target ≥ 0.9×: not met)" in text


def test_no_saturation_rows_no_sentence_and_no_empty_window_warning() -> None:
    assert empty_answer_finding(results_of(saturation_row("polling", 100, 9000.0))) is None
    results = results_of(
        saturation_row("polling", 100, 9000.0), saturation_row("baseline-polling", 100, 9500.0)
    )
    written = findings(results)
    assert not any("saw no message published" in text for text in written)
    assert any(text.startswith("Empty poll answers at saturation") for text in written)


# --- End to end -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_quick_saturation_run_measures_both_servers_and_writes_the_ratio(tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "pushlab.bench", "--quick", "--sweeps", "saturation"]
    command += ["--techniques", "polling", "--no-trace", "--out", str(out)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["technique"]) == ["polling", "baseline-polling"]
    assert (summary["requests_per_s"] > 0).all()
    assert (summary["empty_fraction"] == 1.0).all()
    assert (summary["messages_published"] == 0).all()
    report = (out / "report.md").read_text()
    assert "Empty poll answers at saturation" in report
    assert "polling ÷ bare aiohttp poll handler: at 40 clients" in report
