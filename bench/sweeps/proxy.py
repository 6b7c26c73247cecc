"""The proxy sweep: every technique direct and through each nginx profile.

At the base clients and rate, each technique runs direct and through ``nginx-default``,
``nginx-tuned`` and ``nginx-h2`` (``pushlab/proxy_profiles.py``); SSE also runs through
``nginx-default`` and ``nginx-tuned`` with the server's ``X-Accel-Buffering: no`` ignored, to
show the buffering the header prevents. Each row's probe (``measuring/proxy.py``) says what
broke; the window says what the proxy cost. The long-poll probe asks for a hold above nginx's
default 60 s read timeout (``--proxy-hold``, 90 s; ``--quick``: no hold probe) — a minute and a
half per long-polling row, so the sweep runs by name and in ``--full`` only.

The clients here speak HTTP/1.1 (the load generator's); HTTP/2's side is the probes' (header
bytes per poll) and the browser test's (streams on one connection).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from pushlab.bench.analysis import proxy_findings as findings
from pushlab.bench.analysis.proxy_window import DIRECT
from pushlab.bench.core import columns as c
from pushlab.bench.core.scenario import MatrixSettings, Scenario, at_base
from pushlab.bench.core.sweep import Sweep
from pushlab.bench.measuring.arguments import name_list, seconds
from pushlab.bench.measuring.proxy import ProxyPart
from pushlab.proxy_profiles import PROFILE_NAMES
from pushlab.techniques import LONGPOLL_MAX_HOLD_S, SSE

NAME = "proxy"
BUFFERING_SHOWN_BY = ("nginx-default", "nginx-tuned")
"""The profiles SSE also runs through with ``X-Accel-Buffering`` ignored."""


@dataclass(frozen=True)
class ProxySettings:
    profiles: tuple[str, ...] = PROFILE_NAMES
    held_poll_s: float = 90.0  # the long-poll probe's hold (0: none)
    sse_wait_s: float = 5.0


def options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--proxy-profiles",
        type=name_list(PROFILE_NAMES),
        help=f"nginx profiles of the proxy sweep (default {','.join(PROFILE_NAMES)}; every "
        "technique also runs direct)",
    )
    group.add_argument(
        "--proxy-hold",
        type=seconds(0, LONGPOLL_MAX_HOLD_S, zero_allowed=True),
        help="the proxy sweep's long-poll probe: the hold it asks for (s; default 90, above "
        "nginx's 60 s read timeout; 0: no probe)",
    )


def from_options(args: argparse.Namespace) -> dict[str, Any]:
    given = {"profiles": args.proxy_profiles, "held_poll_s": args.proxy_hold}
    return {name: value for name, value in given.items() if value is not None}


def scenarios(settings: MatrixSettings) -> list[Scenario]:
    own: ProxySettings = settings.of(NAME)
    rows = []
    for technique in settings.techniques:
        variants = [(profile, False) for profile in (DIRECT, *own.profiles)]
        if technique == SSE.name:
            variants += [
                (profile, True) for profile in BUFFERING_SHOWN_BY if profile in own.profiles
            ]
        for profile, ignores in variants:
            part = ProxyPart(
                profile=profile,
                ignore_accel_buffering=ignores,
                sse_wait_s=own.sse_wait_s,
                held_poll_s=own.held_poll_s,
            )
            rows.append(replace(at_base(settings, technique), parts=(part,)))
    return rows


SWEEP = Sweep(
    name=NAME,
    title="Proxy sweep: direct and through nginx (default, tuned, HTTP/2)",
    scenarios=scenarios,
    settings=ProxySettings(),
    quick={"held_poll_s": 0.0},
    options=options,
    from_options=from_options,
    in_default=False,
    in_full=True,
    columns=(
        c.text("proxy_profile", "proxy", "nginx profile in front of the server, or direct"),
        c.flag(
            "proxy_ignores_accel_buffering",
            "ignores X-Accel-Buffering",
            "the proxy buffered the event stream despite the server's X-Accel-Buffering: no",
        ),
        c.number("proxy_cpu_percent", "% of a core", "proxy CPU", "nginx's worker, the window"),
        c.number(
            "proxy_cpu_us_per_message",
            "µs",
            "proxy CPU per message",
            "nginx's worker CPU per message the server delivered in the window",
        ),
        c.number(
            "proxy_client_bytes_per_message",
            "B",
            "client-side bytes per message",
            "bytes on the clients' connections to nginx per message (both ways, as sent: TLS, "
            "HTTP/2 frames)",
        ),
        c.number(
            "proxy_server_bytes_per_message",
            "B",
            "server-side bytes per message",
            "bytes at the server (both ways) per message, as it metered them: from nginx, or "
            "(direct) from the clients",
        ),
        c.count("proxy_client_connections", "client connections", "accepted by nginx, window"),
        c.count(
            "proxy_server_connections",
            "server connections",
            "TCP connections the server accepted in the window (from nginx, or the clients)",
        ),
        c.count("proxy_client_requests", "client requests", "requests (h2: streams) at nginx"),
        c.count(
            "proxy_client_connections_open",
            "client connections open",
            "clients' connections to nginx open at the window's end",
        ),
        c.number(
            "sse_first_event_ms",
            "ms",
            "SSE first event",
            "probe: from a message's publication to its event on a stream; empty: none came",
        ),
        c.number("sse_probe_wait_s", "s", "SSE probe wait", "how long the SSE probe waited"),
        c.number("held_poll_s", "s", "probe hold", "the hold the long-poll probe asked for"),
        c.count("held_poll_status", "probe status", "the long-poll probe's status (0: none)"),
        c.number("held_poll_ended_s", "s", "probe ended", "when the long-poll probe ended"),
        c.count("upgrade_status", "upgrade status", "probe: a WebSocket handshake's status"),
        c.text("header_protocol", "poll protocol", "the header probe's protocol"),
        c.number(
            "request_header_bytes",
            "B",
            "request headers",
            "probe: header bytes of a poll's request (a browser's headers; after the first)",
        ),
        c.number(
            "response_header_bytes",
            "B",
            "response headers",
            "probe: header bytes of a poll's answer (after the first of the connection)",
        ),
    ),
    table=(
        "proxy_profile",
        "proxy_ignores_accel_buffering",
        "latency_mean_ms",
        "latency_p99_ms",
        "proxy_cpu_us_per_message",
        "proxy_client_bytes_per_message",
        "proxy_client_connections_open",
        "proxy_client_requests",
        "proxy_server_connections",
        "sse_first_event_ms",
        "held_poll_status",
        "held_poll_ended_s",
        "upgrade_status",
        "request_header_bytes",
        "response_header_bytes",
    ),
    table_order=("proxy_profile", "proxy_ignores_accel_buffering"),
    findings=(
        findings.buffering_finding,
        findings.hold_finding,
        findings.upgrade_finding,
        findings.header_finding,
        findings.upstream_finding,
        findings.cost_finding,
    ),
)
