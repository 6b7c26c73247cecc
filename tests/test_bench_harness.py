"""The bench harness: its matrix, its exact byte accounting, and a ``--quick`` run end to end.

The end-to-end checks hold whatever the machine's speed: they are about counts and ratios
(requests per message, empty answers, missed ids), never about how long something took.
Locust never runs in this process: the harness starts it as a child.
"""

from __future__ import annotations

import contextlib
import csv
import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from pushlab.bench.analysis.row import FORMAT_VERSION, column_names
from pushlab.bench.cli import parse_args, settings_from
from pushlab.bench.core.matrix import build_matrix, settings_for, unique_scenarios
from pushlab.bench.core.scenario import Scenario, window_s
from pushlab.bench.measuring.network import NetworkPart
from pushlab.bench.measuring.stats_connection import ServerConnection
from pushlab.bench.measuring.window import close_window
from pushlab.bench.sweeps.faults import FAULTS
from pushlab.techniques import LONGPOLL_HOLD_S, LONGPOLL_MAX_HOLD_S
from tests.conftest import server_process

# --- The matrix -----------------------------------------------------------------------------

DEFAULT, QUICK, FULL = (settings_for(mode) for mode in ("default", "quick", "full"))


def network(scenario: Scenario) -> NetworkPart:
    """The scenario's network part (it goes through the emulator)."""
    (part,) = (part for part in scenario.parts if isinstance(part, NetworkPart))
    return part


def test_default_matrix_covers_every_technique_at_10_100_and_1000_clients() -> None:
    clients_sweep = [s for sweep, s in build_matrix(DEFAULT) if sweep == "clients"]
    for technique in ("polling", "longpoll", "websocket", "sse"):
        counts = sorted(s.clients for s in clients_sweep if s.technique == technique)
        assert counts == [10, 100, 1000]
    assert {s.publish_rate for s in clients_sweep} == {DEFAULT.base_rate}
    assert {s.poll_interval for s in clients_sweep if s.technique == "polling"} == {1.0}
    # Below the poll frequency: polling's requests and long polling's part (not one line).
    assert DEFAULT.base_rate < 1 / DEFAULT.base_interval


def test_default_matrix_sweeps_the_publish_rate_at_100_clients() -> None:
    rate_sweep = [s for sweep, s in build_matrix(DEFAULT) if sweep == "rate"]
    assert {s.clients for s in rate_sweep} == {100}
    assert min(s.publish_rate for s in rate_sweep) <= 0.5
    assert max(s.publish_rate for s in rate_sweep) >= 20


def test_only_polling_has_an_interval_sweep() -> None:
    interval_sweep = [s for sweep, s in build_matrix(DEFAULT) if sweep == "interval"]
    assert {s.technique for s in interval_sweep} == {"polling"}
    assert len({s.poll_interval for s in interval_sweep}) >= 3


def test_a_scenario_shared_by_two_sweeps_is_measured_once() -> None:
    matrix = build_matrix(DEFAULT)
    scenarios = unique_scenarios(matrix)
    assert len(scenarios) < len(matrix)
    assert len({s.id for s in scenarios}) == len(scenarios)


def test_full_matrix_goes_past_5000_clients_for_push_only() -> None:
    clients_sweep = [s for sweep, s in build_matrix(FULL) if sweep == "clients"]
    for technique in ("longpoll", "websocket", "sse"):
        assert max(s.clients for s in clients_sweep if s.technique == technique) >= 5000
    assert max(s.clients for s in clients_sweep if s.technique == "polling") < 5000


def test_default_matrix_runs_every_technique_at_100_ms_rtt_at_100_clients() -> None:
    rows = [s for sweep, s in build_matrix(DEFAULT) if sweep == "network"]
    assert sorted(s.technique for s in rows) == sorted(("polling", "longpoll", "websocket", "sse"))
    assert {(network(s).rtt_ms, s.clients, network(s).fault) for s in rows} == {(100.0, 100, "")}
    quick = [s for sweep, s in build_matrix(QUICK) if sweep == "network"]
    assert len({network(s).rtt_ms for s in quick}) == 1


def test_full_matrix_sweeps_the_rtt_and_every_rate_at_one_rtt_and_every_fault() -> None:
    rows = [s for sweep, s in build_matrix(FULL) if sweep == "network"]
    assert {network(s).rtt_ms for s in rows} == {0.0, 20.0, 100.0, 300.0}
    at_100 = {
        s.publish_rate for s in rows if s.technique == "longpoll" and network(s).rtt_ms == 100
    }
    assert at_100 == set(FULL.rates)
    faults = [network(s) for sweep, s in build_matrix(FULL) if sweep == "faults"]
    for technique in ("longpoll", "websocket", "sse"):
        mine = {
            (network(s).fault, network(s).resume)
            for sweep, s in build_matrix(FULL)
            if sweep == "faults" and s.technique == technique
        }
        assert mine == {(f, r) for f in FAULTS for r in (True, False)}
    polling = [
        s for sweep, s in build_matrix(FULL) if sweep == "faults" and s.technique == "polling"
    ]
    assert {network(s).resume for s in polling} == {True}
    assert faults


def test_the_fault_sweep_is_asked_for_and_leaves_room_to_recover() -> None:
    assert "faults" not in DEFAULT.sweeps
    args = parse_args(["--quick", "--sweeps", "faults", "--faults", "stall", "--stall-s", "5"])
    _, settings = settings_from(args)
    (stall,) = {s for sweep, s in build_matrix(settings) if s.technique == "sse"}
    assert network(stall).fault == "stall" and network(stall).stall_s == 5
    assert stall.duration_s * 2 / 3 >= 3 * network(stall).stall_s  # after the fault: 3× the stall
    assert stall.id == "sse-c40-r10-rtt0-stall5"  # at the fault rate, 10 msg/s
    with pytest.raises(SystemExit):
        parse_args(["--faults", "flood"])
    with pytest.raises(SystemExit):
        parse_args(["--rtts", "-20"])


def test_rare_messages_stretch_the_window() -> None:
    assert window_s(DEFAULT, 20.0, None) == DEFAULT.duration_s
    assert window_s(DEFAULT, 0.2, None) * 0.2 >= 3


def test_a_polling_window_is_a_whole_number_of_poll_intervals() -> None:
    for interval in (0.25, 0.4, 1.0, 2.5, 4.0):
        polls = window_s(DEFAULT, 1.0, interval) / interval
        assert polls == pytest.approx(round(polls))
        assert round(polls) >= 3


def test_options_replace_the_matrix_values() -> None:
    args = parse_args(["--quick", "--techniques", "sse", "--clients", "5,7", "--rates", "2"])
    mode, settings = settings_from(args)
    assert mode == "quick"
    assert settings.techniques == ("sse",)
    assert settings.clients == (5, 7)
    assert settings.rates == (2.0,)
    assert settings.duration_s == QUICK.duration_s


def test_a_bad_option_value_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--techniques", "carrier-pigeon"])
    for seed in ("-1", "lucky", str(2**64)):
        with pytest.raises(SystemExit):
            parse_args(["--seed", seed])


@pytest.mark.parametrize(
    "argv",
    [
        ["--duration", "0"],
        ["--duration", "nan"],
        ["--duration", "inf"],
        ["--duration", "-5"],
        ["--warmup", "-1"],
        ["--warmup", "nan"],
        ["--rates", "5000"],
        ["--rates", "1,nan"],
        ["--intervals", "inf"],
        ["--rates", "1e-320"],
        ["--rates", "0.0001"],
        ["--intervals", "5e-324"],
        ["--clients", "0"],
        ["--clients", "1000000"],
    ],
)
def test_numbers_a_run_cannot_use_are_refused(argv, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv)
    assert stopped.value.code == 2
    assert argv[0] in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--out", "/etc/passwd/run"], "cannot write results to /etc/passwd/run"),
        (
            ["--techniques=polling", "--sweeps=interval", "--intervals=7", "--duration=3600"],
            "window",
        ),
    ],
)
def test_a_run_that_cannot_start_says_why_in_one_line(argv, says) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pushlab.bench", "--quick", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert says in result.stderr
    assert result.stderr.count("\n") == 1


def test_the_long_poll_hold_is_a_scenario_parameter() -> None:
    _, default = settings_from(parse_args(["--quick"]))
    _, chosen = settings_from(parse_args(["--quick", "--hold", "7"]))
    for settings, hold in ((default, LONGPOLL_HOLD_S), (chosen, 7.0)):
        holds = {s.technique: s.hold_s for _, s in build_matrix(settings)}
        assert holds == {"polling": None, "longpoll": hold, "websocket": None, "sse": None}
    assert {s.id for _, s in build_matrix(chosen)} == {s.id for _, s in build_matrix(default)}


@pytest.mark.parametrize("hold", ["0.5", "nan", str(LONGPOLL_MAX_HOLD_S + 1)])
def test_a_hold_outside_what_the_servers_allow_is_refused(hold: str) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--hold", hold])


def test_zero_warmup_is_kept_and_a_given_duration_replaces_the_default() -> None:
    _, settings = settings_from(parse_args(["--warmup", "0", "--duration", "0.5"]))
    assert (settings.warmup_s, settings.duration_s) == (0.0, 0.5)


def test_every_scenario_of_a_run_shares_one_arrival_seed() -> None:
    _, settings = settings_from(parse_args(["--seed", "99"]))
    assert {scenario.arrival_seed for _, scenario in build_matrix(settings)} == {99}
    _, drawn = settings_from(parse_args([]))  # no --seed: one is drawn, for the whole run
    assert len({scenario.arrival_seed for _, scenario in build_matrix(drawn)}) == 1


# --- Byte accounting ------------------------------------------------------------------------


def test_the_harness_knows_exactly_what_its_stats_requests_cost() -> None:
    """The server meters the harness's own /stats exchange too; the harness subtracts it."""
    with server_process("sse") as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        connection = ServerConnection(host, int(port))
        try:
            first = connection.stats()
            second = connection.stats()
        finally:
            connection.close()
    assert second.body["bytes_in"] - first.body["bytes_in"] == second.bytes_sent
    assert second.body["bytes_out"] - first.body["bytes_out"] == first.bytes_received
    assert second.body["tcp_connections_opened"] == first.body["tcp_connections_opened"]


def test_the_stats_connection_outlives_the_servers_header_deadline() -> None:
    """Opened at its first request: a connection left silent past the deadline is closed.

    The harness waits for 10,000 clients to connect before its first ``/stats``; a connection
    opened before that wait was closed by the server's header deadline.
    """
    with server_process("sse", "--header-timeout", "0.2") as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        connection = ServerConnection(host, int(port))
        silent = socket.create_connection((host, int(port)), timeout=10)
        try:
            assert silent.recv(1) == b""  # the deadline has passed for a connection opened now
            assert connection.stats().body["tcp_connections_opened"] >= 1
        finally:
            silent.close()
            connection.close()


def test_an_extended_window_takes_out_every_stats_exchange_inside_it() -> None:
    """With no messages the window is extended with more snapshots; all their bytes go."""
    quiet = Scenario("sse", 1, 1.0, None, duration_s=0.6, warmup_s=0)
    with server_process("sse") as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        connection = ServerConnection(host, int(port))
        try:
            before = connection.stats()
            after, overhead = close_window(connection, before, quiet)
        finally:
            connection.close()
    assert overhead.extended_s > 0
    assert after.body["bytes_in"] - before.body["bytes_in"] == overhead.bytes_in
    assert after.body["bytes_out"] - before.body["bytes_out"] == overhead.bytes_out


# --- A --quick run, end to end --------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``--quick`` with every sweep and technique, at 10 clients and 1 msg/s only: 9 scenarios
    instead of 17 (the 40-client and 4 msg/s rows would add time, not a check: the rate sweep
    still has its rows, at 1 msg/s). The longest run of the suite."""
    out = tmp_path_factory.mktemp("bench") / "run"
    ten_clients = ["--clients", "10", "--base-clients", "10", "--rates", "1"]
    finished = subprocess.run(
        [sys.executable, "-m", "pushlab.bench", "--quick", *ten_clients, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return out, finished.stdout


@pytest.fixture(scope="module")
def summary(quick_run: tuple[Path, str]) -> pd.DataFrame:
    return pd.read_csv(quick_run[0] / "summary.csv")


@pytest.mark.slow
def test_quick_run_writes_every_file(quick_run: tuple[Path, str], summary: pd.DataFrame) -> None:
    out, _ = quick_run
    for name in ("summary.csv", "environment.json", "trace.json", "report.md"):
        assert (out / name).is_file(), name
    for scenario in summary["scenario"].unique():
        with np.load(out / "latency" / f"{scenario}.npz") as latency:
            assert latency["latency_ms"].dtype == np.float64
            assert latency["receive_ts"].dtype == np.float64
            assert latency["latency_ms"].shape == latency["receive_ts"].shape
        samples = pd.read_csv(out / "server" / f"{scenario}.csv")
        assert {"t", "cpu_percent", "rss_mb", "num_fds", "num_connections"} <= set(samples)
        assert len(samples) > 0


@pytest.mark.slow
def test_quick_run_summary_has_the_contract_columns(summary: pd.DataFrame) -> None:
    assert tuple(summary.columns) == column_names()
    assert set(summary["sweep"]) == {"clients", "rate", "interval", "network"}
    assert set(summary["technique"]) == {"polling", "longpoll", "websocket", "sse"}


@pytest.mark.slow
def test_quick_run_records_the_long_poll_hold(summary: pd.DataFrame) -> None:
    longpoll = summary["technique"] == "longpoll"
    assert (summary.loc[longpoll, "hold_s"] == LONGPOLL_HOLD_S).all()
    assert summary.loc[~longpoll, "hold_s"].isna().all()


@pytest.mark.slow
def test_quick_run_delivers_messages_in_every_scenario(summary: pd.DataFrame) -> None:
    assert (summary["messages_published"] > 0).all()
    assert (summary["messages_delivered"] > 0).all()
    assert (summary["latency_p50_ms"] > 0).all()


@pytest.mark.slow
def test_websocket_and_sse_need_almost_no_requests_per_message(summary: pd.DataFrame) -> None:
    pushed = summary[summary["technique"].isin(["websocket", "sse"])]
    assert (pushed["requests_per_message"] < 0.05).all()


@pytest.mark.slow
def test_polling_mostly_hears_nothing_new_when_messages_are_rarer_than_polls(
    summary: pd.DataFrame,
) -> None:
    polling = summary[summary["technique"] == "polling"]
    frequent_polls = polling[polling["publish_rate"] * polling["poll_interval"] <= 0.25]
    assert len(frequent_polls) > 0
    assert (frequent_polls["empty_fraction"] > 0.5).all()
    assert (frequent_polls["requests_per_message"] > 2).all()


@pytest.mark.slow
def test_long_poll_needs_about_one_request_per_message_at_low_rates(
    summary: pd.DataFrame,
) -> None:
    longpoll = summary[(summary["technique"] == "longpoll") & (summary["publish_rate"] <= 1)]
    assert len(longpoll) > 0
    assert longpoll["requests_per_message"].between(0.5, 1.5).all()


@pytest.mark.slow
def test_nothing_is_missed_or_duplicated_at_nominal_load(summary: pd.DataFrame) -> None:
    nominal = summary[summary["load_achieved"] & ~summary["generator_saturated"]]
    assert len(nominal) > 0
    assert (nominal["missed"] == 0).all()
    assert (nominal["duplicated"] == 0).all()


@pytest.mark.slow
def test_quick_run_measures_each_technique_through_the_emulated_network(
    summary: pd.DataFrame,
) -> None:
    network = summary[summary["sweep"] == "network"].set_index("technique")
    assert set(network.index) == {"polling", "longpoll", "websocket", "sse"}
    assert (network["rtt_ms"] == 100).all()
    # Every message crosses the emulator once, one way: at least RTT/2 after its publication.
    assert (network["latency_p50_ms"] >= 50).all()
    assert (network["netem_cpu_percent"] >= 0).all()
    loopback = summary[summary["sweep"] == "clients"]
    assert loopback["rtt_ms"].isna().all()


@pytest.mark.slow
def test_push_connections_are_opened_before_the_window(summary: pd.DataFrame) -> None:
    pushed = summary[summary["technique"].isin(["websocket", "sse", "longpoll"])]
    assert (pushed["tcp_connections_opened"] == 0).all()


@pytest.mark.slow
def test_quick_run_records_a_trace_of_each_technique(quick_run: tuple[Path, str]) -> None:
    trace = json.loads((quick_run[0] / "trace.json").read_text())
    assert set(trace) == {"polling", "longpoll", "websocket", "sse"}
    kinds = {technique: {event["kind"] for event in events} for technique, events in trace.items()}
    assert {"publish", "request", "response"} <= kinds["polling"]
    assert {"publish", "request", "response"} <= kinds["longpoll"]
    assert {"publish", "request", "upgrade", "push"} <= kinds["websocket"]
    assert {"publish", "request", "stream-open", "push"} <= kinds["sse"]


@pytest.mark.slow
def test_quick_run_describes_its_environment(quick_run: tuple[Path, str]) -> None:
    environment = json.loads((quick_run[0] / "environment.json").read_text())
    for key in ("cpu_model", "cores", "os", "python", "aiohttp", "locust", "git_commit"):
        assert key in environment
    assert environment["command"].startswith("python -m pushlab.bench --quick")
    assert environment["format_version"] == FORMAT_VERSION
    assert environment["matrix"]["hold_s"] == LONGPOLL_HOLD_S
    assert environment["finished_utc"] is not None
    assert "server" in environment["affinity"]
    assert isinstance(environment["matrix"]["arrival_seed"], int)


@pytest.mark.slow
def test_quick_run_reports_progress(quick_run: tuple[Path, str], summary: pd.DataFrame) -> None:
    output = quick_run[1]
    count = summary["scenario"].nunique()
    assert f"[1/{count}]" in output
    assert f"[{count}/{count}]" in output
    assert "ETA" in output


# --- Stopping -------------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_leaves_no_process_behind(tmp_path: Path) -> None:
    options = ["--techniques", "websocket", "--sweeps", "clients", "--clients", "20"]
    options += ["--duration", "600", "--no-trace", "--out", str(tmp_path)]
    bench = subprocess.Popen(
        [sys.executable, "-m", "pushlab.bench", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        children = wait_for_children(bench.pid, count=2)  # a server and a generator
        bench.send_signal(signal.SIGINT)
        try:
            output, _ = bench.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            bench.send_signal(signal.SIGUSR1)  # the harness prints every thread's stack
            with contextlib.suppress(subprocess.TimeoutExpired):
                bench.wait(timeout=2)  # SIGUSR1 does not end it: this only gives it time to print
            bench.kill()
            output, _ = bench.communicate()
            pytest.fail(f"the harness did not stop after Ctrl-C:\n{output}")
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
    assert bench.returncode == 130, output
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left behind: {alive}"
    assert "Interrupted" in output


def wait_for_children(pid: int, count: int) -> list[psutil.Process]:
    """Wait until the harness has started ``count`` children (a bounded wait on a condition)."""
    parent = psutil.Process(pid)
    for _ in range(600):
        children = parent.children(recursive=True)
        if len(children) >= count:
            return children
        psutil.wait_procs([parent], timeout=0.1)  # returns early only if the harness died
        assert parent.is_running(), "the harness exited early"
    raise AssertionError("the harness did not start a server and a generator")


@pytest.mark.slow
def test_ctrl_c_after_a_finished_row_still_writes_its_report(tmp_path: Path) -> None:
    """The first scenario finishes; the second (0.01 msg/s: a 300 s window) is cut short."""
    options = ["--techniques", "websocket", "--sweeps", "clients,rate", "--clients", "5"]
    options += ["--rates", "0.01", "--duration", "1", "--warmup", "0", "--no-trace"]
    bench = subprocess.Popen(
        [sys.executable, "-m", "pushlab.bench", *options, "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert bench.stdout is not None
        for line in bench.stdout:
            lines.append(line)
            if line.startswith("[2/2]"):  # the first row is written: stop the second
                bench.send_signal(signal.SIGINT)
                break
        output = "".join(lines) + bench.communicate(timeout=120)[0]
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
    assert bench.returncode == 130, output
    report = (tmp_path / "report.md").read_text()
    assert "was interrupted: the rows below are those it finished" in report
    finished = [row["scenario"] for row in csv.DictReader((tmp_path / "summary.csv").open())]
    assert len(finished) == 1 and finished[0].startswith("websocket-c5-"), finished
    assert f"`{finished[0]}`" in report and "-r0.01`" not in report
