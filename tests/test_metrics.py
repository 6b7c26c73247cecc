"""The bench's metric computations, on hand-made inputs (``bench/metrics.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pushlab.bench.analysis import metrics


def arrays(*deliveries: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(user, message_id) pairs in arrival order → the generator's two parallel arrays."""
    user = np.array([who for who, _ in deliveries], dtype=np.int64)
    message_id = np.array([message for _, message in deliveries], dtype=np.int64)
    return user, message_id


# --- Percentiles ----------------------------------------------------------------------------


def test_latency_summary_interpolates_percentiles_linearly() -> None:
    summary = metrics.latency_summary(np.arange(1.0, 101.0))
    assert summary.mean_ms == pytest.approx(50.5)
    assert summary.p50_ms == pytest.approx(50.5)
    assert summary.p95_ms == pytest.approx(95.05)
    assert summary.p99_ms == pytest.approx(99.01)
    assert summary.max_ms == 100.0


def test_latency_summary_keeps_sub_millisecond_values() -> None:
    summary = metrics.latency_summary(np.array([0.25, 0.5, 0.75]))
    assert summary.p50_ms == pytest.approx(0.5)
    assert summary.mean_ms == pytest.approx(0.5)


def test_latency_summary_of_nothing_is_nan() -> None:
    summary = metrics.latency_summary(np.array([]))
    assert all(math.isnan(value) for value in vars(summary).values())


def test_latency_is_receive_time_minus_publish_time_in_ms() -> None:
    latency = metrics.latency_ms(np.array([100.0, 200.0]), np.array([100.002, 200.5]))
    assert latency == pytest.approx([2.0, 500.0])


# --- Gaps, duplicates, reordering -----------------------------------------------------------


def test_a_clean_sequence_has_no_faults() -> None:
    user, message_id = arrays((0, 1), (1, 1), (0, 2), (1, 2), (0, 3), (1, 3))
    check = metrics.check_sequences(user, message_id, 0, 3, {0, 1})
    assert check == metrics.SequenceCheck(delivered=6, missed=0, duplicated=0, reordered=0)


def test_an_id_an_expected_client_never_got_is_missed() -> None:
    user, message_id = arrays((0, 1), (0, 3), (1, 1), (1, 2), (1, 3))
    check = metrics.check_sequences(user, message_id, 0, 3, {0, 1})
    assert check.missed == 1
    assert check.delivered == 5


def test_a_client_that_joined_after_the_window_opened_misses_nothing() -> None:
    user, message_id = arrays((0, 1), (0, 2), (0, 3), (7, 3))
    check = metrics.check_sequences(user, message_id, 0, 3, {0})
    assert check.missed == 0


def test_every_extra_receipt_of_an_id_is_a_duplicate() -> None:
    user, message_id = arrays((0, 1), (0, 1), (0, 2), (0, 1))
    check = metrics.check_sequences(user, message_id, 0, 2, {0})
    assert check.duplicated == 2
    assert check.delivered == 2
    assert check.reordered == 0  # a duplicate is not also counted as reordered


def test_an_id_lower_than_one_already_received_is_reordered() -> None:
    user, message_id = arrays((0, 1), (0, 3), (0, 2), (0, 4))
    check = metrics.check_sequences(user, message_id, 0, 4, {0})
    assert check.reordered == 1
    assert check.missed == 0


def test_order_is_judged_per_client() -> None:
    user, message_id = arrays((0, 2), (1, 1), (1, 2), (0, 3))
    check = metrics.check_sequences(user, message_id, 1, 3, {0, 1})
    assert check.reordered == 0


def test_ids_outside_the_window_are_not_counted_but_still_set_the_order() -> None:
    # the window is ids 3..4; id 2 (warm-up) and 9 (after the window) are not counted,
    # but 4 arriving after 9 is out of order.
    user, message_id = arrays((0, 2), (0, 3), (0, 9), (0, 4), (0, 2))
    check = metrics.check_sequences(user, message_id, 2, 4, {0})
    assert check == metrics.SequenceCheck(delivered=2, missed=0, duplicated=0, reordered=1)


def test_an_empty_window_expects_nothing() -> None:
    user, message_id = arrays((0, 1))
    check = metrics.check_sequences(user, message_id, 5, 5, {0})
    assert check == metrics.SequenceCheck(delivered=0, missed=0, duplicated=0, reordered=0)


def test_latency_counts_each_client_and_message_once_inside_the_window() -> None:
    user, message_id = arrays((0, 1), (0, 2), (1, 2), (0, 2), (1, 3), (0, 4))
    indices = metrics.first_receipts_in_window(user, message_id, 1, 3)
    assert indices.tolist() == [1, 2, 4]  # arrival order kept; the duplicate and ids 1, 4 left out


def test_no_receipts_in_the_window_gives_no_indices() -> None:
    user, message_id = arrays((0, 1))
    assert metrics.first_receipts_in_window(user, message_id, 1, 3).size == 0


# --- Ratios ---------------------------------------------------------------------------------


def test_requests_per_message_divides_requests_by_deliveries() -> None:
    assert metrics.per_message(120, 40) == 3.0


def test_per_message_without_messages_is_nan() -> None:
    assert math.isnan(metrics.per_message(120, 0))


def test_ratio_of_empty_answers() -> None:
    assert metrics.ratio(75, 100) == 0.75
    assert math.isnan(metrics.ratio(0, 0))


def test_long_polls_held_across_the_snapshots_are_counted_where_they_are_answered() -> None:
    # 1,000 clients, 7 messages: 74 polls were held when the window opened (926 clients were
    # between an answer and their re-ask), all 1,000 are held when it closes. 7,926 polls
    # arrived in the window, 7,000 were answered in it: one per message per client.
    assert metrics.answered_requests("longpoll", 7926, 74, 1000) == 7000


def test_answered_requests_equal_arrivals_where_nothing_is_held() -> None:
    assert metrics.answered_requests("polling", 600, 0, 0) == 600
    # WebSocket and SSE count open sockets as connected, but make no requests in a window.
    assert metrics.answered_requests("websocket", 0, 1000, 990) == 0


def test_cpu_percent_is_of_one_core() -> None:
    assert metrics.cpu_percent(1.5, 3.0) == 50.0


def test_only_polling_has_a_target_request_rate() -> None:
    assert metrics.target_request_rate("polling", 100, 0.5) == 200.0
    assert math.isnan(metrics.target_request_rate("websocket", 100, None))


def test_stats_delta_subtracts_counters() -> None:
    before = {"requests": 10, "bytes_in": 100, "uptime_s": 1.0, "technique": "sse"}
    after = {"requests": 25, "bytes_in": 400, "uptime_s": 4.0, "technique": "sse"}
    assert metrics.stats_delta(before, after) == {
        "requests": 15,
        "bytes_in": 300,
        "uptime_s": 3.0,
    }


# --- Verdicts -------------------------------------------------------------------------------


def test_a_generator_near_a_full_core_is_saturated() -> None:
    assert metrics.generator_saturated(95.0, math.nan, math.nan)


def test_a_generator_short_of_its_polling_rate_is_saturated() -> None:
    assert metrics.generator_saturated(40.0, target_per_s=1000.0, achieved_per_s=850.0)


def test_a_generator_with_spare_cpu_that_met_its_rate_is_not_saturated() -> None:
    assert not metrics.generator_saturated(40.0, target_per_s=1000.0, achieved_per_s=950.0)


def test_a_push_generator_with_spare_cpu_is_not_saturated() -> None:
    assert not metrics.generator_saturated(60.0, math.nan, 0.0)


def test_load_is_not_achieved_when_clients_are_missing() -> None:
    assert not metrics.load_achieved(1000, 990, math.nan, 0.0)
    assert metrics.load_achieved(1000, 1000, math.nan, 0.0)


def test_load_is_not_achieved_when_polls_fall_short() -> None:
    assert not metrics.load_achieved(100, 100, target_per_s=100.0, achieved_per_s=80.0)
