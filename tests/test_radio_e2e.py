"""The radio sweep end to end, once: a quick bench run of it, its columns, its timelines, its
report, and notebook 04 drawn from it (the radio lane's one shared end-to-end run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pushlab.bench import notebooks as runner
from pushlab.bench.analysis.radio_curves import recorded_runs
from pushlab.bench.analysis.radio_window import METRICS, column_name
from pushlab.bench.analysis.results import load_results
from pushlab.radio_profiles import PROFILES
from pushlab.techniques import NAMES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def radio_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("radio") / "run"
    command = [sys.executable, "-m", "pushlab.bench", "--quick", "--sweeps", "radio"]
    command += ["--no-trace", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return out


def test_every_technique_has_its_energy_columns_from_recorded_clients(radio_run: Path) -> None:
    rows = load_results(radio_run).sweep("radio")
    assert sorted(rows["technique"]) == sorted(NAMES)
    assert (rows["radio_clients"] >= 1).all()
    for profile in PROFILES:
        for metric in METRICS:
            assert rows[column_name(metric, profile)].notna().all(), (metric, profile)
        assert (rows[column_name("j_per_hour", profile)] > 0).all()


def test_the_timelines_hold_writes_both_ways_inside_the_window(radio_run: Path) -> None:
    runs = recorded_runs(radio_run)
    assert len(runs) == len(NAMES)
    for scenario, run in runs.items():
        assert run.window_end > run.window_start, scenario
        for timeline in run.clients.values():
            inside = (timeline.at_s >= run.window_start) & (timeline.at_s < run.window_end)
            assert timeline.down_bytes[inside].sum() > 0, scenario  # at least a message came
            assert np.all(np.diff(timeline.at_s) >= 0)
        if run.technique == "polling":  # a poll is sent every interval: bytes up in the window
            first = next(iter(run.clients.values()))
            assert first.up_bytes[first.at_s >= run.window_start].sum() > 0


def test_the_report_has_the_radio_findings_and_figures(radio_run: Path) -> None:
    report = (radio_run / "report.md").read_text()
    assert "On LTE (ARO's default profile)" in report
    assert "With no news, what wakes each technique's radio" in report
    assert (radio_run / "plots" / "radio_energy_vs_rate.png").is_file()
    assert (radio_run / "plots" / "radio_polling_vs_interval.png").is_file()


def test_notebook_04_draws_a_real_clients_radio(
    radio_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(runner.RESULTS_ENV, str(radio_run))
    run = runner.execute(runner.NOTEBOOKS_DIR / "04_phone_radio.ipynb", cwd=runner.NOTEBOOKS_DIR)
    assert run.ok, run.error
    texts = [
        output.get("data", {}).get("text/markdown", "")
        for cell in run.notebook.cells
        for output in cell.get("outputs", [])
    ]
    assert any(text.startswith("Drawing client") and "measured" in text for text in texts)
