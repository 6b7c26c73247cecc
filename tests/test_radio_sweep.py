"""The radio sweep on hand-made data: the recorder, the columns, the made-up traffic, the
crossings, the findings and the figures (``bench/analysis/radio_*.py``,
``bench/measuring/radio_recorder.py``, ``bench/presentation/radio.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import gevent
import numpy as np
import pandas as pd
import pytest
from gevent import socket as gevent_socket

from pushlab.bench.analysis import radio_findings
from pushlab.bench.analysis.radio import Timeline, radio_use
from pushlab.bench.analysis.radio_curves import (
    RecordedRun,
    crossings,
    load_timelines,
    save_timelines,
)
from pushlab.bench.analysis.radio_traffic import (
    Heartbeats,
    WriteSizes,
    poisson_times,
    traffic,
    write_sizes,
)
from pushlab.bench.analysis.radio_window import RadioRecord, column_name, radio_columns
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.measuring.radio_recorder import install, uninstall
from pushlab.bench.presentation.radio import plot_energy_vs_rate, plot_polling_vs_interval
from pushlab.radio_profiles import LTE, THREE_G

WINDOW = (1000.0, 1100.0)


def radio_arrays(by_user: dict[int, list[tuple[float, int]]]) -> dict[str, np.ndarray]:
    users = [u for u, events in by_user.items() for _ in events]
    return {
        "radio_user": np.array(users, dtype=np.int64),
        "radio_at": np.array([t for events in by_user.values() for t, _ in events]),
        "radio_bytes": np.array([b for events in by_user.values() for _, b in events]),
    }


def window_of(arrays: dict[str, np.ndarray], received: list[tuple[int, int]]) -> SimpleNamespace:
    deliveries = {
        "user": np.array([u for u, _ in received], dtype=np.int64),
        "message_id": np.array([m for _, m in received], dtype=np.int64),
        **arrays,
    }
    return SimpleNamespace(deliveries=deliveries, before={"last_id": 10}, after={"last_id": 14})


def test_the_recorder_keeps_every_write_of_sampled_users_only() -> None:
    recorder = install(sample_every=2)
    left, right = gevent_socket.socketpair()

    def talk(user: SimpleNamespace) -> None:
        left.sendall(b"x" * 10)
        right.recv(64)

    try:
        for number in (0, 1):
            greenlet = gevent.spawn(talk, SimpleNamespace(number=number))
            greenlet.join()
    finally:
        uninstall(recorder)
        left.close()
        right.close()
    arrays = recorder.arrays()
    assert arrays["radio_user"].tolist() == [0, 0]  # user 1 was not sampled
    assert arrays["radio_bytes"].tolist() == [10, -10]
    assert int(arrays["radio_sample_every"]) == 2


def test_columns_average_the_sampled_clients_over_the_window() -> None:
    start, end = WINDOW
    arrays = radio_arrays({0: [(start + 10, 200), (start + 10.05, -300)], 5: [(start - 50, 100)]})
    # User 0 received messages 11 and 12 (and 9, before the window); user 5 none.
    window = window_of(arrays, [(0, 9), (0, 11), (0, 12)])
    columns = radio_columns(window, RadioRecord(start, end, 5))
    lone = radio_use(
        Timeline.signed(arrays["radio_at"][:2], arrays["radio_bytes"][:2]), LTE, *WINDOW
    )
    idle = radio_use(
        Timeline.signed(arrays["radio_at"][2:], arrays["radio_bytes"][2:]), LTE, *WINDOW
    )
    assert columns["radio_clients"] == 2
    assert columns[column_name("j_per_hour", "lte")] == pytest.approx(
        (lone.energy_j + idle.energy_j) / (200 / 3600)
    )
    assert columns[column_name("j_per_message", "lte")] == pytest.approx(
        (lone.energy_j + idle.energy_j) / 2
    )
    assert columns[column_name("promotions_per_hour", "lte")] == pytest.approx(1 / (200 / 3600))
    assert 0 < columns[column_name("awake_fraction", "3g")] < 1


def test_a_row_without_timelines_says_so() -> None:
    columns = radio_columns(window_of({}, []), RadioRecord(*WINDOW, 5))
    assert columns["radio_clients"] == 0
    assert "no client timelines" in columns["notes"]
    assert np.isnan(columns[column_name("j_per_hour", "lte")])


def test_made_up_polling_asks_every_interval_news_or_not() -> None:
    quiet = traffic("polling", 0.0, 10.0, poll_interval_s=2.0, sizes=WriteSizes(100, 200))
    assert (quiet.up_bytes > 0).sum() == 5 and (quiet.down_bytes > 0).sum() == 5


def test_a_polling_answer_grows_with_the_messages_it_carries() -> None:
    sizes = WriteSizes(100, 200, message_bytes=80)
    busy = traffic("polling", 5.0, 10.0, poll_interval_s=2.0, sizes=sizes, seed=2)
    answers = busy.down_bytes[busy.down_bytes > 0]
    carried = (answers - 200) // 80
    assert carried.sum() == (poisson_times(5.0, 10.0, seed=2) <= 8.0).sum()  # the last poll: 8 s
    assert ((answers - 200) % 80 == 0).all()


def test_measured_answers_give_the_empty_answer_and_what_a_message_adds() -> None:
    answers = Timeline.of([(k, 0, size) for k, size in enumerate([290, 291, 290, 371, 372, 452])])
    assert write_sizes(answers, answers=True) == WriteSizes(0, 290, 81)
    assert write_sizes(answers, answers=False).down_bytes == 331


def test_a_frame_read_in_two_calls_is_one_write_of_its_size() -> None:
    frames = Timeline.of([(1.0, 0, 2), (1.0002, 0, 78), (2.0, 0, 2), (2.0001, 0, 79), (2.5, 6, 0)])
    assert write_sizes(frames, answers=False) == WriteSizes(6, 80)


def test_made_up_long_poll_is_asked_again_when_its_hold_runs_out() -> None:
    quiet = traffic("longpoll", 0.0, 60.0, heartbeats=Heartbeats(hold_s=25.0))
    assert quiet.at_s[quiet.at_s == np.floor(quiet.at_s)].tolist() == [25.0, 50.0]


def test_made_up_push_sends_its_heartbeat_on_its_period() -> None:
    beats = Heartbeats(ws_ping_s=20.0, sse_keepalive_s=15.0)
    sse = traffic("sse", 0.0, 61.0, heartbeats=beats, sizes=WriteSizes(0, 15))
    websocket = traffic("websocket", 0.0, 61.0, heartbeats=beats, sizes=WriteSizes(6, 2))
    assert sse.at_s.tolist() == [15.0, 30.0, 45.0, 60.0]
    assert (websocket.up_bytes > 0).sum() == 3  # a pong for each ping


def test_crossings_are_interpolated_and_noise_near_a_tie_is_ignored() -> None:
    rates = np.array([0.1, 1.0, 10.0, 100.0])
    rising = np.array([1.0, 10.0, 100.0, 1000.0])
    level = np.full(4, 31.6227766)  # 10 ** 1.5: crossed halfway between 1 and 10 on log axes
    assert crossings(rates, rising, level) == [pytest.approx(10**0.5)]
    wobbly = np.array([100.0, 100.5, 99.6, 100.4])
    assert crossings(rates, wobbly, np.full(4, 100.0)) == []


def test_timelines_files_round_trip(tmp_path: Path) -> None:
    arrays = radio_arrays({3: [(1.0, 5), (2.0, -7)]})
    run = RecordedRun("polling", 0.1, 10.0, 0.5, 3.0, {})
    loaded = load_timelines(save_timelines(tmp_path, "polling-x", arrays, run))
    assert (loaded.technique, loaded.poll_interval, loaded.window_end) == ("polling", 10.0, 3.0)
    assert loaded.clients[3].down_bytes.tolist() == [0, 7]


@pytest.fixture(scope="module")
def made_up_run(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """Rows and timelines of polling every 1 s and SSE at 0.1 msg/s, made up from the rules."""
    path = tmp_path_factory.mktemp("radio")
    rows = []
    for technique, interval in (("polling", 1.0), ("sse", None)):
        made = traffic(technique, 0.1, 200.0, poll_interval_s=interval, sizes=WriteSizes(130, 290))
        signed = made.up_bytes - made.down_bytes
        arrays = {"radio_user": np.zeros(len(signed), np.int64), "radio_at": made.at_s}
        arrays["radio_bytes"] = signed
        scenario = f"{technique}-c5-r0.1-radio5"
        save_timelines(
            path / "timelines",
            scenario,
            arrays,
            RecordedRun(technique, 0.1, interval, 50.0, 200.0, {}),
        )
        window = window_of(arrays, [(0, 11), (0, 12)])
        rows.append(
            ResultRow.of(
                sweep="radio",
                scenario=scenario,
                technique=technique,
                clients=5,
                publish_rate=0.1,
                poll_interval=float("nan") if interval is None else interval,
                load_achieved=True,
                **{
                    k: v
                    for k, v in radio_columns(window, RadioRecord(50.0, 200.0, 5)).items()
                    if k != "notes"
                },
            ).as_dict()
        )
    (path / "environment.json").write_text(json.dumps({"synthetic": True}))
    return Results(path, pd.DataFrame(rows), {"synthetic": True})


def test_the_energy_finding_lists_the_cheapest_first(made_up_run: Results) -> None:
    sentence = radio_findings.energy_finding(made_up_run)
    assert sentence is not None
    assert sentence.index("SSE") < sentence.index("polling every 1 s")


def test_the_heartbeat_finding_names_what_keeps_the_radio_awake(made_up_run: Results) -> None:
    sentence = radio_findings.heartbeat_finding(made_up_run)
    assert sentence is not None
    assert "polling every 1 s: its poll every 1 s — on LTE it keeps it awake" in sentence
    assert "SSE: the keep-alive comment every 15 s — on LTE it wakes it each time" in sentence
    assert "on 3G it keeps it awake" in sentence.split("SSE:")[1]  # 15 s < 3G's 17 s tail


def test_crossovers_are_computed_from_the_model_lines(made_up_run: Results) -> None:
    found = radio_findings.crossover_rates(made_up_run, LTE)
    assert [(name, interval) for name, interval, _ in found] == [("sse", 1.0)]
    assert radio_findings.crossover_finding(made_up_run) is not None


def test_the_figures_draw_from_the_rows_and_timelines(made_up_run: Results) -> None:
    assert len(plot_energy_vs_rate(made_up_run).axes) == 2
    assert plot_polling_vs_interval(made_up_run).axes[0].get_xscale() == "log"


def test_a_run_without_radio_rows_has_no_finding_and_no_figure(tmp_path: Path) -> None:
    empty = Results(tmp_path, pd.DataFrame([ResultRow.of(sweep="rate").as_dict()]), {})
    assert radio_findings.energy_finding(empty) is None
    with pytest.raises(ValueError):
        plot_energy_vs_rate(empty)
    assert THREE_G.kind == "3g"
