"""Wire latency apart from the generator's delay, and late apart from lost, on synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pushlab.bench.analysis import wire

NAN = math.nan


def test_observed_latency_splits_into_wire_latency_and_generator_delay() -> None:
    ts = np.array([100.0, 101.0, 102.0])
    kernel_at = ts + np.array([0.002, 0.002, 0.002])  # 2 ms on the wire
    received_at = kernel_at + np.array([0.006, 0.006, 0.006])  # 6 ms in the generator
    columns = wire.wire_figures(ts, received_at, kernel_at)
    assert columns["wire_latency_p50_ms"] == pytest.approx(2.0)
    assert columns["generator_delay_p50_ms"] == pytest.approx(6.0)
    assert columns["generator_share"] == pytest.approx(0.75)
    assert columns["generator_delayed"] is True
    assert columns["wire_stamped"] == 1.0


def test_a_generator_that_adds_little_is_not_flagged() -> None:
    ts = np.array([100.0, 101.0])
    kernel_at = ts + 0.010
    received_at = kernel_at + 0.001
    columns = wire.wire_figures(ts, received_at, kernel_at)
    assert columns["generator_share"] == pytest.approx(1 / 11)
    assert columns["generator_delayed"] is False
    assert wire.wire_note(columns) == ""


def test_unstamped_deliveries_are_left_out_and_counted() -> None:
    ts = np.array([100.0, 101.0])
    kernel_at = np.array([100.004, NAN])
    received_at = np.array([100.005, 101.5])
    columns = wire.wire_figures(ts, received_at, kernel_at)
    assert columns["wire_latency_p50_ms"] == pytest.approx(4.0)
    assert columns["generator_delay_p99_ms"] == pytest.approx(1.0)
    assert columns["wire_stamped"] == 0.5


def test_a_path_without_kernel_timestamps_leaves_the_columns_empty() -> None:
    ts = np.array([100.0, 101.0])
    columns = wire.wire_figures(ts, ts + 0.01, np.array([NAN, NAN]))
    for name in ("wire_latency_p50_ms", "generator_delay_p50_ms", "generator_share"):
        assert math.isnan(columns[name])
    assert columns["generator_delayed"] is False
    assert columns["wire_stamped"] == 0.0


def test_the_flag_is_spelled_out_in_the_note() -> None:
    ts = np.array([100.0])
    columns = wire.wire_figures(ts, ts + 0.040, ts + 0.010)
    assert "the generator added 75% of the observed latency" in wire.wire_note(columns)


def test_deliveries_after_the_window_closed_are_late() -> None:
    received_at = np.array([9.0, 10.0, 10.5, 12.0])
    assert wire.arrived_late(received_at, closed_at=10.0) == 2
    assert wire.arrived_late(received_at, closed_at=NAN) == 0
