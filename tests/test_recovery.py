"""Loss, recovery and reconnects after a fault, computed on hand-built windows (issue 12)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pushlab.bench.analysis import recovery
from pushlab.bench.analysis.recovery import NetworkRecord
from pushlab.bench.core.window import OPEN_END

FAULT_AT = 100.0


def arrays(deliveries: list[tuple[int, int, int, float]], **extra: list) -> dict[str, np.ndarray]:
    """(user, feed, id, received_at) rows, and the reconnect and gap arrays (empty unless given)."""
    user, feed, message_id, received_at = (list(column) for column in zip(*deliveries, strict=True))
    raw = {
        "user": np.array(user),
        "feed": np.array(feed),
        "message_id": np.array(message_id),
        "received_at": np.array(received_at, dtype=float),
        "reconnect_user": np.array([], dtype=np.int64),
        "reconnect_at": np.array([], dtype=float),
        "gap_user": np.array([], dtype=np.int64),
        "gap_feed": np.array([], dtype=np.int64),
        "gap_from": np.array([], dtype=np.int64),
        "gap_to": np.array([], dtype=np.int64),
    }
    raw.update({key: np.array(value) for key, value in extra.items()})
    return raw


DROP = NetworkRecord(cpu_percent=1.0, fault="drop", fault_at=FAULT_AT, fault_ended_at=FAULT_AT)


def test_a_client_that_resumed_lost_nothing_and_one_that_skipped_lost_what_it_skipped() -> None:
    messages = {(0, i) for i in range(1, 6)}
    raw = arrays(
        [(0, 0, i, 99.0 + i * 0.1) for i in (1, 2)]
        + [(0, 0, i, 100.5 + i * 0.01) for i in (3, 4, 5)]  # resumed: 3, 4, 5 from history
        + [(1, 0, i, 99.0 + i * 0.1) for i in (1, 2)]
        + [(1, 0, 5, 100.9)]  # started again from the present: 3 and 4 are gone
    )
    figures = recovery.fault_figures(raw, {0, 1}, messages, DROP, opened_at=90.0)
    assert figures["messages_lost"] == 2
    assert figures["gaps_signalled"] == 0
    assert figures["fault_duplicates"] == 0
    # recovery: 100.53 − 100 = 530 ms and 100.9 − 100 = 900 ms
    assert figures["recovery_p50_ms"] == pytest.approx(715.0)
    assert figures["recovery_max_ms"] == pytest.approx(900.0)
    assert figures["recovered_clients"] == 2


def test_announced_ids_are_counted_apart_from_silent_losses() -> None:
    messages = {(0, i) for i in range(1, 5)}
    raw = arrays(
        [(0, 0, 1, 99.0), (0, 0, 4, 101.0)],
        gap_user=[0],
        gap_feed=[0],
        gap_from=[2],
        gap_to=[2],  # #2 announced; #3 silently gone
    )
    figures = recovery.fault_figures(raw, {0}, messages, DROP, opened_at=90.0)
    assert figures["gaps_signalled"] == 1
    assert figures["messages_lost"] == 1


def test_a_new_feeds_open_ended_gap_signals_the_old_feeds_tail_and_nothing_before_it() -> None:
    """Two pollers were at old #3 when the server died holding #4–#6; one had missed #2
    silently. Meeting the new feed, each knew every old message after its cursor was gone: an
    open end, signalled; #2 lies before it and stays a silent loss."""
    messages = {(0, i) for i in range(1, 7)} | {(1, 1)}
    raw = arrays(
        [
            *[(0, 0, i, 99.0 + i * 0.1) for i in (1, 2, 3)],
            *[(1, 0, i, 99.0 + i * 0.1) for i in (1, 3)],
            *[(who, 1, 1, 101.0) for who in (0, 1)],
        ],
        gap_user=[0, 1],
        gap_feed=[0, 0],
        gap_from=[4, 4],  # the cursor + 1
        gap_to=[OPEN_END, OPEN_END],
    )
    restart = NetworkRecord(1.0, fault="restart", fault_at=FAULT_AT, fault_ended_at=100.8)
    figures = recovery.fault_figures(raw, {0, 1}, messages, restart, opened_at=90.0)
    assert figures["gaps_signalled"] == 6  # #4–#6 for each
    assert figures["messages_lost"] == 1  # user 1's #3: before its gap's start


def test_an_open_ended_gap_covers_only_its_own_feed() -> None:
    raw = arrays([(0, 0, 1, 1.0)], gap_user=[0], gap_feed=[0], gap_from=[2], gap_to=[OPEN_END])
    told = recovery.announced_ids(raw)[0]
    assert (0, 2) in told and (0, 10**9) in told
    assert (0, 1) not in told and (1, 5) not in told


def test_in_one_id_sequence_an_open_end_stops_before_the_next_feeds_first_id() -> None:
    """An emptied Redis adopted as a new feed whose ids go on: the open end must not cover them."""
    raw = arrays(
        [(0, 0, 3, 1.0), (0, 1, 8, 2.0), (1, 0, 3, 1.0)],
        gap_user=[0, 1, 0],
        gap_feed=[0, 0, 0],
        gap_from=[4, 4, 1],
        gap_to=[OPEN_END, OPEN_END, 2],
    )
    closed = recovery.open_gaps_closed_at_next_feed(raw)
    # user 0: #4–#7 (its new feed starts at #8); user 1 saw nothing of a new feed: dropped
    assert closed["gap_user"].tolist() == [0, 0]
    assert (closed["gap_from"].tolist(), closed["gap_to"].tolist()) == ([4, 1], [7, 2])


def test_a_second_receipt_is_a_duplicate_and_ids_of_two_feeds_are_told_apart() -> None:
    messages = {(0, 1), (0, 2), (1, 1)}  # a restart: old #1–#2, new #1
    raw = arrays([(0, 0, 1, 99.0), (0, 0, 2, 99.5), (0, 0, 2, 100.2), (0, 1, 1, 101.0)])
    restart = NetworkRecord(1.0, fault="restart", fault_at=FAULT_AT, fault_ended_at=100.8)
    figures = recovery.fault_figures(raw, {0}, messages, restart, opened_at=90.0)
    assert figures["fault_duplicates"] == 1
    assert figures["messages_lost"] == 0


def test_a_restart_window_holds_the_old_feeds_tail_and_the_new_feeds_head() -> None:
    restart = NetworkRecord(1.0, fault="restart", crash_stats={"last_id": 7})
    messages = recovery.window_messages({"last_id": 5}, {"last_id": 2}, restart, 8)
    assert messages == {(0, 6), (0, 7), (0, 8), (1, 1), (1, 2)}
    raw = arrays([(0, 0, 8, 1.0), (0, 1, 1, 2.0)])
    assert recovery.old_feed_last_id(restart, raw) == 8  # a client saw #8 after the snapshot


def test_without_a_fault_there_is_no_recovery() -> None:
    raw = arrays([(0, 0, 1, 1.0)])
    figures = recovery.fault_figures(raw, {0}, {(0, 1)}, None, opened_at=0.0)
    assert math.isnan(figures["recovery_p50_ms"])
    assert figures["messages_lost"] == 0


def test_the_peak_reconnect_rate_counts_the_busiest_100_ms() -> None:
    # Four attempts within 100 ms, then one alone: 4 per 0.1 s = 40/s
    times = np.array([1.00, 1.02, 1.05, 1.09, 3.0])
    assert recovery.peak_rate(times) == pytest.approx(40.0)
    spread = np.arange(0, 4, 0.2)  # one every 200 ms: never two in one span
    assert recovery.peak_rate(spread) == pytest.approx(10.0)
    assert recovery.peak_rate(np.array([])) == 0


def test_reconnects_before_the_window_are_not_counted() -> None:
    raw = arrays([(0, 0, 1, 1.0)], reconnect_user=[0, 0], reconnect_at=[5.0, 95.0])
    figures = recovery.fault_figures(raw, {0}, {(0, 1)}, DROP, opened_at=90.0)
    assert figures["reconnects"] == 1


def test_a_restart_merges_the_two_servers_counters() -> None:
    crash = {"requests": 10, "bytes_in": 100, "last_id": 4}
    reborn = {"requests": 1, "bytes_in": 5, "last_id": 0}
    after = {"requests": 7, "bytes_in": 50, "last_id": 3}
    record = NetworkRecord(1.0, fault="restart", crash_stats=crash, reborn_stats=reborn)
    merged = recovery.merged_after(record, arrays([(0, 0, 4, 1.0)]), after)
    assert merged["requests"] == 16 and merged["bytes_in"] == 145  # 10 + (7 − 1), 100 + (50 − 5)
    assert merged["last_id"] == 4


def test_a_restart_onto_the_same_feed_is_one_feed_whose_ids_go_on() -> None:
    """A Redis feed outlives the process: same feed_id, ids continue, nothing counted twice."""
    crash, reborn = {"last_id": 7, "feed_id": "abc"}, {"last_id": 7, "feed_id": "abc"}
    record = NetworkRecord(1.0, fault="restart", crash_stats=crash, reborn_stats=reborn)
    assert not recovery.onto_a_new_feed(record)
    messages = recovery.window_messages({"last_id": 5}, {"last_id": 9}, record, 7)
    assert messages == {(0, 6), (0, 7), (0, 8), (0, 9)}
    deliveries = {"message_id": np.array([6, 7, 8, 9]), "feed": np.array([0, 0, 0, 0])}
    assert recovery.merged_after(record, deliveries, {"last_id": 9})["last_id"] == 9


def test_a_restart_onto_a_new_feed_id_is_two_feeds() -> None:
    crash, reborn = {"last_id": 7, "feed_id": "abc"}, {"last_id": 0, "feed_id": "def"}
    record = NetworkRecord(1.0, fault="restart", crash_stats=crash, reborn_stats=reborn)
    assert recovery.onto_a_new_feed(record)
