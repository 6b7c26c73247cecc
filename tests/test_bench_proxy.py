"""The proxy sweep end to end, small: polling and SSE direct and through nginx-h2, whose
clients speak HTTP/2 (``bench/measuring/h2_users.py``). Counts and bytes, never durations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.nginx_fixture import nginx  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("nginx")]


@pytest.fixture(scope="module")
def proxy_run(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("proxy") / "run"
    command = [sys.executable, "-m", "pushlab.bench", "--quick", "--sweeps", "proxy"]
    command += ["--proxy-profiles", "nginx-h2", "--techniques", "polling,sse"]
    command += ["--base-clients", "4", "--duration", "1", "--warmup", "0.5"]
    command += ["--no-trace", "--out", str(out)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "Proxy sweep" in (Path(out) / "report.md").read_text()
    return pd.read_csv(out / "summary.csv").set_index("scenario")


def test_every_technique_runs_direct_and_through_the_proxy(proxy_run: pd.DataFrame) -> None:
    assert sorted(proxy_run["proxy_profile"]) == ["direct", "direct", "nginx-h2", "nginx-h2"]
    assert proxy_run["load_achieved"].all()
    assert (proxy_run["messages_lost"] == 0).all()


def test_http2_clients_keep_one_connection_each_and_send_their_polls_as_streams(
    proxy_run: pd.DataFrame,
) -> None:
    h2 = proxy_run[proxy_run["proxy_profile"] == "nginx-h2"].set_index("technique")
    assert (h2["proxy_client_connections_open"] == 4).all()  # one per client, both techniques
    assert h2.loc["polling", "proxy_client_connections"] == 0  # none opened in the window…
    assert h2.loc["polling", "proxy_client_requests"] > 0  # …yet the polls went on
    assert h2.loc["polling", "header_protocol"] == "h2"


def test_hpack_makes_a_repeated_polls_request_headers_smaller(proxy_run: pd.DataFrame) -> None:
    polling = proxy_run[proxy_run["technique"] == "polling"].set_index("proxy_profile")
    assert (
        polling.loc["nginx-h2", "request_header_bytes"]
        < polling.loc["direct", "request_header_bytes"]
    )
