"""``--profile FILE``: a cProfile of the whole server run, written when the server stops.

The fan-out issue's question is *where the time goes* per delivered message (frame building,
task wake-ups, metering). cProfile answers it in the standard library's own format: read it with
``python -m pstats FILE`` (``sort tottime``, ``stats 20``) or any viewer of ``.prof`` files.
Profiling slows the server: a profiled run shows the shares of the time, not the speed.
"""

from __future__ import annotations

import contextlib
import cProfile
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def profiled(path: Path | None) -> Iterator[None]:
    """Profile the block into ``path`` (nothing happens when ``path`` is None)."""
    if path is None:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            profile.dump_stats(path)
        except OSError as error:
            sys.stderr.write(f"cannot write the profile {path}: {error.strerror or error}\n")
