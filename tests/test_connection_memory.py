"""The memory probe: it holds real connections and says whose code keeps their memory."""

import re
import tracemalloc

import pytest

import pushlab
import pushlab.servers.websocket
from pushlab.bench.measuring.connection_memory import main, owner_of


def test_an_allocation_is_owned_by_the_package_whose_file_made_it() -> None:
    venv = "/x/.venv/lib/python3.11/site-packages"
    assert owner_of(f"{venv}/aiohttp/web_protocol.py") == "aiohttp"
    assert owner_of("/usr/lib/python3.11/asyncio/base_events.py") == "asyncio"
    assert owner_of(pushlab.servers.websocket.__file__) == "pushlab"
    assert owner_of(pushlab.__file__) == "pushlab"
    assert owner_of("/elsewhere/servers/websocket.py") == "other"  # not pushlab's folder
    assert owner_of(f"{venv}/multidict/__init__.py") == "other"


@pytest.mark.parametrize("technique", ["websocket", "sse"])
def test_the_probe_reports_the_growth_per_client_and_by_owner(technique: str, capsys) -> None:
    assert main([technique, "--clients", "20", "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"20 clients: \+[\d,]+ KiB traced, [\d,]+ B/client", lines[0])
    assert lines[1].startswith("  by owner: ") and "aiohttp" in lines[1]
    assert len(lines) == 2 + 3  # the three largest sites


def test_the_probe_stops_tracing_when_it_is_done() -> None:
    """Left on, tracemalloc made everything that ran after it in the process ~10x slower."""
    assert main(["sse", "--clients", "2", "--top", "1"]) == 0
    assert not tracemalloc.is_tracing()
