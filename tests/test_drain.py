"""The drain after a window: late is not lost, and a client still away has not caught up.

Synthetic clients and clocks (``bench/measuring/drain.py`` is pure): no test here waits on a
clock. The case that matters is a server restart on the memory feed: the new feed counts from #1,
so a client that has not reconnected yet still holds a cursor of the old feed, larger than the
new feed's last id.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass

from pushlab.bench.measuring.drain import Drain, holds

NEW_FEED_LAST_ID = 15  # the window closed on the restarted server's feed, at #15
OLD_FEED_CURSOR = 80  # what a client kept from the killed server's feed
QUIET_S = 3.0
LONGEST_WAIT_S = 10.0  # the reconnect policy's cap


@dataclass
class Client:
    cursor: int
    away: bool = False
    reconnect_due_at: float = -math.inf
    feed_id: str = ""


def test_a_client_away_holds_nothing_whatever_its_cursor() -> None:
    assert not holds(Client(OLD_FEED_CURSOR, away=True), NEW_FEED_LAST_ID)
    assert holds(Client(NEW_FEED_LAST_ID), NEW_FEED_LAST_ID)
    assert not holds(Client(NEW_FEED_LAST_ID - 1), NEW_FEED_LAST_ID)


def test_a_client_that_has_not_yet_noticed_the_restart_holds_nothing_of_the_new_feed() -> None:
    """A polling client between two polls: not away, but its cursor is the old feed's."""
    unaware = Client(OLD_FEED_CURSOR, feed_id="old")
    assert not holds(unaware, NEW_FEED_LAST_ID, "new")
    assert holds(Client(NEW_FEED_LAST_ID, feed_id="new"), NEW_FEED_LAST_ID, "new")
    assert holds(unaware, NEW_FEED_LAST_ID)  # no feed ids (a peer): the cursor alone says it
    drain = Drain(NEW_FEED_LAST_ID, QUIET_S, LONGEST_WAIT_S, feed_id="new")
    assert drain.look([unaware], now=0.0) is None


def test_the_drain_is_over_once_every_client_holds_the_last_message() -> None:
    drain = Drain(NEW_FEED_LAST_ID, QUIET_S, LONGEST_WAIT_S)
    assert drain.look([Client(NEW_FEED_LAST_ID), Client(NEW_FEED_LAST_ID + 2)], now=0.0) is True


def test_the_drain_waits_for_a_client_away_from_a_restarted_server() -> None:
    back, away = Client(NEW_FEED_LAST_ID), Client(OLD_FEED_CURSOR, away=True)
    drain = Drain(NEW_FEED_LAST_ID, QUIET_S, LONGEST_WAIT_S)
    assert drain.look([back, away], now=0.0) is None


def test_a_client_waiting_out_its_backoff_is_late_not_stuck() -> None:
    """Its attempt is due after more than ``quiet_s`` without progress: the drain waits for it,
    and for ``quiet_s`` after it, then takes the client that came back."""
    client = Client(OLD_FEED_CURSOR, away=True, reconnect_due_at=8.0)
    drain = Drain(NEW_FEED_LAST_ID, QUIET_S, LONGEST_WAIT_S)
    assert drain.look([client], now=0.0) is None
    assert drain.look([client], now=8.0 + QUIET_S) is None
    client.away, client.cursor = False, 0  # /stats named the new feed: from #1 again
    assert drain.look([client], now=8.5 + QUIET_S) is None
    client.cursor = NEW_FEED_LAST_ID
    assert drain.look([client], now=9.0 + QUIET_S) is True


def test_a_client_that_makes_no_progress_and_has_no_attempt_due_is_stuck() -> None:
    client = Client(NEW_FEED_LAST_ID - 3, reconnect_due_at=1.0)
    drain = Drain(NEW_FEED_LAST_ID, QUIET_S, LONGEST_WAIT_S)
    assert drain.look([client], now=2.0) is None
    assert drain.look([client], now=2.0 + QUIET_S) is None
    assert drain.look([client], now=2.1 + QUIET_S) is False


def test_a_client_going_away_is_no_progress() -> None:
    """Clients that keep breaking (no attempt due yet) do not keep the drain waiting: each one
    that goes away lowers what the clients back hold, and that is not a step forward."""
    stuck, leaving = Client(NEW_FEED_LAST_ID - 3), Client(NEW_FEED_LAST_ID - 3)
    drain = Drain(NEW_FEED_LAST_ID, QUIET_S, LONGEST_WAIT_S)
    assert drain.look([stuck, leaving], now=0.0) is None
    leaving.away = True  # its connection broke; its attempt is not scheduled yet
    assert drain.look([stuck, leaving], now=QUIET_S) is None
    assert drain.look([stuck, leaving], now=QUIET_S + 0.1) is False  # quiet since 0 s


def test_attempts_that_keep_failing_hold_the_drain_no_longer_than_the_longest_wait() -> None:
    """A server that never came back: each failed attempt schedules another, and none is
    progress; the drain ends ``quiet_s`` after the longest backoff wait since the last."""
    client = Client(OLD_FEED_CURSOR, away=True, reconnect_due_at=4.0)
    drain = Drain(NEW_FEED_LAST_ID, QUIET_S, LONGEST_WAIT_S)
    assert drain.look([client], now=0.0) is None
    client.reconnect_due_at = 12.0  # the attempt at 4 s failed: the next is due at 12 s
    assert drain.look([client], now=4.0 + QUIET_S) is None
    client.reconnect_due_at = 20.0
    assert drain.look([client], now=LONGEST_WAIT_S + QUIET_S) is None
    assert drain.look([client], now=LONGEST_WAIT_S + QUIET_S + 0.1) is False


def test_the_generators_drain_does_not_take_a_client_away_as_caught_up() -> None:
    """Through ``generator.drain``, the function the Locust generator runs (in a process of its
    own: ``import locust`` patches the interpreter for gevent). With ``quiet_s = 0`` the client
    that never comes back ends the drain unfinished; the old rule (``cursor >= last_id``) had
    called it caught up at once, and the harness counted the new feed as lost to it."""
    program = f"""
import json, math
from types import SimpleNamespace
from pushlab.bench.measuring.generator import drain
back = SimpleNamespace(connected_at=1.0, cursor={NEW_FEED_LAST_ID}, away=False,
                       reconnect_due_at=-math.inf)
away = SimpleNamespace(connected_at=1.0, cursor={OLD_FEED_CURSOR}, away=True,
                       reconnect_due_at=-math.inf)
runner = SimpleNamespace(user_greenlets=[SimpleNamespace(args=(u,)) for u in (back, away)])
print(json.dumps(drain(SimpleNamespace(runner=runner), {NEW_FEED_LAST_ID}, 0.0)))
"""
    finished = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout.splitlines()[-1]) is False
