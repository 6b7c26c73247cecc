"""The browser lane's plumbing: what the pages record reaches the row, and nothing is lost.

Unit tests on hand-made page records (``bench-page.js``'s fields) and rows; one small
end-to-end run of the lane (three Chromium pages, marked slow and browser), which skips
without Chromium and fails under ``CI=true``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pushlab.bench.analysis.browser_findings import browser_finding
from pushlab.bench.analysis.measurement import Window, WindowOverhead, measure
from pushlab.bench.analysis.results import Results
from pushlab.bench.core.scenario import Scenario
from pushlab.bench.core.window import OPEN_END
from pushlab.bench.measuring import chromium
from pushlab.bench.measuring.browser_generator import static_file
from pushlab.bench.measuring.browser_lane import BROWSER_GENERATOR, LanePart
from pushlab.bench.measuring.distributed import GENERATOR
from pushlab.bench.measuring.page_records import page_arrays
from pushlab.bench.measuring.window import generator_for

OPENED_AT = 1000.0


def page(
    ids: list[int],
    *,
    connected_at: float | None = OPENED_AT - 5,
    gaps: list[tuple[int, int]] = (),
    states: list[tuple[str, float]] = (),
) -> dict[str, Any]:
    """A page's record as ``bench-page.js`` keeps it: message k published at OPENED_AT + k."""
    return {
        "deliveries": [[0, k, OPENED_AT + k, OPENED_AT + k + 0.003] for k in ids],
        "gaps": [[0, first, last] for first, last in gaps],
        "states": [list(s) for s in states],
        "requestsAt": [OPENED_AT - 5],
        "connectedAt": connected_at,
    }


def snapshot(last_id: int) -> dict[str, Any]:
    body = dict.fromkeys(
        ("requests", "empty_responses", "messages_delivered", "bytes_in", "bytes_out"), 0
    )
    body |= {"last_id": last_id, "messages_published": last_id, "clients_connected": 3}
    return body | {"tcp_connections_opened": 0, "process_cpu_s": 0.0, "uptime_s": 0.0}


def window_of(records: list[dict[str, Any]], published: int) -> Window:
    scenario = Scenario("sse", len(records), 1.0, None, duration_s=published, warmup_s=0.0)
    scenario = replace(scenario, parts=(LanePart("browser"),))
    return Window(
        scenario=scenario,
        before=snapshot(0),
        after=snapshot(published),
        overhead=WindowOverhead(0, 0, 0.0),
        opened_at=OPENED_AT,
        start_monotonic=0.0,
        generator_cpu_percent=10.0,
        baseline_rss_mb=40.0,
        samples=(),
        generator_report={"ready": {"connected": len(records), "timed_out": False}},
        deliveries=page_arrays(records),
    )


# --- From the pages' records to the generators' arrays ----------------------------------------


def test_every_delivery_of_every_page_becomes_a_row_of_the_arrays() -> None:
    arrays = page_arrays([page([1, 2]), page([2])])
    assert arrays["user"].tolist() == [1, 1, 2]
    assert arrays["message_id"].tolist() == [1, 2, 2]
    assert arrays["received_at"] - arrays["ts"] == pytest.approx([0.003] * 3)
    assert arrays["user_number"].tolist() == [1, 2]


def test_a_page_that_never_connected_has_no_connection_time() -> None:
    arrays = page_arrays([page([]), page([], connected_at=None)])
    assert not math.isnan(arrays["connected_at"][0])
    assert math.isnan(arrays["connected_at"][1])


def test_a_break_counts_once_and_the_return_is_a_reconnect() -> None:
    states = [("open", 1.0), ("reconnecting", 2.0), ("connecting", 3.0), ("reconnecting", 4.0)]
    states += [("connecting", 5.0), ("open", 6.0)]
    arrays = page_arrays([page([], states=states)])
    assert arrays["disconnects"].tolist() == [1]
    assert arrays["reconnect_at"].tolist() == [6.0]


def test_the_gaps_a_page_was_told_of_are_kept_with_their_page() -> None:
    arrays = page_arrays([page([1]), page([1, 4], gaps=[(2, 3)])])
    assert arrays["gap_user"].tolist() == [2]
    assert (arrays["gap_from"].tolist(), arrays["gap_to"].tolist()) == ([2], [3])


def test_a_pages_new_feed_gap_has_an_open_end() -> None:
    """``bench-page.js`` records a new feed's gap as ``[feed, cursor + 1, null]``."""
    record = page([1, 2])
    record["gaps"] = [[0, 3, None]]
    arrays = page_arrays([record])
    assert (arrays["gap_from"].tolist(), arrays["gap_to"].tolist()) == ([3], [OPEN_END])


# --- In the row --------------------------------------------------------------------------------


def test_a_pages_deliveries_arrive_in_the_row() -> None:
    row = measure(window_of([page([1, 2, 3]), page([1, 2, 3])], published=3)).row
    assert row.messages_delivered == 6
    assert row.latency_p50_ms == pytest.approx(3.0)
    assert row.lane == "Chromium pages"


def test_a_frozen_pages_missed_messages_are_signalled_or_counted_lost() -> None:
    """Page 2 was told of 2–3 (a gap); page 3 missed 4 and was told nothing."""
    records = [page([1, 2, 3, 4]), page([1, 4], gaps=[(2, 3)]), page([1, 2, 3])]
    row = measure(window_of(records, published=4)).row
    assert row.gaps_signalled == 2
    assert row.messages_lost == 1


# --- The lane's parts --------------------------------------------------------------------------


def test_the_browser_lane_brings_its_own_generator_and_locust_keeps_the_default() -> None:
    base = Scenario("sse", 3, 1.0, None, duration_s=2.0, warmup_s=0.0)
    browser = replace(base, parts=(LanePart("browser"),))
    locust = replace(base, parts=(LanePart("locust"),))
    assert generator_for(browser, None) == (BROWSER_GENERATOR, [])
    assert generator_for(locust, None) == (GENERATOR, [])
    assert browser.id != locust.id


def test_an_unknown_lane_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown lane"):
        LanePart("firefox")


@pytest.mark.parametrize("name", ["../pyproject.toml", "style.css", ".hidden.js", "nope.js"])
def test_the_page_route_serves_only_the_pages_own_files(name: str) -> None:
    assert static_file(f"http://127.0.0.1:1/__bench_page/{name}") is None
    assert static_file("http://127.0.0.1:1/__bench_page/bench-page.js?x=1") is not None


# --- The finding -------------------------------------------------------------------------------


def lane_row(lane: str, p50_ms: float, bytes_per_message: float) -> dict[str, Any]:
    return {
        "sweep": "browser",
        "technique": "polling",
        "clients": 10,
        "publish_rate": 0.5,
        "poll_interval": 1.0,
        "lane": lane,
        "latency_p50_ms": p50_ms,
        "requests_per_message": 2.0,
        "bytes_per_message": bytes_per_message,
    }


def test_the_finding_pairs_each_browser_row_with_locust_at_the_same_load() -> None:
    rows = [lane_row("Locust users", 500.0, 300.0), lane_row("Chromium pages", 510.0, 900.0)]
    finding = browser_finding(Results(Path("made-up"), pd.DataFrame(rows), {"synthetic": True}))
    assert finding is not None
    assert "900 B (Locust 300 B)" in finding
    assert "bytes per message +200%" in finding
    assert "median latency +" not in finding  # 2%: not called a difference


def test_no_finding_without_a_locust_row_to_compare() -> None:
    rows = [lane_row("Chromium pages", 510.0, 900.0)]
    assert browser_finding(Results(Path("made-up"), pd.DataFrame(rows), {})) is None


# --- End to end: three Chromium pages against a real server -----------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_three_pages_deliveries_reach_the_row(tmp_path: Path) -> None:
    reason = chromium.missing_reason()
    if reason is not None:
        if chromium.must_run():
            pytest.fail(f"CI=true but the browser lane cannot run: {reason}", pytrace=False)
        pytest.skip(reason)
    from pushlab.bench.measuring import harness

    scenario = Scenario("sse", 3, 2.0, None, duration_s=2.0, warmup_s=0.5, arrivals="periodic")
    scenario = replace(scenario, parts=(LanePart("browser"),))
    row = harness.run_scenario(scenario, harness.plan_affinity(), tmp_path).row
    assert row.clients_connected == 3
    assert row.messages_published >= 2
    assert row.messages_delivered == 3 * row.messages_published
    assert row.messages_lost == 0
    assert row.lane == "Chromium pages"


# --- Hidden and frozen pages, and the storm ----------------------------------------------------


def test_the_pages_take_turns_hidden_and_frozen_after_the_control() -> None:
    from pushlab.bench.measuring.page_lifecycle import state_of

    assert [state_of(i) for i in range(5)] == [None, "hidden", "frozen", "hidden", "frozen"]


def away(record: dict[str, Any], state: str, start: float, end: float) -> dict[str, Any]:
    return record | {"lifecycleState": state, "lifecycleFrom": start, "lifecycleUntil": end}


def lifecycle_row(records: list[dict[str, Any]], published: int) -> Any:
    from pushlab.bench.measuring.lifecycle import LifecyclePart

    window = window_of(records, published)
    scenario = replace(window.scenario, parts=(LanePart("browser"), LifecyclePart(60.0, 4.0)))
    return measure(replace(window, scenario=scenario)).row


def test_a_frozen_page_that_was_told_of_a_gap_has_its_messages_signalled_not_lost() -> None:
    """Frozen from 1.5 to 4.9 s: it heard 1, then (after a gap for 2–4) 5 and 6."""
    frozen = page([1, 5, 6], gaps=[(2, 4)])
    row = lifecycle_row(
        [
            page([1, 2, 3, 4, 5, 6]),
            away(page([1, 2, 3, 4, 5, 6]), "hidden", 1.5, 5.5),
            away(frozen, "frozen", OPENED_AT + 1.5, OPENED_AT + 4.9),
        ],
        published=6,
    )
    assert (row.frozen_received, row.frozen_signalled, row.frozen_lost) == (3, 3, 0)
    assert row.frozen_heard_during == 0
    assert row.hidden_lost == 0


def test_a_frozen_page_that_missed_messages_untold_counts_them_lost() -> None:
    frozen = away(page([1, 5, 6]), "frozen", OPENED_AT + 1.5, OPENED_AT + 4.9)
    row = lifecycle_row([page([1, 2, 3, 4, 5, 6]), frozen], published=6)
    assert (row.frozen_signalled, row.frozen_lost) == (0, 3)
    assert row.frozen_resume_ms == pytest.approx(103.0)  # message 5 at 5.003 s


def test_the_storm_series_counts_arrivals_per_second_from_the_restart() -> None:
    from pushlab.bench.analysis.storm_window import BIN_S, arrivals_per_s, series_of, series_text

    rates = arrivals_per_s(np.array([9.0, 10.1, 10.2, 10.3, 11.2]), restart_at=10.0)
    assert rates[0] == pytest.approx(3 / BIN_S)
    assert rates[2] == pytest.approx(1 / BIN_S)
    assert series_of(series_text(rates)).tolist() == rates.tolist()


def test_without_jitter_every_client_waits_the_whole_ceiling() -> None:
    import random

    from pushlab.reconnect_policy import NO_JITTER_POLICY, RECONNECT_POLICY

    rng = random.Random(1)
    assert [NO_JITTER_POLICY.wait_s(n, rng) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert RECONNECT_POLICY.wait_s(0, rng) < RECONNECT_POLICY.ceiling_s(0)
    assert NO_JITTER_POLICY.as_json()["jitter"] == "none"


def test_the_browser_sweep_puts_locust_and_chromium_at_the_same_load(monkeypatch) -> None:
    from pushlab.bench.core.matrix import build_matrix, settings_for

    monkeypatch.setattr(chromium, "missing_reason", lambda: None)  # the matrix only, no browser
    settings = replace(settings_for("default"), sweeps=("browser",))
    made = [item for _, item in build_matrix(settings)]
    lanes = {(s.technique, s.clients, s.publish_rate, s.poll_interval) for s in made}
    assert len(made) == 2 * len(lanes) == 2 * len(settings.techniques)
    assert {s.parts[0].lane for s in made} == {"locust", "browser"}


def test_without_chromium_the_browser_sweep_says_why_and_measures_nothing(
    monkeypatch, capsys
) -> None:
    from pushlab.bench.sweeps.browser import scenarios

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(chromium, "missing_reason", lambda: "no Chromium found")
    from pushlab.bench.core.matrix import settings_for

    assert scenarios(settings_for("default")) == []
    assert "browser sweep skipped: no Chromium found" in capsys.readouterr().err
    monkeypatch.setenv("CI", "true")
    with pytest.raises(RuntimeError, match="CI=true"):
        scenarios(settings_for("default"))


def test_a_client_is_back_at_its_first_message_from_the_new_feed_not_an_old_one_in_flight() -> None:
    from pushlab.bench.analysis.storm_window import back_after_s

    raw = {
        "user": np.array([1, 1, 2, 1]),
        "feed": np.array([0, 1, 1, 1]),
        "received_at": np.array([10.1, 12.0, 13.5, 12.5]),
    }
    assert back_after_s(raw, {1, 2}, restart_at=10.0).tolist() == [2.0, 3.5]
