"""``--workers N`` beyond loopback: the teacher key is printed once, and reaches the workers
through their environment, never their command lines (which every local user can read)."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil

from pushlab.servers.__main__ import config_from, parse_args
from pushlab.servers.teacher import KEY_ENV
from pushlab.servers.workers import worker_commands, worker_environment
from tests.redis_fixture import redis_server, redis_url  # noqa: F401 (fixtures)

WILDCARD = ["polling", "--host", "0.0.0.0", "--workers", "2", "--feed", "redis://127.0.0.1:1/0"]


def test_the_workers_command_lines_do_not_carry_the_key() -> None:
    config = config_from(parse_args(WILDCARD))
    assert config.teacher_key  # beyond loopback: a key is made
    for command in worker_commands(WILDCARD, 8001, 2):
        assert config.teacher_key not in " ".join(command)
    assert worker_environment(config)[KEY_ENV] == config.teacher_key


def test_the_key_is_printed_once_and_every_worker_holds_it(redis_url: str) -> None:  # noqa: F811
    """On loopback (tests bind nowhere else) the key comes from the environment, the same way
    a worker receives it."""
    key = "the-teachers-key"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pushlab.servers",
            "polling",
            "--port",
            "0",
            "--workers",
            "2",
            "--feed",
            redis_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, KEY_ENV: key},
    )
    try:
        assert process.stdout is not None
        lines = []
        while not any("workers on" in line for line in lines):
            lines.append(process.stdout.readline())
            assert lines[-1], f"the server stopped: {lines}"
        lines.append(process.stdout.readline())
        assert sum(f"teacher key (header X-Pushlab-Key): {key}" in line for line in lines) == 1
        workers = psutil.Process(process.pid).children()
        assert len(workers) == 2
        for worker in workers:
            assert key not in " ".join(worker.cmdline())
            assert worker.environ().get(KEY_ENV) == key
    finally:
        process.terminate()
        process.wait(timeout=20)
