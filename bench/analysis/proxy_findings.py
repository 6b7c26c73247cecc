"""The proxy sweep's findings: what a default nginx does to each technique, what a tuned one
costs per message against direct. Every number is read from the run's rows (the probes' and the
window's columns); a run without proxy rows writes nothing."""

from __future__ import annotations

import math

import pandas as pd

from pushlab.bench.analysis.proxy_window import DIRECT
from pushlab.bench.analysis.results import Results
from pushlab.bench.core.columns import plain_number as fmt
from pushlab.techniques import LONGPOLL, POLLING, SSE, WEBSOCKET, label

DEFAULT, TUNED, H2 = "nginx-default", "nginx-tuned", "nginx-h2"


def proxy_rows(results: Results) -> pd.DataFrame:
    return results.sweep("proxy").drop_duplicates("scenario")


def one(
    rows: pd.DataFrame, technique: str, profile: str, ignores: bool = False
) -> pd.Series | None:
    chosen = rows[
        (rows["technique"] == technique)
        & (rows["proxy_profile"] == profile)
        & (rows["proxy_ignores_accel_buffering"] == ignores)
    ]
    return None if chosen.empty else chosen.iloc[0]


def first_event(row: pd.Series | None) -> str:
    if row is None:
        return "not measured"
    if math.isnan(row["sse_first_event_ms"]):
        return f"none within {fmt(row['sse_probe_wait_s'])} s"
    return f"{fmt(row['sse_first_event_ms'])} ms"


def buffering_finding(results: Results) -> str | None:
    """SSE's first event through a buffering proxy, against the tuned one and direct."""
    rows = proxy_rows(results)
    if rows.empty or one(rows, SSE.name, DEFAULT, True) is None:
        return None
    return (
        f"SSE through {DEFAULT} with the server's X-Accel-Buffering ignored: first event "
        f"{first_event(one(rows, SSE.name, DEFAULT, True))} after its publication (buffered until "
        f"a buffer fills); honouring the header: {first_event(one(rows, SSE.name, DEFAULT))}; "
        f"{TUNED} (proxy_buffering off), header ignored too: "
        f"{first_event(one(rows, SSE.name, TUNED, True))}; direct: "
        f"{first_event(one(rows, SSE.name, DIRECT))}."
    )


def held(row: pd.Series | None) -> str:
    if row is None or math.isnan(row["held_poll_s"]):
        return "not measured"
    status = int(row["held_poll_status"]) or "no answer"
    return f"status {status} after {fmt(row['held_poll_ended_s'])} s"


def hold_finding(results: Results) -> str | None:
    """A long poll held past the proxy's read timeout: who ends it, when, with what status."""
    rows = proxy_rows(results)
    default = one(rows, LONGPOLL.name, DEFAULT) if not rows.empty else None
    if default is None or math.isnan(default["held_poll_s"]):
        return None
    return (
        f"A long poll asking for a {fmt(default['held_poll_s'])} s hold: through {DEFAULT} "
        f"{held(default)}; through {TUNED} {held(one(rows, LONGPOLL.name, TUNED))}; direct "
        f"{held(one(rows, LONGPOLL.name, DIRECT))}."
    )


def upgrade_finding(results: Results) -> str | None:
    rows = proxy_rows(results)
    default = one(rows, WEBSOCKET.name, DEFAULT) if not rows.empty else None
    if default is None:
        return None
    tuned = one(rows, WEBSOCKET.name, TUNED)
    carried = "–" if tuned is None else int(tuned["upgrade_status"])
    return (
        f"The WebSocket handshake through {DEFAULT} (HTTP/1.0 upstream, Upgrade not forwarded) "
        f"got status {int(default['upgrade_status'])}; through {TUNED} {carried} (101 is the "
        "upgrade carried)."
    )


def header_finding(results: Results) -> str | None:
    rows = proxy_rows(results)
    h1 = one(rows, POLLING.name, TUNED) if not rows.empty else None
    h2 = one(rows, POLLING.name, H2) if not rows.empty else None
    if h1 is None or h2 is None:
        return None
    return (
        f"Header bytes per poll (a browser's headers, after the first poll of a connection): "
        f"HTTP/1.1 {fmt(h1['request_header_bytes'])} up, {fmt(h1['response_header_bytes'])} "
        f"down; HTTP/2 (HPACK) {fmt(h2['request_header_bytes'])} up, "
        f"{fmt(h2['response_header_bytes'])} down. The request count, the proxy's and the "
        "server's CPU per poll remain."
    )


def cost_finding(results: Results) -> str | None:
    """The tuned proxy's CPU per delivered message, by technique, against direct latency."""
    rows = proxy_rows(results)
    parts = []
    for technique in rows["technique"].unique() if not rows.empty else ():
        tuned, direct = one(rows, technique, TUNED), one(rows, technique, DIRECT)
        if tuned is None or direct is None or math.isnan(tuned["proxy_cpu_us_per_message"]):
            continue
        parts.append(
            f"{label(technique, tuned['poll_interval'])}: {fmt(tuned['proxy_cpu_us_per_message'])}"
            f" µs of nginx CPU per delivered message, mean latency "
            f"{fmt(tuned['latency_mean_ms'])} ms against {fmt(direct['latency_mean_ms'])} ms direct"
        )
    if not parts:
        return None
    return f"Through {TUNED}: " + "; ".join(parts) + "."


def upstream_finding(results: Results) -> str | None:
    """Connections to the server per client request: keep-alive upstream, or one per request."""
    rows = proxy_rows(results)
    parts = []
    for profile in (DEFAULT, TUNED, H2):
        row = one(rows, LONGPOLL.name, profile) if not rows.empty else None
        if row is None or not row["proxy_client_requests"]:
            continue
        per_request = row["proxy_server_connections"] / row["proxy_client_requests"]
        parts.append(f"{profile} {fmt(per_request)}")
    if not parts:
        return None
    return (
        "Long polling, new connections from nginx to the server per client request in the "
        "window: " + ", ".join(parts) + " (HTTP/1.0 upstream opens one per request; "
        "HTTP/1.1 with keepalive reuses them)."
    )
