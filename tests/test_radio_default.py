"""`make bench` gets radio columns from its own rows: the rate and interval sweeps' scenarios
record every k-th client (an unnamed radio part, ids unchanged), a window short for a radio's
tail says so, and the findings draw on those rows when the run has no radio sweep.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pushlab.bench.analysis import radio_findings
from pushlab.bench.analysis.radio_curves import RecordedRun, save_timelines
from pushlab.bench.analysis.radio_traffic import WriteSizes, traffic
from pushlab.bench.analysis.radio_window import RadioRecord, column_name, radio_columns
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.core.matrix import build_matrix, settings_for, unique_scenarios
from pushlab.bench.core.scenario import Scenario
from pushlab.bench.measuring.radio_part import RadioPart
from pushlab.bench.presentation.radio import plot_energy_vs_rate, plot_polling_vs_interval
from pushlab.bench.sweeps.radio import recorded
from pushlab.techniques import NAMES


def radio_part(scenario: Scenario) -> RadioPart | None:
    return next((p for p in scenario.parts if isinstance(p, RadioPart)), None)


@pytest.mark.parametrize("mode", ["default", "quick"])
def test_the_default_matrix_records_its_rate_and_interval_rows(mode: str) -> None:
    settings = settings_for(mode)
    assert "radio" not in settings.sweeps  # the sweep itself stays out: its windows are long
    matrix = build_matrix(settings)
    measured = {item.id: item for item in unique_scenarios(matrix)}
    for sweep in ("rate", "interval"):
        ids = [item.id for name, item in matrix if name == sweep]
        assert ids
        for scenario_id in ids:
            part = radio_part(measured[scenario_id])
            assert part is not None and not part.named, scenario_id
            assert "-radio" not in scenario_id
    recorded_rows = [item for item in measured.values() if radio_part(item) is not None]
    assert {item.technique for item in recorded_rows} == set(NAMES)
    polled = {item.poll_interval for item in recorded_rows if item.technique == "polling"}
    assert len(polled) >= 2  # polling's energy against its interval


def test_a_shared_scenario_is_measured_with_every_unnamed_part() -> None:
    settings = settings_for("default")
    matrix = build_matrix(settings)
    base = "polling-c100-r0.5-i1"
    sweeps = {name for name, item in matrix if item.id == base}
    assert {"clients", "rate", "interval"} <= sweeps
    (shared,) = [item for item in unique_scenarios(matrix) if item.id == base]
    assert radio_part(shared) is not None


def test_the_radio_sweeps_own_rows_keep_their_named_id() -> None:
    item = RadioPart(sample_every=5)
    assert item.id_suffix() == "-radio5"
    assert RadioPart(sample_every=5, named=False).id_suffix() == ""


def test_a_cluster_of_generators_is_not_recorded() -> None:
    settings = settings_for("default")
    (first, *_) = [item for name, item in build_matrix(settings) if name == "rate"]
    plain = replace(first, parts=(), generator_processes=2)
    assert recorded(settings, plain).parts == ()


def arrays_of(times: list[float]) -> dict[str, np.ndarray]:
    return {
        "radio_user": np.zeros(len(times), np.int64),
        "radio_at": np.array(times),
        "radio_bytes": np.array([100] * len(times), np.int64),
        "user": np.zeros(0, np.int64),
        "message_id": np.zeros(0, np.int64),
    }


def window(times: list[float]) -> SimpleNamespace:
    return SimpleNamespace(deliveries=arrays_of(times), before={"last_id": 0}, after={"last_id": 0})


def test_a_short_window_soon_after_connecting_is_flagged_for_both_radios() -> None:
    # Connected at 100 s, the window 101–107 s: 1 s of settling, 6 s long.
    columns = radio_columns(window([100.0, 103.0]), RadioRecord(101.0, 107.0, 5))
    assert columns["radio_settle_s"] == pytest.approx(1.0)
    assert columns[column_name("short_window", "lte")]
    assert columns[column_name("short_window", "3g")]


def test_a_window_long_for_lte_but_not_for_3g_is_flagged_for_3g_only() -> None:
    # Connected at 100 s, the window 112–132 s: LTE's tail (10.12 s) is over, 3G's (17 s) not.
    columns = radio_columns(window([100.0, 120.0]), RadioRecord(112.0, 132.0, 5))
    assert not columns[column_name("short_window", "lte")]
    assert columns[column_name("short_window", "3g")]


def test_a_long_window_opened_after_both_tails_is_not_flagged() -> None:
    columns = radio_columns(window([100.0, 130.0]), RadioRecord(118.0, 138.0, 5))
    assert not columns[column_name("short_window", "lte")]
    assert not columns[column_name("short_window", "3g")]


def made_up(path: Path, sweep: str, window_s: tuple[float, float]) -> dict[str, object]:
    """One row of polling every 1 s at 0.5 msg/s in ``sweep``, with its timelines."""
    made = traffic("polling", 0.5, 200.0, poll_interval_s=1.0, sizes=WriteSizes(130, 290))
    signed = made.up_bytes - made.down_bytes
    arrays = {"radio_user": np.zeros(len(signed), np.int64), "radio_at": made.at_s}
    arrays["radio_bytes"] = signed
    scenario = "polling-c100-r0.5-i1" + ("-radio5" if sweep == "radio" else "")
    run = RecordedRun("polling", 0.5, 1.0, *window_s, {})
    save_timelines(path / "timelines", scenario, arrays, run)
    deliveries = {**arrays, "user": np.zeros(0, np.int64), "message_id": np.zeros(0, np.int64)}
    columns = radio_columns(
        SimpleNamespace(deliveries=deliveries, before={"last_id": 0}, after={"last_id": 3}),
        RadioRecord(*window_s, 5),
    )
    return ResultRow.of(
        sweep=sweep,
        scenario=scenario,
        technique="polling",
        clients=100,
        publish_rate=0.5,
        poll_interval=1.0,
        duration_s=window_s[1] - window_s[0],
        load_achieved=True,
        **{k: v for k, v in columns.items() if k != "notes"},
    ).as_dict()


def results_of(path: Path, rows: list[dict[str, object]]) -> Results:
    (path / "environment.json").write_text(json.dumps({"synthetic": True}))
    return Results(path, pd.DataFrame(rows), {"synthetic": True})


def test_without_a_radio_sweep_the_findings_and_figures_use_the_default_rows(
    tmp_path: Path,
) -> None:
    results = results_of(tmp_path, [made_up(tmp_path, "rate", (0.5, 6.5))])
    assert list(radio_findings.radio_rows(results)["sweep"]) == ["rate"]
    sentence = radio_findings.energy_finding(results)
    assert sentence is not None and "polling every 1 s" in sentence
    assert "Caveat: all these rows had a window shorter than LTE's 10.12 s tail" in sentence
    assert "--sweeps radio" in sentence
    assert len(plot_energy_vs_rate(results).axes) == 2
    assert plot_polling_vs_interval(results).axes


def test_the_radio_sweeps_long_windows_are_preferred_and_need_no_caveat(tmp_path: Path) -> None:
    rows = [made_up(tmp_path, "rate", (0.5, 6.5)), made_up(tmp_path, "radio", (30.0, 60.0))]
    results = results_of(tmp_path, rows)
    assert list(radio_findings.radio_rows(results)["sweep"]) == ["radio"]
    sentence = radio_findings.energy_finding(results)
    assert sentence is not None and "Caveat" not in sentence
