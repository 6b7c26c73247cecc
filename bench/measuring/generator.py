"""The load generator: Locust as a library, one technique's users, driven by the harness.

    python -m pushlab.bench.measuring.generator websocket --host http://127.0.0.1:8003 \
        --clients 1000 --out raw.npz

It runs in a process of its own (``import locust`` monkey-patches the whole interpreter for
gevent), spawns the users of ``bench/measuring/locustfile.py`` and talks to the harness in lines:

- to stdout, JSON: ``{"event": "progress", "connected": k, "clients": n}`` while users connect,
  ``{"event": "ready", ...}`` once all have (or the connect timeout passed), and
  ``{"event": "done", ...}`` with Locust's request and failure counts at the end;
- from stdin: ``stop B DRAIN_S`` — the measurement window closed at message id ``B``: wait
  until every connected user holds ``B`` (while some user still makes progress at least every
  ``DRAIN_S`` seconds or has a reconnect attempt due, up to ``DRAIN_LIMIT_S``; a user still
  reconnecting holds nothing: ``drain.py``), then stop the users and write every delivery,
  unrounded, to ``--out``. End of input means the same with ``B = 0``.

The ``.npz`` holds one row per delivery (``user``, ``message_id``, ``ts``, ``received_at``, and
``kernel_at``, when the kernel received it (NaN where unknown: ``wire_socket.py``), in
arrival order) and one row per user (``user_number``, ``connected_at`` (NaN if never),
``disconnects``): ``bench/analysis/measurement.py`` computes every figure from these. For the
fault sweep it also holds each delivery's ``feed`` (0, then 1 after a server restart), every
reconnect attempt (``reconnect_user``, ``reconnect_at``) and every gap the server announced
(``gap_user``, ``gap_feed``, ``gap_from``, ``gap_to``), or that a user met as a new feed: the
old feed's ids after its cursor, ``gap_to`` = ``OPEN_END`` (``core/window.py``). With
``--radio-sample-every K`` it also holds every write of every K-th user (``radio_user``,
``radio_at``, ``radio_bytes``: ``bench/measuring/radio_recorder.py``).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from array import array
from collections import Counter
from pathlib import Path
from typing import Any

import gevent
import numpy as np
from locust.env import Environment  # importing Locust patches sockets for gevent

from pushlab import techniques
from pushlab.bench.measuring.arguments import (
    DRAIN_LIMIT_S,
    MAX_CLIENTS,
    MAX_POLL_INTERVAL_S,
    one_number,
    seconds,
)
from pushlab.bench.measuring.drain import Drain
from pushlab.bench.measuring.generator_protocol import emit, parse_stop
from pushlab.bench.measuring.locustfile import (
    DELIVER,
    LongPollUser,
    PollingUser,
    PushlabUser,
    SSEUser,
    WebSocketUser,
)
from pushlab.bench.measuring.peer_users import PEER_USERS
from pushlab.bench.measuring.radio_recorder import RadioRecorder, install
from pushlab.command_line import CommandParser
from pushlab.limits import raise_open_files_limit
from pushlab.reconnect_policy import NO_JITTER_POLICY, RECONNECT_POLICY

TECHNIQUE_USERS: dict[str, type[PushlabUser]] = {
    user.technique: user for user in (PollingUser, LongPollUser, WebSocketUser, SSEUser)
}
"""Each technique's Locust user, by the technique's name (``pushlab.techniques.NAMES``)."""

USER_CLASSES: dict[str, type[PushlabUser]] = {
    **TECHNIQUE_USERS,
    **PEER_USERS,  # issue 14: the peer servers' users
}


class DeliveryLog:
    """Every delivery, as raw numbers (Locust's statistics round to whole ms): the users add
    those in order themselves, and the gaps and reorderings come through ``DELIVER`` events."""

    def __init__(self) -> None:
        self.user = array("l")
        self.feed = array("l")
        self.message_id = array("q")
        self.ts = array("d")
        self.received_at = array("d")
        self.kernel_at = array("d")

    def add(
        self,
        user: int,
        feed: int,
        message_id: int,
        ts: float,
        received_at: float,
        kernel_at: float = math.nan,
    ) -> None:
        """One delivery (``PushlabUser.delivery_log``: the users call it directly)."""
        self.user.append(user)
        self.feed.append(feed)
        self.message_id.append(message_id)
        self.ts.append(ts)
        self.received_at.append(received_at)
        self.kernel_at.append(kernel_at)

    def on_request(self, request_type: str, context: dict[str, Any], **_kwargs: Any) -> None:
        """A ``DELIVER`` the users reported to Locust: a gap or a message out of order."""
        if request_type == DELIVER:
            self.add(
                context["user"],
                context["feed"],
                context["message_id"],
                context["ts"],
                context["received_at"],
                context.get("kernel_at", math.nan),
            )

    def attach(self, environment: Environment) -> None:
        """Take every delivery of ``environment``'s users: in order straight from them, the
        others from Locust's request event."""
        environment.events.request.add_listener(self.on_request)
        for user_class in environment.user_classes:
            user_class.delivery_log = self.add


def running_users(environment: Environment) -> list[PushlabUser]:
    assert environment.runner is not None
    # A worker runner's group can hold a greenlet that is not a user: keep only the users.
    return [greenlet.args[0] for greenlet in environment.runner.user_greenlets if greenlet.args]


def wait_until_connected(environment: Environment, clients: int, timeout_s: float) -> bool:
    """Report progress until every user can hear news; False if the timeout came first."""
    deadline = time.monotonic() + timeout_s
    last_report = 0.0
    while True:
        connected = sum(user.connected_at is not None for user in running_users(environment))
        if connected >= clients:
            return True
        if time.monotonic() > deadline:
            return False
        if time.monotonic() - last_report >= 0.5:
            emit("progress", connected=connected, clients=clients)
            last_report = time.monotonic()
        gevent.sleep(0.05)


def read_command() -> str:
    """One line from the harness, read in a native thread so the users keep running."""
    return gevent.get_hub().threadpool.apply(sys.stdin.readline)


def read_stop() -> tuple[int, float, str]:
    """``stop B DRAIN_S [FEED_ID]`` from the harness: the window's last id, the drain's limit,
    and the feed the window closed on."""
    return parse_stop(read_command())


def drain(environment: Environment, last_id: int, quiet_s: float, feed_id: str = "") -> bool:
    """Wait until every connected user has received message ``last_id``: as long as some user
    still moves its cursor at least every ``quiet_s`` seconds, or has a reconnect attempt due,
    up to ``DRAIN_LIMIT_S`` (the rule, and why a user that is away holds nothing: ``drain.py``).

    A fixed drain counted clients that were behind (10,000 clients on one generator read the
    window's end seconds after it closed) as clients that lost messages: this one tells late
    from lost. A user that is stuck (no progress for ``quiet_s``) ends the wait early.
    """
    watch = Drain(last_id, quiet_s, PushlabUser.reconnect_policy.cap_s, feed_id=feed_id)
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_LIMIT_S:
        users = [u for u in running_users(environment) if u.connected_at is not None]
        verdict = watch.look(users, time.monotonic())
        if verdict is not None:
            return verdict
        gevent.sleep(0.02)
    return False


def connection_closes(users: list[PushlabUser]) -> dict[str, int]:
    """Why the users' HTTP connections closed, summed (``wire_clients.WireHTTP.closes``)."""
    total: Counter[str] = Counter()
    for user in users:
        if user.http is not None:
            total.update(user.http.closes)
    return dict(total.most_common())


def locust_counts(environment: Environment) -> dict[str, Any]:
    stats = environment.stats
    requests = {
        f"{entry.method} {entry.name}": [entry.num_requests, entry.num_failures]
        for entry in stats.entries.values()
    }
    errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)[:5]
    return {
        "requests": requests,
        "errors": [f"{e.method} {e.name}: {e.error} ×{e.occurrences}" for e in errors],
    }


def save(
    path: Path, log: DeliveryLog, users: list[PushlabUser], radio: RadioRecorder | None = None
) -> None:
    np.savez(path, **delivery_arrays(log, users), **(radio.arrays() if radio else {}))


def delivery_arrays(log: DeliveryLog, users: list[PushlabUser]) -> dict[str, np.ndarray]:
    """What ``save`` writes (and what a Locust worker sends its master, ``generator_cluster``)."""
    users = sorted(users, key=lambda user: user.number)
    return dict(
        user=np.array(log.user, dtype=np.int64),
        message_id=np.array(log.message_id, dtype=np.int64),
        ts=np.array(log.ts, dtype=np.float64),
        received_at=np.array(log.received_at, dtype=np.float64),
        kernel_at=np.array(log.kernel_at, dtype=np.float64),
        user_number=np.array([u.number for u in users], dtype=np.int64),
        connected_at=np.array(
            [np.nan if u.connected_at is None else u.connected_at for u in users], dtype=np.float64
        ),
        disconnects=np.array([u.disconnects for u in users], dtype=np.int64),
        **reconnects_and_gaps(log, users),
    )


def reconnects_and_gaps(log: DeliveryLog, users: list[PushlabUser]) -> dict[str, np.ndarray]:
    """The fault sweep's arrays: each delivery's feed, each reconnect, each announced gap."""
    reconnects = [(u.number, at) for u in users for at in u.reconnected_at]
    gaps = [(u.number, feed, gap.from_id, gap.to_id) for u in users for feed, gap in u.gaps]
    return {
        "feed": np.array(log.feed, dtype=np.int64),
        "reconnect_user": np.array([r[0] for r in reconnects], dtype=np.int64),
        "reconnect_at": np.array([r[1] for r in reconnects], dtype=np.float64),
        "gap_user": np.array([g[0] for g in gaps], dtype=np.int64),
        "gap_feed": np.array([g[1] for g in gaps], dtype=np.int64),
        "gap_from": np.array([g[2] for g in gaps], dtype=np.int64),
        "gap_to": np.array([g[3] for g in gaps], dtype=np.int64),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def build_parser(
    prog: str = "python -m pushlab.bench.measuring.generator",
) -> argparse.ArgumentParser:
    parser = CommandParser(prog=prog, description=__doc__)
    parser.add_argument("technique", choices=sorted(USER_CLASSES))
    parser.add_argument("--host", required=True, help="the server, e.g. http://127.0.0.1:8001")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument(
        "--poll-interval",
        type=seconds(0, MAX_POLL_INTERVAL_S, zero_allowed=True),
        default=1.0,
        help="polling only (s; 0: a closed loop, each client asks again as its answer arrives)",
    )
    parser.add_argument(
        "--hold",
        type=seconds(0, techniques.LONGPOLL_MAX_HOLD_S, zero_allowed=False),
        default=techniques.LONGPOLL_HOLD_S,
        help="long polling only: seconds the server may hold a poll",
    )
    parser.add_argument(
        "--no-resume", action="store_true", help="after a reconnect, start from the present"
    )
    parser.add_argument(
        "--http2",
        action="store_true",
        help="polling, long polling and SSE over HTTP/2 (an https host that offers h2); "
        "WebSocket stays HTTP/1.1",
    )
    parser.add_argument(
        "--no-jitter", action="store_true", help="reconnect after the whole backoff ceiling"
    )
    parser.add_argument("--spawn-rate", type=float, default=0.0, help="users/s (0: all in ~1 s)")
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    parser.add_argument("--out", type=Path, required=True, help="where to write the .npz")
    parser.add_argument(
        "--radio-sample-every",
        type=one_number(int, 0, MAX_CLIENTS),
        default=0,
        metavar="K",
        help="record every write of every K-th user, for the radio model (0: none)",
    )
    return parser


def configure_users(args: argparse.Namespace) -> type[PushlabUser]:
    """The technique's user class, aimed at the server with the run's settings."""
    user_class = USER_CLASSES[args.technique]
    if args.http2:  # imported here: httpx is a tenth of a second every generator would pay
        from pushlab.bench.measuring.h2_users import H2_USERS

        user_class = H2_USERS.get(args.technique, user_class)
    user_class.host = args.host
    PollingUser.poll_interval_s = args.poll_interval
    LongPollUser.hold_s = args.hold
    LongPollUser.network_timeout = max(
        LongPollUser.network_timeout, args.hold + techniques.NETWORK_TIMEOUT_MARGIN_S
    )  # Locust's default (60 s) would end a longer hold itself
    PushlabUser.resume = not args.no_resume
    PushlabUser.reconnect_policy = NO_JITTER_POLICY if args.no_jitter else RECONNECT_POLICY
    return user_class


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files_limit()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("locust.runners").setLevel(logging.ERROR)  # "spawn rate > 100" and CPU
    # warnings: the harness measures this process's CPU itself.

    user_class = configure_users(args)
    radio = install(args.radio_sample_every) if args.radio_sample_every > 0 else None
    environment = Environment(user_classes=[user_class])
    log = DeliveryLog()
    log.attach(environment)
    runner = environment.create_local_runner()
    runner.start(args.clients, spawn_rate=args.spawn_rate or max(args.clients, 1.0))

    all_connected = wait_until_connected(environment, args.clients, args.connect_timeout)
    connected = sum(u.connected_at is not None for u in running_users(environment))
    emit("ready", connected=connected, clients=args.clients, timed_out=not all_connected)

    last_id, drain_s, feed_id = read_stop()
    drained = drain(environment, last_id, drain_s, feed_id) if last_id > 0 else True

    users = running_users(environment)
    closes = connection_closes(users)
    runner.quit()
    save(args.out, log, users, radio)
    emit(
        "done",
        deliveries=len(log.user),
        drained=drained,
        connection_closes=closes,
        **locust_counts(environment),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
