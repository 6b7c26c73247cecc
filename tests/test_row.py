"""The typed result row: one dataclass decides the CSV header, the loader's types and the format."""

from __future__ import annotations

import json
import math
from dataclasses import fields, replace
from pathlib import Path

import pandas as pd
import pytest

from pushlab.bench.analysis import results
from pushlab.bench.analysis.measurement import failed_row
from pushlab.bench.analysis.row import (
    FORMAT_VERSION,
    ResultRow,
    all_columns,
    column_names,
    core_columns,
)
from pushlab.bench.core.scenario import Scenario
from pushlab.bench.core.sweep import registered
from pushlab.bench.presentation import report

POLLING = Scenario("polling", 10, 1.0, 0.5, duration_s=3.0, warmup_s=0.0)
SSE = Scenario("sse", 10, 1.0, None, duration_s=3.0, warmup_s=0.0)
MEASURED = ResultRow.of(
    scenario=POLLING.id,
    technique="polling",
    clients=10,
    publish_rate=1.0,
    poll_interval=0.5,
    arrivals="periodic",
    duration_s=3.0,
    messages_published=3,
    messages_delivered=30,
    clients_connected=10,
    requests_per_s=20.0,
    latency_p50_ms=251.5,
    generator_cpu_percent=12.5,
    generator_saturated=True,
    load_achieved=True,
    notes="",
)


def write_run(
    run_dir: Path, rows: dict[str, ResultRow], version: int | None = FORMAT_VERSION
) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    matrix = [("interval", POLLING), ("clients", SSE)]
    results.write_summary(run_dir, matrix, rows)
    environment = {} if version is None else {"format_version": version}
    results.write_json(run_dir / "environment.json", environment)


def test_the_csv_header_is_the_core_fields_then_each_sweeps_columns(tmp_path: Path) -> None:
    write_run(tmp_path, {POLLING.id: MEASURED})
    header = (tmp_path / "summary.csv").read_text().splitlines()[0].split(",")
    core = tuple(f.name for f in fields(ResultRow) if f.name != "extra")
    own = tuple(column.name for sweep in registered() for column in sweep.columns)
    assert tuple(header) == column_names() == core + own
    assert tuple(core_columns()) == core


def test_every_column_has_a_unit_label_and_kind() -> None:
    assert "hold_s" in all_columns()
    for column in all_columns().values():
        assert column.kind in (int, float, bool, str)
        assert column.label and column.description


def test_a_round_trip_keeps_every_column_type(tmp_path: Path) -> None:
    failed = failed_row(SSE, RuntimeError("the generator exited"))
    write_run(tmp_path, {POLLING.id: MEASURED, SSE.id: failed})
    summary = results.load_results(tmp_path).summary
    assert summary["sweep"].tolist() == ["interval", "clients"]
    assert summary["generator_saturated"].dtype == bool
    assert summary["generator_saturated"].tolist() == [True, False]
    assert summary["notes"].tolist() == ["", "failed: RuntimeError: the generator exited"]
    assert summary["clients"].dtype == "int64"  # a whole column stays whole
    assert summary["messages_published"].dtype == float  # the failed row left it empty
    assert pd.isna(summary["poll_interval"].iloc[1])
    assert summary["latency_p50_ms"].iloc[0] == 251.5


def test_a_format_the_loader_does_not_know_is_refused_in_one_line(tmp_path: Path) -> None:
    write_run(tmp_path, {POLLING.id: MEASURED}, version=FORMAT_VERSION + 1)
    with pytest.raises(ValueError) as refused:
        results.load_results(tmp_path)
    message = str(refused.value)
    assert "\n" not in message
    assert f"written by format {FORMAT_VERSION + 1}" in message
    assert f"this pushlab reads format {FORMAT_VERSION}: re-run the bench" in message


def test_a_format_3_directory_reads_without_the_slow_consumer_columns(tmp_path: Path) -> None:
    """Version 4 only added columns: a version-3 summary (without them) still loads."""
    write_run(tmp_path, {POLLING.id: MEASURED}, version=3)
    csv = pd.read_csv(tmp_path / "summary.csv")
    csv.drop(
        columns=[name for name in column_names() if name.startswith(("slow_", "others_"))]
    ).to_csv(tmp_path / "summary.csv", index=False)
    summary = results.load_results(tmp_path).summary
    assert "slow_lost" not in summary and summary["latency_p50_ms"].iloc[0] == 251.5


def test_an_older_directory_without_the_fanout_column_still_makes_its_tables(
    tmp_path: Path,
) -> None:
    pushed = replace(MEASURED, scenario=SSE.id, technique="sse", poll_interval=math.nan)
    write_run(tmp_path, {POLLING.id: MEASURED, SSE.id: pushed}, version=4)
    csv = pd.read_csv(tmp_path / "summary.csv")
    csv.drop(columns=["server_fanout_ms"]).to_csv(tmp_path / "summary.csv", index=False)
    loaded = results.load_results(tmp_path)
    table = report.sweep_table(loaded, "clients")
    assert "latency p99" in table and "fan-out" not in table
    assert "fan-out" not in report.readme_table(tmp_path)


def test_a_directory_without_a_format_version_is_the_first_format(tmp_path: Path) -> None:
    write_run(tmp_path, {POLLING.id: MEASURED}, version=None)
    with pytest.raises(ValueError, match="written by format 1; "):
        results.load_results(tmp_path)


def test_a_directory_without_an_environment_is_refused(tmp_path: Path) -> None:
    write_run(tmp_path, {POLLING.id: MEASURED})
    (tmp_path / "environment.json").unlink()
    with pytest.raises(ValueError, match=r"no environment\.json"):
        results.load_results(tmp_path)


def test_the_environment_records_the_format_and_the_hold() -> None:
    from pushlab.bench.analysis.environment import describe_environment
    from pushlab.bench.core.matrix import settings_for

    affinity = {"server": [0], "generator": [1], "harness": [1], "shared": False}
    environment = describe_environment(
        "pushlab bench --quick", "quick", settings_for("quick"), affinity, 5
    )
    assert environment["format_version"] == FORMAT_VERSION
    assert environment["command"] == "pushlab bench --quick"
    assert environment["matrix"]["hold_s"] == settings_for("quick").hold_s
    json.dumps(environment)  # it must be writable as JSON


def test_the_environment_records_the_reconnect_policy_the_users_ran() -> None:
    from pushlab.bench.analysis.environment import describe_environment
    from pushlab.bench.core.matrix import settings_for
    from pushlab.reconnect_policy import RECONNECT_POLICY

    affinity = {"server": [0], "generator": [1], "harness": [1], "shared": False}
    quick = settings_for("quick")
    environment = describe_environment("pushlab bench --quick", "quick", quick, affinity, 5)
    assert environment["reconnect_policy"] == RECONNECT_POLICY.as_json()


def test_a_format_5_directory_reads_its_old_hold_column_under_the_new_name(
    tmp_path: Path,
) -> None:
    """Format 6 renamed ``longpoll_hold_s`` to ``hold_s``: an older file still loads."""
    write_run(tmp_path, {POLLING.id: MEASURED}, version=5)
    csv = pd.read_csv(tmp_path / "summary.csv").rename(columns={"hold_s": "longpoll_hold_s"})
    csv.to_csv(tmp_path / "summary.csv", index=False)
    summary = results.load_results(tmp_path).summary
    assert "hold_s" in summary and "longpoll_hold_s" not in summary
