"""One small real run of the receiver sweep: the rows carry wire latency and the generator's
delay for WebSocket and SSE (kernel timestamps on loopback), and the independent receiver's
latency beside them. Values are not judged: targets are measured by the bench, not by tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def receiver_run(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("wire") / "run"
    argv = ["--sweeps", "receiver", "--techniques", "websocket,sse", "--clients", "5"]
    argv += ["--base-rate", "5", "--duration", "2", "--warmup", "0.5"]
    argv += ["--receiver-connections", "2", "--no-trace", "--no-report", "--out", str(out)]
    finished = subprocess.run(
        [sys.executable, "-m", "pushlab.bench", *argv],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return pd.read_csv(Path(out) / "summary.csv")


@pytest.mark.slow
def test_a_real_run_fills_the_wire_and_receiver_columns(receiver_run: pd.DataFrame) -> None:
    assert sorted(receiver_run["technique"]) == ["sse", "websocket"]
    for _, row in receiver_run.iterrows():
        assert row["messages_delivered"] > 0, row["scenario"]
        assert row["wire_stamped"] > 0, row["scenario"]
        for name in (
            "wire_latency_p50_ms",
            "wire_latency_p99_ms",
            "generator_delay_p50_ms",
            "generator_share",
            "receiver_latency_p50_ms",
        ):
            assert not pd.isna(row[name]), (row["scenario"], name)
        assert row["generator_delay_p50_ms"] >= 0  # the kernel has it before user code
        assert row["receiver_missed"] == 0
        assert row["missed"] == 0
