"""The generators' side of the line protocol with the harness (``window.py``'s ``Generator``).

Every generator (Locust's, ``generator.py``; the browser lane's, ``browser_generator.py``)
writes JSON events to stdout and reads ``stop B DRAIN_S`` from stdin; this module holds the two
ends once, so that neither generator imports the other (Locust's monkey-patches the process).
"""

from __future__ import annotations

import json
from typing import Any


def emit(event: str, **fields: Any) -> None:
    """One event to the harness: ``{"event": ..., ...}`` on a line of its own."""
    print(json.dumps({"event": event, **fields}), flush=True)


def parse_stop(line: str) -> tuple[int, float, str]:
    """``stop B DRAIN_S [FEED_ID]``: the window's last id, the drain's limit, and the feed the
    window closed on ("" when not given: a server without feed ids); end of input: 0, 0, ""."""
    command = line.split()
    last_id = int(command[1]) if len(command) >= 2 and command[0] == "stop" else 0
    drain_s = float(command[2]) if len(command) >= 3 else 0.0
    feed_id = command[3] if len(command) >= 4 else ""
    return last_id, drain_s, feed_id
