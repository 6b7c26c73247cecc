"""A delivery in order goes straight into the generator's log; a gap or a message out of
order is also a failed Locust request, so it shows in Locust's table.

The users run in a process of their own: ``import locust`` patches the interpreter for gevent,
and this one is shared with every other test.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROGRAM = """
import json
from locust.env import Environment
from pushlab.bench.measuring.generator import DeliveryLog
from pushlab.bench.measuring.locustfile import DELIVER, WebSocketUser

def delivered(with_log, ids):
    environment = Environment(user_classes=[WebSocketUser])
    log, events = DeliveryLog(), []
    environment.events.request.add_listener(
        lambda **e: events.append(e) if e["request_type"] == DELIVER else None
    )
    if with_log:
        log.attach(environment)
    user = WebSocketUser(environment)
    user.cursor = 4
    for message_id in ids:
        user.deliver({"id": message_id, "ts": 100.0}, 100.5, 20, kernel_at=100.25)
    WebSocketUser.delivery_log = None
    return {
        "logged": list(log.message_id),
        "kernel_at": list(log.kernel_at),
        "events": [type(e["exception"]).__name__ for e in events],
        "cursor": user.cursor,
    }

print(json.dumps({"log": delivered(True, [5, 6, 9, 8]), "none": delivered(False, [5, 6])}))
"""


def test_in_order_deliveries_go_to_the_log_and_failures_to_locust_too() -> None:
    finished = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    seen = json.loads(finished.stdout.splitlines()[-1])
    # 7 skipped (a gap), then 8 late (out of order): both logged, both Locust failures
    assert seen["log"] == {
        "logged": [5, 6, 9, 8],
        "kernel_at": [100.25] * 4,
        "events": ["Gap", "OutOfOrder"],
        "cursor": 9,
    }
    # without the harness's log (``locust -f`` on its own) every delivery is a Locust request
    assert seen["none"]["events"] == ["NoneType", "NoneType"] and seen["none"]["logged"] == []
