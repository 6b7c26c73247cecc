"""The measurement step on hand-made windows: every figure of a row, with no server running.

Each test builds a :class:`Window` as the harness would record it (two ``/stats`` bodies, the
harness's own overhead, the clocks, samples, the generator's report and deliveries) and reads
the row that :func:`measure` makes of it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from pushlab.bench.analysis.measurement import (
    Window,
    WindowOverhead,
    failed_row,
    measure,
    sample_rows,
)
from pushlab.bench.analysis.row import column_names
from pushlab.bench.core.scenario import Scenario
from pushlab.bench.core.window import Sample
from pushlab.techniques import LONGPOLL_HOLD_S

OPENED_AT = 1000.0  # epoch s when the window opened
START_MONOTONIC = 50.0


def snapshot(last_id: int, **counters: float) -> dict[str, Any]:
    """A ``/stats`` body: every counter at zero unless given."""
    body: dict[str, Any] = {
        "last_id": last_id,
        "clients_connected": 0,
        "requests": 0,
        "empty_responses": 0,
        "messages_published": last_id,
        "messages_delivered": 0,
        "bytes_in": 0,
        "bytes_out": 0,
        "tcp_connections_opened": 0,
        "process_cpu_s": 0.0,
        "uptime_s": 0.0,
    }
    body.update(counters)
    return body


def deliveries(
    receipts: list[tuple[int, int]],
    users: int,
    *,
    latency_s: float = 0.002,
    connected_at: list[float] | None = None,
    disconnects: list[int] | None = None,
) -> dict[str, np.ndarray]:
    """The generator's arrays for (user, message id) receipts in arrival order.

    Message ``k`` is published at ``OPENED_AT + k`` and every receipt takes ``latency_s``
    times (user + 1).
    """
    user = np.array([who for who, _ in receipts], dtype=np.int64)
    message_id = np.array([m for _, m in receipts], dtype=np.int64)
    ts = OPENED_AT + message_id.astype(float)
    return {
        "user": user,
        "message_id": message_id,
        "ts": ts,
        "received_at": ts + latency_s * (user + 1),
        "user_number": np.arange(users, dtype=np.int64),
        "connected_at": np.array(
            connected_at if connected_at is not None else [OPENED_AT - 5] * users
        ),
        "disconnects": np.array(disconnects or [0] * users, dtype=np.int64),
    }


def samples(*rss_mb: float, phase: str = "measure") -> tuple[Sample, ...]:
    return tuple(
        Sample(START_MONOTONIC + 0.2 * i, phase, 10.0, rss, 20, 3) for i, rss in enumerate(rss_mb)
    )


def window(scenario: Scenario, before: dict[str, Any], after: dict[str, Any], **kw: Any) -> Window:
    fields: dict[str, Any] = {
        "overhead": WindowOverhead(0, 0, 0.0),
        "opened_at": OPENED_AT,
        "start_monotonic": START_MONOTONIC,
        "generator_cpu_percent": 20.0,
        "baseline_rss_mb": 39.0,
        "samples": samples(40.0, 42.0),
        "generator_report": {"ready": {"connected": scenario.clients, "timed_out": False}},
        "deliveries": deliveries([], scenario.clients),
    }
    fields.update(kw)
    return Window(scenario=scenario, before=before, after=after, **fields)


WEBSOCKET = Scenario("websocket", 2, 1.0, None, duration_s=3.0, warmup_s=0.0)
EVERY_MESSAGE_TO_BOTH = [(0, 1), (1, 1), (0, 2), (1, 2), (0, 3), (1, 3)]


@pytest.fixture
def normal() -> Window:
    """Two WebSocket clients, three messages, each delivered once to each."""
    before = snapshot(0, clients_connected=2, bytes_in=1000, bytes_out=5000, process_cpu_s=1.0)
    after = snapshot(
        3,
        clients_connected=2,
        messages_delivered=6,
        bytes_in=1100,
        bytes_out=5700,
        process_cpu_s=1.03,
        uptime_s=3.0,
    )
    return window(
        WEBSOCKET,
        before,
        after,
        overhead=WindowOverhead(bytes_in=40, bytes_out=100, extended_s=0.0),
        deliveries=deliveries(EVERY_MESSAGE_TO_BOTH, 2),
    )


# --- A normal window ------------------------------------------------------------------------


def test_a_normal_window_counts_every_message_to_every_client(normal: Window) -> None:
    row = measure(normal).row
    assert (row.messages_published, row.messages_delivered, row.server_deliveries) == (3, 6, 6)
    assert row.clients_connected == 2
    assert (row.missed, row.duplicated, row.reordered) == (0, 0, 0)
    assert row.load_achieved and not row.generator_saturated
    assert row.notes == ""


def test_latency_is_receive_minus_publish_over_first_receipts(normal: Window) -> None:
    measurement = measure(normal)
    assert measurement.latency_ms == pytest.approx([2, 4, 2, 4, 2, 4])
    assert measurement.row.latency_mean_ms == pytest.approx(3.0)
    assert measurement.row.latency_p50_ms == pytest.approx(3.0)
    assert measurement.row.latency_max_ms == pytest.approx(4.0)


def test_the_harness_own_stats_bytes_are_taken_out(normal: Window) -> None:
    row = measure(normal).row
    assert row.bytes_in_per_s == pytest.approx((100 - 40) / 3)
    assert row.bytes_out_per_s == pytest.approx((700 - 100) / 3)
    assert row.bytes_per_message == pytest.approx((60 + 600) / 6)


def test_cpu_and_memory_come_from_the_window_alone(normal: Window) -> None:
    warmup = samples(100.0, phase="warmup")  # outside the window: not averaged in
    row = measure(replace(normal, samples=warmup + normal.samples)).row
    assert row.server_cpu_percent == pytest.approx(1.0)
    assert row.cpu_us_per_message == pytest.approx(0.03e6 / 6)
    assert row.rss_mb == pytest.approx(41.0)
    assert row.rss_kb_per_client == pytest.approx((41 - 39) * 1024 / 2)


def test_the_server_fanout_is_the_mean_publish_to_last_write_of_the_window() -> None:
    before = snapshot(0, fanout_s=5.0, fanouts=10)  # messages before the window do not count
    after = snapshot(3, messages_delivered=6, fanout_s=5.03, fanouts=13, uptime_s=3.0)
    row = measure(window(WEBSOCKET, before, after, deliveries=deliveries([], 2))).row
    assert row.server_fanout_ms == pytest.approx(10.0)


def test_a_server_without_a_broadcast_loop_has_no_fanout_figure(normal: Window) -> None:
    assert math.isnan(measure(normal).row.server_fanout_ms)  # no fanout counters at all
    before, after = snapshot(0, fanout_s=0.0, fanouts=0), snapshot(3, fanout_s=0.0, fanouts=0)
    row = measure(window(WEBSOCKET, before, after, deliveries=deliveries([], 2))).row
    assert math.isnan(row.server_fanout_ms)  # the counters, but nothing broadcast


def test_push_techniques_have_no_request_target_or_hold(normal: Window) -> None:
    row = measure(normal).row
    assert row.requests_per_s == 0
    assert math.isnan(row.target_requests_per_s)
    assert math.isnan(row.poll_interval) and math.isnan(row.hold_s)


def test_samples_are_timed_from_the_window_start(normal: Window) -> None:
    rows = sample_rows(normal.samples, START_MONOTONIC)
    assert [r["t"] for r in rows] == [0.0, 0.2]
    assert rows[0]["phase"] == "measure"


def test_the_kept_arrays_are_the_first_receipts(normal: Window) -> None:
    measurement = measure(normal)
    assert measurement.user.tolist() == [0, 1, 0, 1, 0, 1]
    assert measurement.message_id.tolist() == [1, 1, 2, 2, 3, 3]
    assert measurement.receive_ts.shape == measurement.latency_ms.shape


# --- Long polls held across the window's edges ----------------------------------------------


def test_long_polls_held_across_the_edges_are_counted_where_answered() -> None:
    """One poll held at the opening snapshot is answered inside; three are held at the close.

    Eleven polls arrived in the window; nine were answered (three messages × three clients):
    one request per message, not 11/9.
    """
    scenario = Scenario("longpoll", 3, 1.0, None, duration_s=3.0, warmup_s=0.0)
    receipts = [(who, message) for message in (1, 2, 3) for who in range(3)]
    measured = measure(
        window(
            scenario,
            snapshot(0, clients_connected=1),
            snapshot(3, clients_connected=3, requests=11, messages_delivered=9, uptime_s=3.0),
            deliveries=deliveries(receipts, 3),
        )
    )
    assert measured.row.requests_per_message == pytest.approx(1.0)
    assert measured.row.requests_per_s == pytest.approx(9 / 3)
    assert measured.row.empty_fraction == 0


def test_the_long_poll_hold_is_recorded_in_the_row() -> None:
    default = Scenario("longpoll", 3, 1.0, None, duration_s=3.0, warmup_s=0.0)
    assert default.hold_s == LONGPOLL_HOLD_S
    chosen = replace(default, hold_s=7.0)
    row = measure(window(chosen, snapshot(0), snapshot(0, uptime_s=3.0))).row
    assert row.hold_s == 7.0


# --- Zero messages --------------------------------------------------------------------------


def test_a_window_with_no_messages_has_no_per_message_figures() -> None:
    scenario = Scenario("sse", 2, 0.1, None, duration_s=3.0, warmup_s=0.0)
    measured = measure(
        window(
            scenario,
            snapshot(4, clients_connected=2),
            snapshot(4, clients_connected=2, bytes_out=80, uptime_s=3.0),
            overhead=WindowOverhead(0, 0, extended_s=3.0),
        )
    )
    row = measured.row
    assert (row.messages_published, row.messages_delivered, row.missed) == (0, 0, 0)
    for figure in (row.latency_p50_ms, row.requests_per_message, row.bytes_per_message):
        assert math.isnan(figure)
    assert measured.latency_ms.size == 0
    assert "window extended by 3.0 s" in row.notes


# --- A generator that fell short ------------------------------------------------------------


def test_clients_that_never_connected_leave_the_load_unachieved() -> None:
    scenario = Scenario("websocket", 3, 1.0, None, duration_s=3.0, warmup_s=0.0)
    late = [OPENED_AT - 5, OPENED_AT - 5, math.nan]  # the third never connected
    measured = measure(
        window(
            scenario,
            snapshot(0, clients_connected=2),
            snapshot(1, clients_connected=2, messages_delivered=2, uptime_s=3.0),
            deliveries=deliveries([(0, 1), (1, 1)], 3, connected_at=late),
            generator_report={
                "ready": {"connected": 2, "timed_out": True},
                "server_count_ok": False,
            },
        )
    )
    row = measured.row
    assert row.clients_connected == 2
    assert row.missed == 0  # the one that was not there is not expected to receive
    assert not row.load_achieved
    assert "only 2/3 clients connected in time" in row.notes
    assert "the server counted fewer connected clients" in row.notes


def test_a_client_connected_after_the_window_opened_is_not_expected() -> None:
    scenario = Scenario("websocket", 2, 1.0, None, duration_s=3.0, warmup_s=0.0)
    measured = measure(
        window(
            scenario,
            snapshot(0, clients_connected=2),
            snapshot(2, clients_connected=2, messages_delivered=3, uptime_s=3.0),
            deliveries=deliveries(
                [(0, 1), (0, 2), (1, 2)], 2, connected_at=[OPENED_AT - 5, OPENED_AT + 1]
            ),
        )
    )
    assert measured.row.clients_connected == 1
    assert measured.row.missed == 0


def test_polling_short_of_its_rate_is_flagged_and_noted() -> None:
    scenario = Scenario("polling", 4, 1.0, 1.0, duration_s=3.0, warmup_s=0.0)
    receipts = [(who, message) for message in (1, 2) for who in range(4)]
    row = measure(
        window(
            scenario,
            snapshot(0),
            snapshot(2, requests=6, empty_responses=2, messages_delivered=8, uptime_s=3.0),
            deliveries=deliveries(receipts, 4),
            generator_cpu_percent=95.0,
        )
    ).row
    assert row.target_requests_per_s == 4.0
    assert row.requests_per_s == pytest.approx(2.0)
    assert row.empty_fraction == pytest.approx(2 / 6)
    assert row.poll_interval == 1.0
    assert row.generator_saturated and not row.load_achieved
    assert "generator CPU 95% of a core" in row.notes
    assert "polls 2/s of 4/s asked" in row.notes


def test_disconnects_failures_and_an_unfinished_drain_are_noted(normal: Window) -> None:
    report = {
        **normal.generator_report,
        "drained": False,
        "requests": {"WS /ws": [3, 2], "DELIVER websocket": [6, 1]},
        "errors": ["WS /ws: ConnectionResetError ×2"],
    }
    raw = {**normal.deliveries, "disconnects": np.array([2, 0])}
    notes = measure(replace(normal, generator_report=report, deliveries=raw)).row.notes
    assert "not every client received the window's last message" in notes
    assert "2 disconnects" in notes
    assert "2 failed requests (WS /ws: ConnectionResetError ×2)" in notes  # DELIVER left out


# --- Duplicates, gaps and reordering --------------------------------------------------------


def test_duplicates_missed_and_reordered_ids_are_counted(normal: Window) -> None:
    receipts = [(0, 1), (0, 1), (0, 2), (1, 1), (1, 3), (1, 2)]  # 0 misses 3; 1 gets 2 late
    measured = measure(replace(normal, deliveries=deliveries(receipts, 2)))
    row = measured.row
    assert (row.missed, row.duplicated, row.reordered) == (1, 1, 1)
    assert row.messages_delivered == 5
    assert measured.latency_ms.size == 5  # the duplicate has no latency of its own


# --- A scenario that failed -----------------------------------------------------------------


def test_a_failed_scenario_keeps_what_was_asked_and_no_figures() -> None:
    scenario = Scenario("longpoll", 10, 1.0, None, duration_s=3.0, warmup_s=0.0)
    row = failed_row(scenario, TimeoutError("no 'ready' in 30 s"))
    assert (row.scenario, row.technique, row.clients) == (scenario.id, "longpoll", 10)
    assert row.hold_s == LONGPOLL_HOLD_S
    assert row.clients_connected == 0
    assert math.isnan(row.latency_p50_ms) and math.isnan(row.messages_published)
    assert not row.load_achieved and not row.generator_saturated
    assert row.notes == "failed: TimeoutError: no 'ready' in 30 s"
    assert tuple(row.as_dict()) == column_names()


# --- Wire latency, late and lost ------------------------------------------------------------


def test_a_window_without_kernel_times_leaves_the_wire_columns_empty(normal: Window) -> None:
    row = measure(normal).row
    assert math.isnan(row.wire_latency_p50_ms)
    assert row.wire_stamped == 0.0
    assert not row.generator_delayed


def test_kernel_times_split_the_latency_into_wire_and_generator(normal: Window) -> None:
    raw = dict(normal.deliveries)
    raw["kernel_at"] = raw["ts"] + 0.001  # received by the kernel 1 ms after publishing
    row = measure(replace(normal, deliveries=raw)).row
    assert row.wire_latency_p50_ms == pytest.approx(1.0)
    # user 0 handled its messages 2 ms after publishing, user 1 after 4 ms
    assert row.generator_delay_p50_ms == pytest.approx(2.0)
    assert row.generator_share == pytest.approx(2 / 3)
    assert row.generator_delayed
    assert "the generator added 67% of the observed latency" in row.notes


def test_messages_after_the_window_closed_are_late_and_the_missing_are_lost(
    normal: Window,
) -> None:
    late_then_lost = deliveries([(0, 1), (1, 1), (0, 2), (1, 2), (0, 3)], 2)
    closed_at = float(late_then_lost["received_at"][3]) - 1e-6  # (1, 2) and (0, 3) came after
    row = measure(replace(normal, deliveries=late_then_lost, closed_at=closed_at)).row
    assert row.arrived_late == 2
    assert row.missed == 1
    assert "2 deliveries arrived after the window closed (late), 1 never arrived" in row.notes


def test_why_http_connections_closed_is_noted(normal: Window) -> None:
    report = {**normal.generator_report, "connection_closes": {"the server reset it": 3}}
    row = measure(replace(normal, generator_report=report)).row
    assert "HTTP connections closed: the server reset it ×3" in row.notes
