"""The proxy sweep's findings and columns, on hand-made rows and a hand-made window.

The rows are built here, not measured: each test checks that a sentence follows from the numbers
it was given, and that the columns are computed from the record and the server's counters.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pushlab.bench.analysis import proxy_findings
from pushlab.bench.analysis.proxy_window import ProxyRecord, proxy_columns
from pushlab.bench.analysis.results import Results
from pushlab.bench.analysis.row import ResultRow
from pushlab.bench.core.scenario import Scenario
from pushlab.bench.core.window import Reduced, Window, WindowOverhead


def proxy_row(technique: str, profile: str, ignores: bool = False, **columns: object) -> dict:
    return ResultRow.of(
        sweep="proxy",
        scenario=f"{technique}-{profile}{'-noaccel' if ignores else ''}",
        technique=technique,
        clients=100,
        publish_rate=1.0,
        poll_interval=1.0 if technique == "polling" else math.nan,
        load_achieved=True,
        proxy_profile=profile,
        proxy_ignores_accel_buffering=ignores,
        **columns,
    ).as_dict()


def results(rows: list[dict]) -> Results:
    return Results(Path("made-up"), pd.DataFrame(rows), {"synthetic": True})


def test_the_buffering_finding_says_which_stream_got_no_event_within_the_wait() -> None:
    rows = [
        proxy_row("sse", "direct", sse_first_event_ms=2.0, sse_probe_wait_s=5.0),
        proxy_row("sse", "nginx-default", sse_first_event_ms=3.0, sse_probe_wait_s=5.0),
        proxy_row("sse", "nginx-default", True, sse_first_event_ms=math.nan, sse_probe_wait_s=5.0),
        proxy_row("sse", "nginx-tuned", True, sse_first_event_ms=4.0, sse_probe_wait_s=5.0),
    ]
    sentence = proxy_findings.buffering_finding(results(rows))
    assert sentence is not None
    assert "X-Accel-Buffering ignored: first event none within 5 s" in sentence
    assert "honouring the header: 3 ms" in sentence and "direct: 2 ms" in sentence
    assert "header ignored too: 4 ms" in sentence


def test_the_hold_finding_gives_each_profiles_status_and_time() -> None:
    hold = {"held_poll_s": 90.0}
    rows = [
        proxy_row(
            "longpoll", "nginx-default", held_poll_status=504, held_poll_ended_s=60.0, **hold
        ),
        proxy_row("longpoll", "nginx-tuned", held_poll_status=200, held_poll_ended_s=90.0, **hold),
        proxy_row("longpoll", "direct", held_poll_status=200, held_poll_ended_s=90.0, **hold),
    ]
    sentence = proxy_findings.hold_finding(results(rows))
    assert sentence == (
        "A long poll asking for a 90 s hold: through nginx-default status 504 after 60 s; "
        "through nginx-tuned status 200 after 90 s; direct status 200 after 90 s."
    )


def test_no_hold_probe_no_hold_finding() -> None:
    rows = [proxy_row("longpoll", "nginx-default", held_poll_s=math.nan)]
    assert proxy_findings.hold_finding(results(rows)) is None


def test_the_upgrade_and_header_findings_quote_the_probes() -> None:
    rows = [
        proxy_row("websocket", "nginx-default", upgrade_status=505),
        proxy_row("websocket", "nginx-tuned", upgrade_status=101),
        proxy_row(
            "polling", "nginx-tuned", request_header_bytes=291.0, response_header_bytes=194.0
        ),
        proxy_row("polling", "nginx-h2", request_header_bytes=18.0, response_header_bytes=91.0),
    ]
    upgrade = proxy_findings.upgrade_finding(results(rows))
    assert upgrade is not None and "status 505; through nginx-tuned 101" in upgrade
    header = proxy_findings.header_finding(results(rows))
    assert (
        header is not None and "HTTP/1.1 291 up, 194 down; HTTP/2 (HPACK) 18 up, 91 down" in header
    )


def test_a_run_without_proxy_rows_has_no_proxy_findings() -> None:
    empty = results([ResultRow.of(sweep="clients", scenario="sse-c10", technique="sse").as_dict()])
    for finding in (
        proxy_findings.buffering_finding,
        proxy_findings.hold_finding,
        proxy_findings.upgrade_finding,
        proxy_findings.header_finding,
        proxy_findings.upstream_finding,
        proxy_findings.cost_finding,
    ):
        assert finding(empty) is None


def window(record: ProxyRecord) -> Reduced:
    before = {"messages_delivered": 0, "bytes_in": 0, "bytes_out": 0, "tcp_connections_opened": 5}
    after = {
        "messages_delivered": 200,
        "bytes_in": 1_000,
        "bytes_out": 21_000,
        "tcp_connections_opened": 7,
    }
    recorded = Window(
        scenario=Scenario("sse", 100, 1.0, None, 2.0, 0.5),
        before=before,
        after=after,
        overhead=WindowOverhead(bytes_in=500, bytes_out=1_500, extended_s=0.0),
        opened_at=0.0,
        start_monotonic=0.0,
        generator_cpu_percent=0.0,
        baseline_rss_mb=0.0,
        samples=(),
        generator_report={},
        deliveries={},
        records={"proxy": record},
    )
    return Reduced(recorded, recorded, set(), np.zeros(0, dtype=np.int64))


def test_the_proxys_cost_is_per_message_the_server_delivered() -> None:
    record = ProxyRecord("nginx-tuned", False, cpu_s=0.01, window_s=2.0, client_bytes=30_000)
    row = proxy_columns(window(record), record)
    assert row["proxy_cpu_us_per_message"] == pytest.approx(50.0)  # 10 ms / 200
    assert row["proxy_cpu_percent"] == pytest.approx(0.5)
    assert row["proxy_client_bytes_per_message"] == pytest.approx(150.0)
    # 22,000 metered, less the harness's own 2,000 of /stats: 20,000 over 200 messages
    assert row["proxy_server_bytes_per_message"] == pytest.approx(100.0)
    assert row["proxy_server_connections"] == 2


def test_a_direct_row_has_no_proxy_cost_but_the_servers_bytes() -> None:
    record = ProxyRecord("direct", False)
    row = proxy_columns(window(record), record)
    assert math.isnan(row["proxy_cpu_us_per_message"])
    assert math.isnan(row["proxy_client_bytes_per_message"])
    assert row["proxy_server_bytes_per_message"] == pytest.approx(100.0)


def test_the_upstream_finding_counts_server_connections_per_client_request() -> None:
    rows = [
        proxy_row(
            "longpoll", "nginx-default", proxy_client_requests=900, proxy_server_connections=900
        ),
        proxy_row(
            "longpoll", "nginx-tuned", proxy_client_requests=900, proxy_server_connections=90
        ),
    ]
    sentence = proxy_findings.upstream_finding(results(rows))
    assert sentence is not None and "nginx-default 1, nginx-tuned 0.1 (" in sentence
