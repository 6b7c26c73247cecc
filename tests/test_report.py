"""report.md and the README table, generated from the synthetic results directory."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pushlab.bench.analysis import model
from pushlab.bench.analysis.findings import findings, fmt
from pushlab.bench.analysis.results import load_results
from pushlab.bench.analysis.shaping import transit_estimate_ms
from pushlab.bench.presentation.report import readme_table, render_report, write_report
from pushlab.techniques import LONGPOLL_HOLD_S
from tests.test_report_synthetic import RATES, write_synthetic_results

CLIENTS_POLLING_1S_AT_1000 = "polling-c1000-r1-i1"


def _edit_row(scenario: str, **values: object):
    def edit(summary: pd.DataFrame) -> None:
        for column, value in values.items():
            summary.loc[summary["scenario"] == scenario, column] = value

    return edit


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthetic run and its report, shared by the tests that only read them."""
    run = write_synthetic_results(tmp_path_factory.mktemp("report") / "run")
    assert write_report(run) == run / "report.md"
    return run


@pytest.fixture(scope="module")
def report_text(run_dir: Path) -> str:
    return (run_dir / "report.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def run_findings(run_dir: Path) -> list[str]:
    """The shared run's findings, computed once for the tests that read them."""
    return findings(load_results(run_dir))


def test_write_report_returns_report_md_in_the_results_directory(run_dir: Path) -> None:
    # run_dir asserts that write_report returned run_dir / "report.md"
    assert (run_dir / "report.md").is_file()


def test_report_has_every_section(report_text: str) -> None:
    for heading in (
        "## Findings",
        "## Environment",
        "## Sweeps",
        "### Clients sweep",
        "### Rate sweep",
        "### Interval sweep",
        "## Plots",
    ):
        assert f"\n{heading}" in report_text


def test_report_references_only_plots_that_exist(run_dir: Path, report_text: str) -> None:
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report_text)
    assert len(images) == 7
    for image in images:
        assert (run_dir / image).is_file(), image
        assert image.startswith("plots/") and image.endswith(".png")


def test_report_shows_the_environment(report_text: str) -> None:
    assert "| cpu_model | `SYNTHETIC TEST FIXTURE (not a machine)` |" in report_text
    assert "| git_commit | `0000000` |" in report_text


def test_synthetic_results_carry_a_banner(report_text: str) -> None:
    assert "SYNTHETIC DATA — not a measurement" in report_text


def test_flagged_rows_stay_in_the_tables_marked(report_text: str) -> None:
    flagged_lines = [line for line in report_text.splitlines() if "| ⚠ " in line]
    assert len(flagged_lines) == 2
    assert any("generator saturated (99% CPU)" in line for line in flagged_lines)
    assert any("load not achieved (950/1,000 connected)" in line for line in flagged_lines)


def test_cpu_finding_is_computed_from_the_rows(run_dir: Path, run_findings: list[str]) -> None:
    # Synthetic: polling every 1 s and WebSocket at 1,000 clients.
    summary = load_results(run_dir).summary
    polling = summary.loc[summary["scenario"] == CLIENTS_POLLING_1S_AT_1000, "cpu_us_per_message"]
    websocket = summary.loc[summary["scenario"] == "websocket-c1000-r1", "cpu_us_per_message"]
    ratio = polling.iloc[0] / websocket.iloc[0]
    text = run_findings[0]
    assert text.startswith(
        f"At 1,000 clients and 1 msg/s, polling every 1 s cost {ratio:.1f}× the server CPU "
        "of WebSocket per delivered message"
    )


def test_changing_a_number_in_the_results_changes_the_finding(tmp_path: Path) -> None:
    edited = write_synthetic_results(
        tmp_path / "edited", _edit_row(CLIENTS_POLLING_1S_AT_1000, cpu_us_per_message=370.0)
    )
    summary = load_results(edited).summary
    websocket = summary.loc[summary["scenario"] == "websocket-c1000-r1", "cpu_us_per_message"].iloc[
        0
    ]
    text = findings(load_results(edited))[0]
    assert f"polling every 1 s cost {370.0 / websocket:,.0f}× the server CPU" in text
    assert "(370 µs against" in text
    report = render_report(load_results(edited), figures=[])  # the text; no plot is looked at
    assert f"{370.0 / websocket:,.0f}× the server CPU" in report


def test_memory_finding_follows_the_rows(tmp_path: Path) -> None:
    edited = write_synthetic_results(
        tmp_path / "edited", _edit_row("sse-c1000-r1", rss_kb_per_client=123.0)
    )
    memory = next(text for text in findings(load_results(edited)) if "per connected client" in text)
    assert "SSE 123 KB" in memory
    assert memory.index("SSE 123 KB") < memory.index("WebSocket")  # sorted, dearest first


def test_integrity_finding_names_the_scenario_that_lost_messages(run_findings: list[str]) -> None:
    text = run_findings
    assert any("sse-c1000-r1 (3 missed" in line for line in text)


def test_clean_runs_say_so(tmp_path: Path) -> None:
    def clean(summary: pd.DataFrame) -> None:
        summary["missed"] = 0
        summary["generator_saturated"] = False
        summary["load_achieved"] = True

    text = findings(load_results(write_synthetic_results(tmp_path / "clean", clean)))
    assert "No message was missed, duplicated or reordered in any of the 30 scenarios." in text
    assert not any("⚠" in line for line in text)


def test_scenarios_without_messages_are_called_out(run_findings: list[str], tmp_path: Path) -> None:
    silent = write_synthetic_results(
        tmp_path / "silent", _edit_row("longpoll-c10-r1", messages_published=0)
    )
    text = findings(load_results(silent))
    assert any(line.startswith("⚠ 1 scenario saw no message") for line in text)
    assert not any("saw no message" in line for line in run_findings)


def test_flagged_scenarios_are_listed_in_the_findings(run_findings: list[str]) -> None:
    text = run_findings[-1]
    assert text.startswith("⚠ 2 of 30 scenarios are flagged")
    assert "polling-c1000-r1-i0.25 (generator saturated" in text


def test_polling_model_finding_counts_agreement_in_standard_errors(run_findings: list[str]) -> None:
    text = next(line for line in run_findings if "interval sweep" in line)
    assert "with λ the rate each window really published" in text
    assert re.search(r"agreed with e\^\(−λT\) within two standard errors in \d+ of \d+", text)
    assert re.search(r"\d+ messages: (within 2 standard errors|[\d.]+ standard errors apart)", text)


def test_a_run_without_an_interval_sweep_still_reports(tmp_path: Path) -> None:
    def drop_intervals(summary: pd.DataFrame) -> pd.DataFrame:
        return summary[summary["sweep"] != "interval"]

    run = write_synthetic_results(tmp_path / "quick", drop_intervals)
    report = write_report(run).read_text(encoding="utf-8")
    assert "_Not drawn: no polling rows in the 'interval' sweep._" in report
    assert "### Interval sweep" not in report
    assert not (run / "plots" / "polling_vs_interval.png").exists()


def test_readme_table_quotes_the_clients_sweep_at_one_message_a_second(run_dir: Path) -> None:
    table = readme_table(run_dir)
    lines = table.strip().splitlines()
    machine = next(line for line in lines if line.startswith("_Measured"))
    assert "2000-01-01 on SYNTHETIC TEST FIXTURE" in machine
    assert "Clients sweep at 1 msg/s" in machine
    rows = [line for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 15  # 3 client counts × (2 polling intervals + 3 techniques)
    assert "| 1,000 | SSE ⚠ |" in table


def test_tables_say_every_row_saw_the_same_seeded_arrivals(run_dir: Path, report_text: str) -> None:
    assert "seed 4242, the same in every row" in readme_table(run_dir)
    assert "Arrivals: poisson, seed 4242, the same in every row." in report_text


def test_readme_table_prefers_one_message_a_second(tmp_path: Path) -> None:
    def add_other_rate(summary: pd.DataFrame) -> pd.DataFrame:
        clients = summary[summary["sweep"] == "clients"]
        faster = clients.assign(publish_rate=10.0, scenario=clients["scenario"] + "-fast")
        return pd.concat([faster, summary], ignore_index=True)  # the faster rows come first

    run = write_synthetic_results(tmp_path / "two-rates", add_other_rate)
    assert "Clients sweep at 1 msg/s" in readme_table(run)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (1234.4, "1,234"), (37.24, "37.2"), (0.01234, "0.0123"), (float("nan"), "–")],
)
def test_numbers_are_written_as_people_write_them(value: float, text: str) -> None:
    assert fmt(value) == text


SLOW_RATE = 0.05
"""A rate at which a long poll often times out: the model's answer depends on the hold."""


def _slow_rate_sweep_with_hold(hold_s: float):
    def edit(summary: pd.DataFrame) -> None:
        slowest = (summary["sweep"] == "rate") & np.isclose(summary["publish_rate"], min(RATES))
        summary.loc[slowest, "publish_rate"] = SLOW_RATE
        summary.loc[summary["technique"] == "longpoll", "hold_s"] = hold_s

    return edit


def _rate_finding(run: Path) -> str:
    prefix = "Requests per delivered message in the rate sweep"
    return next(line for line in findings(load_results(run)) if line.startswith(prefix))


def test_the_long_poll_model_takes_the_hold_the_run_recorded(tmp_path: Path) -> None:
    hold_s = 20.0
    run = write_synthetic_results(tmp_path / "run", _slow_rate_sweep_with_hold(hold_s))
    summary = load_results(run).summary
    slow = summary[(summary["sweep"] == "rate") & (summary["publish_rate"] == SLOW_RATE)]
    clients = slow.loc[slow["technique"] == "longpoll", "clients"].iloc[0]
    transit_ms, _ = transit_estimate_ms(summary, clients, SLOW_RATE)
    gap_s = 2 * transit_ms / 1000
    row = slow[slow["technique"] == "longpoll"].iloc[0]
    published = row["messages_published"] / row["duration_s"]  # the model's rate: the window's
    expected = model.longpoll_requests_per_message(published, gap_s, hold_s)
    server_default = model.longpoll_requests_per_message(published, gap_s, LONGPOLL_HOLD_S)
    assert fmt(expected) != fmt(server_default)  # the test can tell the two holds apart
    longpoll = _rate_finding(run).split("long polling ", 1)[1]
    assert f"(model {fmt(expected)} at the {fmt(published)} msg/s published" in longpoll


def test_without_a_recorded_hold_the_long_poll_model_is_not_guessed(tmp_path: Path) -> None:
    run = write_synthetic_results(tmp_path / "run", _slow_rate_sweep_with_hold(np.nan))
    longpoll = _rate_finding(run).split("long polling ", 1)[1]
    assert "no model: the run did not record the long-poll hold" in longpoll
    assert "polling every 1 s" in _rate_finding(run) and "(model " in _rate_finding(run)


def test_an_installed_run_names_its_pushlab_version_not_unknown() -> None:
    """Installed from a wheel, pushlab runs outside any git checkout: no commit to name."""
    from types import SimpleNamespace

    from pushlab import __version__
    from pushlab.bench.analysis.environment import collect_packages
    from pushlab.bench.presentation.report import _machine_line

    versions = collect_packages()["versions"]
    assert versions["pushlab"] == __version__
    installed = SimpleNamespace(
        run_date="2026-01-01", environment={"git_commit": "unknown", "versions": versions}
    )
    assert _machine_line(installed).endswith(f"; pushlab {__version__}")
    checkout = SimpleNamespace(
        run_date="2026-01-01", environment={"git_commit": "0123456789abcdef", "versions": versions}
    )
    assert _machine_line(checkout).endswith("; pushlab 0123456789ab")
