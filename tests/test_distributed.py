"""Past one process in the bench (issue 13): the scale-out matrix, and --quick-sized runs with
Locust's master and two workers, and with two server workers on a Redis feed."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pushlab.bench.cli import parse_args, settings_from
from pushlab.bench.core.matrix import build_matrix
from pushlab.bench.measuring.harness import Affinity
from pushlab.bench.measuring.scale_out import scenario_affinity
from tests.redis_fixture import redis_server, redis_url  # noqa: F401 (fixtures)

CHECKS = ["messages_delivered", "missed", "duplicated", "reordered", "clients_connected"]


def matrix(*argv: str) -> list:
    return build_matrix(settings_from(parse_args(["--quick", *argv]))[1])


def test_the_workers_sweep_compares_feeds_at_one_worker_and_redis_past_it() -> None:
    rows = matrix("--techniques", "sse", "--sweeps", "workers", "--workers", "1,2,4")
    assert [(s.feed, s.workers) for _, s in rows] == [
        ("memory", 1),
        ("redis", 1),
        ("redis", 2),
        ("redis", 4),
    ]
    assert len({s.id for _, s in rows}) == 4
    assert {(s.clients, s.publish_rate) for _, s in rows} == {(40, 1.0)}


def test_every_sweep_runs_on_each_feed_asked_for() -> None:
    rows = matrix("--techniques", "sse", "--sweeps", "rate", "--feed", "memory,redis")
    assert sorted({s.feed for _, s in rows}) == ["memory", "redis"]
    assert len(rows) == 2 * len(matrix("--techniques", "sse", "--sweeps", "rate"))


def test_a_feed_url_is_checked_and_kept() -> None:
    _, settings = settings_from(parse_args(["--feed", "redis://127.0.0.1:6390/2"]))
    assert (settings.feeds, settings.redis_url) == (("redis",), "redis://127.0.0.1:6390/2")
    with pytest.raises(SystemExit):
        parse_args(["--feed", "redis://nowhere"])


def test_rows_are_flagged_when_the_machine_has_too_few_cores() -> None:
    two = Affinity(frozenset({0}), frozenset({1}), frozenset({1}))
    four = Affinity(frozenset({0}), frozenset({1}), frozenset({2, 3}))
    (_, two_workers), *_ = [r for r in matrix("--sweeps", "workers") if r[1].workers == 2]
    assert scenario_affinity(two, two_workers)[1] is True
    affinity, short = scenario_affinity(four, two_workers)
    assert not short
    assert (affinity.server, affinity.generator) == (frozenset({0, 1}), frozenset({2}))


def run_bench(out: Path, *argv: str) -> pd.DataFrame:
    command = [sys.executable, "-m", "pushlab.bench", "--quick", "--no-trace", "--no-report"]
    finished = subprocess.run(
        [*command, "--clients", "20", "--out", str(out), *argv],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return pd.read_csv(out / "summary.csv")


@pytest.mark.slow
def test_two_locust_workers_give_the_same_per_message_checks_as_one_process(
    tmp_path: Path,
) -> None:
    options = ["--techniques", "websocket,longpoll", "--sweeps", "clients"]
    one = run_bench(tmp_path / "one", *options)
    two = run_bench(tmp_path / "two", *options, "--generator-processes", "2")
    assert list(two["generator_processes"]) == [2, 2]
    assert two[CHECKS].to_dict("records") == one[CHECKS].to_dict("records")
    assert (two["missed"] == 0).all() and (two["duplicated"] == 0).all()
    assert (two["messages_delivered"] == two["messages_published"] * 20).all()
    assert two["clock_uncertainty_ms"].notna().all()


@pytest.mark.slow
def test_server_workers_on_a_redis_feed_deliver_every_message_once(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    summary = run_bench(
        tmp_path / "run",
        *("--techniques", "sse", "--sweeps", "workers", "--workers", "1,2"),
        *("--feed", redis_url),
    )
    assert list(zip(summary["feed"], summary["workers"], strict=True)) == [
        ("memory", 1),
        ("redis", 1),
        ("redis", 2),
    ]
    assert (summary["missed"] == 0).all() and (summary["duplicated"] == 0).all()
    every = summary["messages_published"] * summary["clients_connected"]
    assert (summary["messages_delivered"] == every).all()
    assert (summary["clients_connected"] == summary["clients"]).all()


@pytest.mark.slow
def test_a_master_waits_for_workers_started_elsewhere_with_the_command_it_prints(
    tmp_path: Path,
) -> None:
    """``--generator-master``: the run prints a worker command per scenario; a worker started
    with it (here another process on this machine, as on another machine) joins and delivers."""
    command = [sys.executable, "-m", "pushlab.bench", "--quick", "--no-trace", "--no-report"]
    options = ["--techniques", "websocket", "--sweeps", "clients", "--clients", "20"]
    remote = ["--generator-master", "--expect-workers", "1", "--out", str(tmp_path / "run")]
    master = subprocess.Popen(
        [*command, *options, *remote],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert master.stdout is not None
    printed: list[str] = []
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for line in master.stdout:
            printed.append(line)
            if "Waiting for 1 Locust workers: " in line:
                worker = shlex.split(line.split(": ", 1)[1])
                assert worker[:3] == ["python", "-m", "pushlab.bench.measuring.generator_cluster"]
                workers.append(subprocess.Popen([sys.executable, *worker[1:]]))
        assert master.wait(timeout=300) == 0, "".join(printed)[-3000:]
    finally:
        master.kill()
        for worker in workers:
            worker.kill()
    summary = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert len(workers) == 1  # one scenario, one command printed
    assert list(summary["generator_processes"]) == [1]
    assert (summary["missed"] == 0).all() and (summary["duplicated"] == 0).all()
    assert (summary["messages_delivered"] == summary["messages_published"] * 20).all()
    assert summary["clock_uncertainty_ms"].notna().all()
