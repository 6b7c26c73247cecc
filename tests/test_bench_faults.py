"""The fault sweep end to end (``--quick``, one fault): a drop, and every technique resumes.

Counts, never durations: how many messages were lost or duplicated, how many clients
reconnected and recovered. The drop resets every connection through the emulator at once, a
third of the way into the window, while the publisher keeps publishing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def drop_run(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("faults") / "run"
    command = [sys.executable, "-m", "pushlab.bench", "--quick", "--sweeps", "faults"]
    command += ["--faults", "drop", "--no-trace", "--out", str(out)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert (Path(out) / "report.md").exists()
    return pd.read_csv(out / "summary.csv").set_index("technique")


@pytest.mark.slow
def test_every_technique_meets_the_drop_once(drop_run: pd.DataFrame) -> None:
    assert set(drop_run.index) == {"polling", "longpoll", "websocket", "sse"}
    assert (drop_run["fault"] == "drop").all()
    assert drop_run["resume"].astype(bool).all()


@pytest.mark.slow
def test_resuming_techniques_lose_nothing_on_a_drop(drop_run: pd.DataFrame) -> None:
    assert (drop_run["messages_published"] > 0).all()
    assert (drop_run["messages_lost"] == 0).all()
    assert (drop_run["missed"] == 0).all()
    assert (drop_run["duplicated"] == 0).all()


@pytest.mark.slow
def test_every_held_connection_was_cut_and_every_client_came_back(drop_run: pd.DataFrame) -> None:
    held = drop_run.loc[["longpoll", "websocket", "sse"]]
    assert (held["reconnects"] >= held["clients_connected"]).all()
    assert (drop_run["recovered_clients"] == drop_run["clients_connected"]).all()
    assert (drop_run["recovery_p50_ms"] > 0).all()
    assert (held["peak_reconnects_per_s"] > 0).all()
