"""The event-loop sweep: each technique once per loop, its server started with ``--loop``, and
a finding that holds uvloop against asyncio's loop (from made-up rows: it formats, it does not
measure)."""

from __future__ import annotations

from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.cli import parse_args, settings_from
from pushlab.bench.core.matrix import build_matrix
from pushlab.bench.sweeps.loop import loop_finding
from tests.test_saturation import results_of


def test_each_technique_runs_once_per_loop_with_the_loop_in_its_id_and_server_options() -> None:
    argv = ["--sweeps", "loop", "--techniques", "websocket,sse", "--base-clients", "1000"]
    argv += ["--loop-peers", "picows"]
    _mode, settings = settings_from(parse_args([*argv, "--base-rate", "20"]))
    matrix = build_matrix(settings)
    assert [item.id for _sweep, item in matrix] == [
        "websocket-c1000-r20-asyncio",
        "websocket-c1000-r20-uvloop",
        "sse-c1000-r20-asyncio",
        "sse-c1000-r20-uvloop",
        "picows-c1000-r20-asyncio",
        "picows-c1000-r20-uvloop",
    ]
    assert [arg for part in matrix[1][1].parts for arg in part.server_args()] == [
        "--loop",
        "uvloop",
    ]


def loop_row(technique: str, loop: str, cpu_us: float) -> dict:
    row = ResultRow.of(
        sweep="loop",
        scenario=f"{technique}-c1000-r20-{loop}",
        technique=technique,
        clients=1000,
        publish_rate=20.0,
        cpu_us_per_message=cpu_us,
        latency_p50_ms=2.0,
        latency_p99_ms=9.0,
        rss_kb_per_client=12.0,
        load_achieved=True,
        clients_connected=1000,
        loop=loop,
    )
    return row.as_dict()


def test_the_finding_holds_uvloop_against_asyncio_per_technique() -> None:
    text = loop_finding(
        results_of(
            loop_row("websocket", "asyncio", 20.0),
            loop_row("websocket", "uvloop", 15.0),
            loop_row("sse", "uvloop", 10.0),  # no asyncio row: nothing said of SSE
        )
    )
    assert text == (
        "WebSocket on uvloop vs asyncio's loop (1,000 clients at 20 msg/s): CPU per delivered "
        "message 15 vs 20 µs (0.75×); latency p50 2 vs 2 ms, p99 9 vs 9 ms; RSS per client "
        "12 vs 12 KB."
    )
