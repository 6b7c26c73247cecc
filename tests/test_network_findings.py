"""The network and fault sweeps' findings, table cells and figure, on hand-made rows.

The rows are built here, not measured: each test checks that a sentence or a drawing follows
from the numbers it was given (and that the model is written beside the measurement).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pushlab.bench.analysis.findings import findings
from pushlab.bench.analysis.network_findings import direct_floor, model_verdict, modelled_mean_ms
from pushlab.bench.analysis.per_message import PerMessage, per_message
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.presentation import columns
from pushlab.bench.presentation.network import plot_network
from pushlab.techniques import LONGPOLL_HOLD_S


def network_row(technique: str, rtt_ms: float, rate: float, mean_ms: float) -> dict:
    return ResultRow.of(
        sweep="network",
        scenario=f"{technique}-c100-r{rate:g}-rtt{rtt_ms:g}",
        technique=technique,
        clients=100,
        publish_rate=rate,
        poll_interval=1.0 if technique == "polling" else float("nan"),
        hold_s=LONGPOLL_HOLD_S if technique == "longpoll" else float("nan"),
        arrivals="poisson",
        messages_published=100,
        latency_mean_ms=mean_ms,
        load_achieved=True,
        rtt_ms=rtt_ms,
        jitter_ms=0.0,
    ).as_dict()


def results(rows: list[dict]) -> Results:
    return Results(Path("made-up"), pd.DataFrame(rows), {"synthetic": True})


@pytest.fixture
def network() -> Results:
    rows = [network_row(t, rtt, 1.0, 10 + rtt) for t in ("polling", "sse") for rtt in (0, 100)]
    # Long polling at 100 ms RTT: 55 ms = 1.1 transits at 1 msg/s; 95 ms = 1.9 at 20 msg/s.
    rows += [network_row("longpoll", 100, 1.0, 55.0), network_row("longpoll", 100, 20.0, 95.0)]
    return results(rows)


def test_the_model_is_written_beside_each_network_row() -> None:
    row = pd.Series(network_row("polling", 300, 1.0, 640.0))
    assert modelled_mean_ms(row) == pytest.approx(650.0)  # 1000/2 + 300/2
    assert columns.values(row, "model_latency_ms") == pytest.approx(650.0)
    assert modelled_mean_ms(pd.Series(network_row("sse", 20, 1.0, 11.0))) == pytest.approx(10.0)


def test_findings_count_long_pollings_transits_at_each_rate(network: Results) -> None:
    (sentence,) = [text for text in findings(network) if "transits per message" in text]
    assert "1.10 at 1 msg/s" in sentence and "1.90 at 20 msg/s" in sentence
    assert "At 100 ms RTT" in sentence


def test_findings_hold_each_rtts_latency_against_the_model(network: Results) -> None:
    (sentence,) = [text for text in findings(network) if "emulated network" in text]
    assert "at 100 ms RTT: polling every 1 s 110 ms (model 550: -80%" in sentence


def verdict_of(
    technique: str,
    mean_ms: float,
    floor_ms: float = float("nan"),
    own: PerMessage | None = None,
    floor: PerMessage | None = None,
    without_emulator: bool = False,
    **cols: float,
) -> str:
    row = network_row(technique, 100, 1.0, mean_ms) | cols
    row |= {"model_mean_ms": modelled_mean_ms(pd.Series(row))}
    return model_verdict(
        pd.Series(row), floor_ms, own=own, floor=floor, without_emulator=without_emulator
    )


def messages(mean_se_ms: float, first_ms: float = 0.0, fanout_ms: float = 0.0) -> PerMessage:
    return PerMessage(100, mean_se_ms, first_ms, first_se_ms=0.1, fanout_ms=fanout_ms)


def test_a_mean_within_ten_percent_of_the_model_agrees_with_it() -> None:
    assert verdict_of("sse", 54.0) == "+8%, within 10%"  # model: RTT/2 = 50 ms


def test_the_generators_own_delay_is_named_when_it_explains_the_difference() -> None:
    stamped = {"wire_stamped": 1.0}
    verdict = verdict_of("websocket", 60.0, generator_share=0.15, **stamped)  # 9 ms of 60
    assert verdict == "+20%; +2% without the load generator's own delay (mean 9 ms)"
    assert verdict_of("websocket", 60.0, generator_share=0.02, **stamped).endswith("unexplained")
    unstamped = verdict_of("websocket", 60.0, generator_share=0.15, wire_stamped=0.5)
    assert unstamped.endswith("unexplained")  # half the deliveries: the share stands for nothing


def test_the_benchs_own_floor_is_named_when_it_explains_the_difference() -> None:
    verdict = verdict_of("websocket", 62.0, floor_ms=10.0)
    assert verdict == "+24%; +3% from the model plus the bench's own floor (10 ms)"
    assert verdict_of("websocket", 62.0, floor_ms=1.0).endswith("unexplained")


def test_a_row_without_a_network_says_it_measured_the_benchs_floor() -> None:
    row = network_row("sse", 0, 1.0, 3.0)
    row |= {"model_mean_ms": modelled_mean_ms(pd.Series(row))}
    assert model_verdict(pd.Series(row)) == "no network: the bench's own floor"
    assert verdict_of("sse", float("nan")) == "no deliveries"


def test_a_short_polling_window_is_no_excuse() -> None:
    # 100 clients at phases of their own: their waits are independent draws, not 2 messages'
    assert verdict_of("polling", 700.0, messages_published=2).endswith("unexplained")


def test_the_model_is_held_at_the_rate_the_window_really_published() -> None:
    busy = network_row("longpoll", 100, 20.0, 60.0) | {"duration_s": 10.0}  # 100 published
    quiet = busy | {"messages_published": 2}  # a nominal 20 msg/s window that held 2
    assert modelled_mean_ms(pd.Series(quiet)) < modelled_mean_ms(pd.Series(busy))


def test_the_fault_finding_names_loss_recovery_and_why_a_restart_loses() -> None:
    row = ResultRow.of(
        sweep="faults",
        scenario="websocket-c100-r10-rtt0-restart",
        technique="websocket",
        fault="restart",
        resume=True,
        messages_lost=12,
        recovery_p50_ms=800.0,
        recovery_max_ms=1500.0,
        peak_reconnects_per_s=90.0,
    ).as_dict()
    (sentence,) = [text for text in findings(results([row])) if text.startswith("Faults")]
    assert "WebSocket restart (resuming): 12 lost" in sentence
    assert "back after 800 ms" in sentence and "slowest 1,500 ms" in sentence
    assert "the feed lives in the server's memory" in sentence


def test_a_run_without_network_rows_says_nothing_about_networks() -> None:
    row = network_row("sse", 0, 1.0, 1.0) | {"sweep": "clients", "rtt_ms": float("nan")}
    assert not [text for text in findings(results([row])) if "RTT" in text]
    with pytest.raises(ValueError, match="no network sweep"):
        plot_network(pd.DataFrame([row]))


def test_the_figure_draws_measured_points_and_the_model(network: Results) -> None:
    figure = plot_network(network.summary)
    left, right = figure.axes
    assert "RTT" in left.get_title() and "publish rate" in right.get_title()
    assert right.get_xscale() == "log" and left.get_yscale() == "log"
    dashed = [line for line in left.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 3  # one model line per technique at the base rate


def test_a_long_poll_window_of_few_messages_is_judged_by_the_models_spread() -> None:
    few = verdict_of("longpoll", 66.0, messages_published=2)  # model 55 ms, SE ≈ 12 ms
    assert "2 messages: within 2 standard errors" in few
    assert verdict_of("longpoll", 66.0).endswith("unexplained")  # 100 messages: SE ≈ 1.8 ms


def test_the_floors_own_error_counts_with_the_rows() -> None:
    # model 50 + floor 20 = 70 ms; measured 62 ms is -11%: the row's error alone (3 ms) puts
    # them 2.7 errors apart, the floor's (3 ms) with it 1.9
    alone = verdict_of("sse", 62.0, floor_ms=20.0, own=messages(3.0))
    assert alone.endswith("2.7 standard errors apart, unexplained")
    both = verdict_of("sse", 62.0, floor_ms=20.0, own=messages(3.0), floor=messages(3.0))
    assert both.endswith("100 messages: within 2 standard errors")


def test_a_fan_out_that_took_less_than_the_floors_is_named() -> None:
    # model 50 + floor 20 = 70 ms against 60 ms, -14%, 10 errors apart; but each message's
    # first delivery (52 ms) is the model plus the floor's first (2 ms), and the fan-out to
    # the other clients took 8 ms where the floor's took 18
    own, floor = messages(0.5, first_ms=52.0, fanout_ms=8.0), messages(0.5, 2.0, 18.0)
    verdict = verdict_of("sse", 60.0, floor_ms=20.0, own=own, floor=floor)
    assert verdict.endswith(
        "each message's first delivery +0% from one transit plus the floor's (2 ms); the rest "
        "is the fan-out to the other clients, 8 ms on average (the floor's 18), which the "
        "model (one client) leaves out"
    )
    late = messages(0.5, first_ms=62.0, fanout_ms=18.0)  # its first deliveries are off too
    assert verdict_of("sse", 80.0, 20.0, own=late, floor=floor).endswith("unexplained")


def test_a_rows_messages_are_its_sample(tmp_path: Path) -> None:
    (tmp_path / "latency").mkdir()
    # two messages, each reaching three clients: per-message means 10 and 20 ms, firsts 9, 19
    np.savez(
        tmp_path / "latency" / "sse-a.npz",
        latency_ms=np.array([9.0, 10.0, 11.0, 19.0, 20.0, 21.0]),
        message_id=np.array([1, 1, 1, 2, 2, 2]),
    )
    np.savez(tmp_path / "latency" / "sse-b.npz", latency_ms=np.array([1.0, 2.0]))
    run = Results(tmp_path, pd.DataFrame(), {"synthetic": True})
    seen = per_message(run, "sse-a")
    assert seen is not None
    assert seen.messages == 2
    assert seen.mean_se_ms == pytest.approx(5.0)  # sd 7.07 over √2
    assert (seen.first_ms, seen.fanout_ms) == pytest.approx((14.0, 1.0))
    assert per_message(run, "sse-b") is None  # no message ids: not guessed
    assert per_message(run, "absent") is None


def test_without_a_0_ms_row_the_floor_is_the_same_load_without_the_emulator() -> None:
    direct = network_row("websocket", 0, 1.0, 9.0) | {"sweep": "clients", "rtt_ms": float("nan")}
    other_load = direct | {"clients": 10}
    run = results([network_row("websocket", 100, 1.0, 60.0), other_load, direct])
    floor = direct_floor(run, pd.Series(network_row("websocket", 100, 1.0, 60.0)))
    assert floor is not None and floor["clients"] == 100
    # its mean is not the emulated path: only its first delivery is held against the row's
    own, first = messages(0.5, first_ms=52.0, fanout_ms=8.0), messages(0.5, 2.0, 7.0)
    verdict = verdict_of("sse", 60.0, 9.0, own=own, floor=first, without_emulator=True)
    assert "first delivery +0% from one transit plus the floor's without the emulator" in verdict
    assert "from the model plus the bench's own floor" not in verdict_of(
        "sse", 60.0, 9.0, without_emulator=True
    )


def test_a_short_push_window_says_it_cannot_tell() -> None:
    assert verdict_of("sse", 70.0, messages_published=5).endswith(
        "5 messages, too few to tell a cause (a window of at least 10, beside a 0 ms row, can)"
    )


def test_a_point_that_lies_on_another_says_so_in_the_legend() -> None:
    rows = [network_row(t, 100, 1.0, m) for t, m in (("websocket", 58.0), ("sse", 58.5))]
    rows += [network_row("polling", 100, 1.0, 560.0)]
    labels = plot_network(pd.DataFrame(rows)).axes[0].get_legend_handles_labels()[1]
    assert "SSE (on WebSocket's point)" in labels  # 58.5 ms drawn where 58 ms is
    assert not any("polling" in label and "(on" in label for label in labels)
