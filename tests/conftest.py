"""Shared fixtures: servers started in-process through the production runner, or as processes."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager

import pytest

from pushlab.servers.app import make_app
from pushlab.servers.config import ServerConfig
from pushlab.servers.runner import RunningServer, start
from tests.scheduling import (  # noqa: F401  (hooks: xdist groups)
    pytest_collection_finish,
    pytest_collection_modifyitems,
)

StartServer = Callable[..., Awaitable[RunningServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """``await start_server("longpoll", publish_rate=0, ...)`` → a RunningServer on a free port."""
    running: list[RunningServer] = []

    async def _start(technique: str, **config: object) -> RunningServer:
        server = await start(make_app(technique, ServerConfig(**config)), "127.0.0.1", 0)  # type: ignore[arg-type]
        running.append(server)
        return server

    yield _start
    for server in running:
        await server.stop()


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for a condition another task will make true (a bounded wait, not a timing claim)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


LISTENING = re.compile(r"listening on (http://\S+)")


@contextmanager
def server_process(technique: str, *args: str) -> Iterator[str]:
    """Run ``python -m pushlab.servers TECHNIQUE --port 0 ...``; yield its URL, then stop it.

    The built-in publisher is off unless ``args`` names a ``--rate``: a test decides what is
    published (the command's own default publishes for the live lesson)."""
    quiet = [] if "--rate" in args else ["--rate", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "pushlab.servers", technique, "--port", "0", *quiet, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = LISTENING.search(line)
        assert match, (
            f"server did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
        )
        yield match.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
