"""A scenario through nginx: the proxy in front of the server, its probes, and its cost.

**Where nginx runs.** On the harness's CPU, like the network emulator: not on the server's,
whose every cycle the row charges to the technique. Its CPU is read from its worker processes
over the window (``proxy_cpu_percent``, per delivered message ``proxy_cpu_us_per_message``).
Only the clients' traffic goes through it; the harness's ``/stats`` goes straight to the server.

**Probes**, before the clients arrive (the publisher is still off): one request of the row's
technique through the proxy, to say what broke (``proxy_probes.py``). A ``direct`` part runs the
same probes without a proxy, so that every proxied row has its reference beside it.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pushlab.bench.analysis.proxy_window import DIRECT, ProxyRecord, proxy_columns
from pushlab.bench.core.scenario import Part, ScenarioRun, Session
from pushlab.bench.measuring import proxy_probes
from pushlab.proxy import RunningNginx, start_nginx
from pushlab.proxy_profiles import profile as profile_named
from pushlab.techniques import LONGPOLL, POLLING, SSE, WEBSOCKET

PROBE_MARGIN_S = 15.0
"""How long past a long poll's hold its probe waits for an answer before calling it lost."""

PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ProxyPart(Part):
    """A scenario through one nginx profile (or ``direct``), and its probes' settings."""

    profile: str = DIRECT
    ignore_accel_buffering: bool = False  # the proxy buffers streams despite the server's header
    read_timeout_s: float | None = None  # None: the profile's
    sse_wait_s: float = 5.0  # how long the SSE probe waits for its event
    held_poll_s: float = 0.0  # the long-poll probe's hold (0: no probe)

    @property
    def key(self) -> str:
        return "proxy"

    def id_suffix(self) -> str:
        """``-direct``, ``-nginx-default-noaccel``, ``-nginx-h2``."""
        return f"-{self.profile}" + ("-noaccel" if self.ignore_accel_buffering else "")

    def words(self) -> str:
        where = ", direct" if self.profile == DIRECT else f", through {self.profile}"
        return where + (" ignoring X-Accel-Buffering" if self.ignore_accel_buffering else "")

    def generator_args(self) -> list[str]:
        """Clients speak HTTP/2 where the proxy offers it, as a browser would."""
        return ["--http2"] if self.http2 else []

    @property
    def http2(self) -> bool:
        return self.profile != DIRECT and profile_named(self.profile).http2

    def session(self, run: ScenarioRun) -> Session:
        return ProxySession(self, run)

    def columns(self, reduced: Any) -> dict[str, Any]:
        return proxy_columns(reduced, reduced.original.records.get(self.key))


class ProxySession(Session):
    def __init__(self, part: ProxyPart, run: ScenarioRun) -> None:
        self.part, self.run = part, run
        self.nginx: RunningNginx | None = None
        self.probed: dict[str, Any] = {}
        self.cost: dict[str, Any] = {}

    @contextlib.contextmanager
    def path(self, url: str) -> Iterator[str]:
        if self.part.profile == DIRECT:
            self.probed = self.probe(url, url)
            yield url
            return
        self.nginx = start_nginx(
            self.part.profile,
            url.removeprefix("http://"),
            read_timeout_s=self.part.read_timeout_s,
            ignore_accel_buffering=self.part.ignore_accel_buffering,
            cpus=self.run.harness_cpus(),
        )
        try:
            self.probed = self.probe(self.nginx.url, url)
            yield self.nginx.url
        finally:
            self.nginx.stop()

    def probe(self, url: str, server_url: str) -> dict[str, Any]:
        """The row's technique's probe through ``url`` (the proxy, or the server itself)."""
        technique, part = self.run.scenario.technique, self.part
        if technique == SSE.name:
            delay_ms = proxy_probes.sse_first_event(url, server_url, part.sse_wait_s)
            first = math.nan if delay_ms is None else delay_ms
            return {"sse_first_event_ms": first, "sse_probe_wait_s": part.sse_wait_s}
        if technique == LONGPOLL.name and part.held_poll_s:
            held = proxy_probes.held_poll(url, part.held_poll_s, PROBE_MARGIN_S)
            return {
                "held_poll_s": part.held_poll_s,
                "held_poll_status": held.status,
                "held_poll_ended_s": held.ended_after_s,
            }
        if technique == WEBSOCKET.name:
            return {"upgrade_status": proxy_probes.upgrade_status(url, PROBE_TIMEOUT_S)}
        if technique == POLLING.name:
            sizes = proxy_probes.poll_header_bytes(url, part.http2, PROBE_TIMEOUT_S)
            return {
                "header_protocol": sizes.protocol,
                "request_header_bytes": sizes.request_bytes,
                "response_header_bytes": sizes.response_bytes,
            }
        return {}

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        if self.nginx is None:
            yield
            return
        before, started = self.nginx.counters(), time.monotonic()
        yield
        after = self.nginx.counters()
        self.cost = {
            "cpu_s": after.cpu_s - before.cpu_s,
            "window_s": time.monotonic() - started,
            "client_connections": after.accepted - before.accepted,
            "client_requests": after.requests - before.requests,
            "client_connections_open": after.active,
            "client_bytes": -1
            if min(after.client_bytes, before.client_bytes) < 0
            else after.client_bytes - before.client_bytes,
        }

    def record(self, last_id: int) -> ProxyRecord:
        return ProxyRecord(
            self.part.profile, self.part.ignore_accel_buffering, **self.cost, **self.probed
        )
