"""The finding that splits a push server's latency into its own part and the rest (issue 15),
from made-up rows: it formats and judges; it does not measure."""

from dataclasses import replace
from pathlib import Path

import pandas as pd

from pushlab.bench.analysis.peer_findings import fanout_finding
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.row import ResultRow
from tests.test_saturation import results_of


def push_row(technique: str, clients: int, rate: float, **values: object) -> dict:
    row = ResultRow.of(
        sweep="rate",
        scenario=f"{technique}-c{clients}-r{rate:g}",
        technique=technique,
        clients=clients,
        publish_rate=rate,
        latency_p50_ms=40.0,
        latency_p99_ms=120.0,
        server_fanout_ms=10.0,
        load_achieved=True,
        clients_connected=clients,
    )
    return replace(row, **values).as_dict()


def test_the_busiest_row_states_the_servers_share_and_the_target() -> None:
    text = fanout_finding(
        results_of(
            push_row("websocket", 100, 20.0, server_fanout_ms=1.0),
            push_row("websocket", 1000, 20.0),
            push_row("sse", 1000, 20.0, latency_p50_ms=20.0, server_fanout_ms=5.0),
        )
    )
    assert text is not None
    assert (
        "WebSocket at 1,000 clients at 20 msg/s: clients received at p50 40 ms and p99 120 ms "
        "(target p50 ≤ 5 ms, p99 ≤ 15 ms: not met), and the loop was done 10 ms after the "
        "publish."
    ) in text
    assert "SSE at 1,000 clients at 20 msg/s: clients received at p50 20 ms" in text
    assert "5 ms after" in text
    assert max(len(sentence.split()) for sentence in text.split(". ")) <= 50  # read aloud
    assert text.count("target") == 1  # the target is WebSocket's, at the load it names


def test_a_met_target_and_a_generator_limited_row_say_so() -> None:
    met = push_row("websocket", 1000, 20.0, latency_p50_ms=4.0, latency_p99_ms=14.0)
    text = fanout_finding(results_of(met))
    assert text is not None and "p99 ≤ 15 ms: met)" in text and "⚠" not in text
    limited = push_row(
        "websocket", 1000, 20.0, generator_saturated=True, generator_cpu_percent=95.0
    )
    text = fanout_finding(results_of(limited))
    assert text is not None and "⚠ generator saturated (95% CPU)" in text


def test_no_push_rows_or_an_older_format_says_nothing() -> None:
    assert (
        fanout_finding(results_of(push_row("polling", 100, 1.0, server_fanout_ms=float("nan"))))
        is None
    )
    older = pd.DataFrame([push_row("websocket", 1000, 20.0)]).drop(columns="server_fanout_ms")
    assert fanout_finding(Results(Path("made-up"), older, {})) is None


def test_the_target_load_is_stated_even_beside_a_busier_row_and_a_shaped_sweep() -> None:
    text = fanout_finding(
        results_of(
            push_row("websocket", 1000, 20.0, server_fanout_ms=9.0),
            push_row("websocket", 1000, 50.0, server_fanout_ms=30.0),
            push_row("websocket", 2000, 20.0, sweep="network", server_fanout_ms=99.0),
            push_row("sse", 1000, 20.0, latency_p50_ms=float("nan")),  # not measured
        )
    )
    assert text is not None
    assert "at 1,000 clients at 20 msg/s" in text and "9 ms after" in text
    assert "99 ms" not in text and "30 ms" not in text
    assert "SSE" not in text and "nan" not in text
