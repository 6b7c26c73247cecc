"""Every server of a run ranked, and the targets against the deployed peers, from made-up rows:
the findings order, divide and judge; they do not measure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pushlab.bench.analysis.peer_ranking import ranking_finding, targets_finding
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.row import ResultRow


def row(technique: str, cpu_us: float, rss_kb: float, p50_ms: float, clients: int = 1000) -> dict:
    return ResultRow.of(
        sweep="clients",
        scenario=f"{technique}-c{clients}-r20",
        technique=technique,
        clients=clients,
        publish_rate=20.0,
        cpu_us_per_message=cpu_us,
        rss_kb_per_client=rss_kb,
        latency_p50_ms=p50_ms,
        latency_p99_ms=p50_ms * 3,
        load_achieved=True,
        clients_connected=clients,
    ).as_dict()


def results(*rows: dict, floor_us: float | None = None) -> Results:
    environment = {"peer_versions": {"picows": "picows 9.9", "node-ws": "ws 1.0, Node.js 20"}}
    if floor_us is not None:
        environment["loopback_send_floor"] = {"send_cpu_us": floor_us}
    return Results(Path("made-up"), pd.DataFrame(list(rows)), environment)


RUN = (
    row("websocket", 4.0, 9.0, 2.0),
    row("sse", 6.0, 20.0, 3.0),
    row("picows", 3.0, 12.0, 1.5),
    row("node-ws", 6.0, 30.0, 2.5),
    row("sse-starlette", 10.0, 40.0, 4.0),
    row("picows", 1.0, 1.0, 1.0, clients=10),  # another load: not ranked with these
)


def test_every_server_at_the_shared_load_is_ranked_with_the_peers_versions() -> None:
    text = ranking_finding(results(*RUN))
    assert text is not None
    assert text.startswith("Every server of this run at 1,000 clients and 20 msg/s")
    assert (
        "CPU per delivered message: 1. picows 3 µs; 2. pushlab WebSocket 4 µs; 3. pushlab SSE "
        "6 µs; 4. Node.js ws 6 µs; 5. sse-starlette (uvicorn) 10 µs."
    ) in text
    assert "RSS per client: 1. pushlab WebSocket 9 KiB; 2. picows 12 KiB" in text
    assert "Versions: picows: picows 9.9; Node.js ws: ws 1.0, Node.js 20." in text


def test_the_targets_are_judged_against_the_peers_of_the_same_run() -> None:
    text = targets_finding(results(*RUN, floor_us=1.25))
    assert text is not None
    assert "WebSocket CPU per message 4 µs vs picows 3 µs: 1.33× (target ≤ 1×: not met)" in text
    assert "vs Node.js ws 6 µs: 0.67× (target ≤ 0.8×: met)" in text
    assert "SSE CPU per message 6 µs vs sse-starlette (uvicorn) 10 µs: 0.60× (target ≤ 0.5×" in text
    assert "textbook" not in text  # the run did not measure the textbook loop: nothing said
    assert "a bare loopback send() on this machine: 1.25 µs" in text
    assert "WebSocket RSS per client 9 KiB (target ≤ 10 KiB: met), the lowest peer's 12 KiB" in text
    assert "WebSocket p50 2 ms vs the fastest peer's 1.5 ms (picows: no higher not met)" in text


def test_a_run_without_peers_or_without_the_target_load_says_nothing() -> None:
    assert ranking_finding(results(RUN[0], RUN[1])) is None
    assert targets_finding(results(row("websocket", 4.0, 9.0, 2.0, clients=100))) is None
