"""The proxy's part of a measurement window: what nginx cost, and what its probes saw break.

``measuring/proxy.py`` runs nginx in front of the server and fills a :class:`ProxyRecord`; this
module turns it into the row's columns. The proxy's cost is per message the server delivered in
the window (its ``/stats``): nginx's workers' CPU, and the bytes on each side — the clients'
side as the kernel counted it on nginx's client connections (``pushlab.proxy.socket_bytes``),
the server's side as the server metered it (its ``bytes_in``/``bytes_out`` less the harness's
own ``/stats`` exchanges, which go straight to the server). The probes' results are copied as
they were measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pushlab.bench.core.window import Reduced

DIRECT = "direct"
"""The profile name of a row without a proxy (the sweep's reference)."""


@dataclass(frozen=True)
class ProxyRecord:
    """What one window through (or beside) the proxy recorded."""

    profile: str
    ignores_accel_buffering: bool
    cpu_s: float = 0.0  # nginx's workers, over the window
    window_s: float = math.nan
    client_connections: int = 0  # accepted from clients in the window
    client_requests: int = 0  # an HTTP/2 stream counts as one
    client_connections_open: int = 0  # at the window's end
    client_bytes: int = -1  # both ways on the clients' connections to nginx (-1: unknown)
    sse_first_event_ms: float = math.nan  # NaN: none within the probe's wait (or not SSE)
    sse_probe_wait_s: float = math.nan
    held_poll_s: float = math.nan  # the hold the long-poll probe asked for
    held_poll_status: int = 0
    held_poll_ended_s: float = math.nan
    upgrade_status: int = 0  # the WebSocket probe's handshake status
    header_protocol: str = ""
    request_header_bytes: float = math.nan  # per poll, the polling probe
    response_header_bytes: float = math.nan


def proxy_columns(reduced: Reduced, record: ProxyRecord | None) -> dict[str, Any]:
    if record is None:
        return {}
    window = reduced.original
    delivered = window.after["messages_delivered"] - window.before["messages_delivered"]
    server_bytes = (window.after["bytes_in"] - window.before["bytes_in"]) + (
        window.after["bytes_out"] - window.before["bytes_out"]
    )
    server_bytes -= window.overhead.bytes_in + window.overhead.bytes_out
    proxied = record.profile != DIRECT
    client_bytes = record.client_bytes if record.client_bytes >= 0 and proxied else math.nan

    def per_message(value: float) -> float:
        return value / delivered if delivered > 0 else math.nan

    return {
        "proxy_profile": record.profile,
        "proxy_ignores_accel_buffering": record.ignores_accel_buffering,
        "proxy_cpu_percent": 100 * record.cpu_s / record.window_s if proxied else math.nan,
        "proxy_cpu_us_per_message": per_message(record.cpu_s * 1e6) if proxied else math.nan,
        "proxy_client_bytes_per_message": per_message(client_bytes),
        "proxy_server_bytes_per_message": per_message(server_bytes),
        "proxy_client_connections": record.client_connections,
        "proxy_server_connections": int(
            window.after["tcp_connections_opened"] - window.before["tcp_connections_opened"]
        ),
        "proxy_client_requests": record.client_requests,
        "proxy_client_connections_open": record.client_connections_open,
        "sse_first_event_ms": record.sse_first_event_ms,
        "sse_probe_wait_s": record.sse_probe_wait_s,
        "held_poll_s": record.held_poll_s,
        "held_poll_status": record.held_poll_status,
        "held_poll_ended_s": record.held_poll_ended_s,
        "upgrade_status": record.upgrade_status,
        "header_protocol": record.header_protocol,
        "request_header_bytes": record.request_header_bytes,
        "response_header_bytes": record.response_header_bytes,
    }
