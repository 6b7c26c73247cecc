"""One typed row of ``summary.csv``: a scenario's figures, each with its unit, label and format.

Modelled on pyperf's ``_metadata.py``: a column's name, type, unit, label and number format are
written once, here, as the metadata of a field of :class:`ResultRow`. The CSV header, the
loader's types, the report's tables, the README table and the plots' axes all read
:data:`COLUMNS`; none of them spells a column out again.

``FORMAT_VERSION`` is written into ``environment.json``; the loader refuses a results directory
of a version it does not know, rather than guessing what its columns mean.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pushlab.techniques import family as family_of

FORMAT_VERSION = 5
"""Version 1: the first bench (no ``format_version`` key). Version 2: the typed row
(``longpoll_hold_s`` added; ``environment.json`` carries ``format_version``). Version 3: the
scale-out, network and fault, and peer columns (``feed`` … ``clock_uncertainty_ms``, ``rtt_ms`` …
``peak_reconnects_per_s``, ``family``, ``sustained``). Version 4: the slow-consumer columns
(``slow_stall_s`` … ``slow_reconnects``). Version 5: the push servers' fan-out time
(``server_fanout_ms``). Versions 4 and 5 only add columns, so version 3 still reads."""

READABLE_VERSIONS = (3, 4, FORMAT_VERSION)
"""Versions the loader reads: a later one only added columns (they read as missing)."""


@dataclass(frozen=True)
class Column:
    """What one column of ``summary.csv`` holds."""

    name: str
    kind: type  # int, float, bool or str
    unit: str  # "" for a count or a ratio with no unit
    label: str  # how a table header or a plot axis names it (without the unit)
    number_format: str  # a format spec for tables and sentences; "" for text
    description: str

    @property
    def heading(self) -> str:
        """``"latency p50 (ms)"``: the label with its unit, for table headers and axes."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def format(self, value: Any) -> str:
        """One value as a table cell: ``–`` for a missing number, the column's format else."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if self.kind is bool:
            return "yes" if value else "no"
        if not self.number_format:
            return str(value)
        significant = re.fullmatch(r",?\.(\d+)g", self.number_format)
        if significant:
            return plain_number(float(value), int(significant.group(1)))
        return format(value, self.number_format)


def plain_number(value: float | None, digits: int = 3) -> str:
    """A number as a person writes it: 1,234 · 37.2 · 0.0123 — and "–" when unknown.

    ``format(1234.5, ",.3g")`` gives ``1.23e+03``; a table read from the back of a classroom
    wants whole numbers from 100 up and ``digits`` significant digits below.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    text = f"{value:.{digits}g}"
    return text if "e" not in text else f"{value:.2e}"


def _column(
    kind: type, unit: str, label: str, number_format: str, description: str, default: Any
) -> Any:
    return field(
        default=default,
        metadata={
            "kind": kind,
            "unit": unit,
            "label": label,
            "number_format": number_format,
            "description": description,
        },
    )


def text(label: str, description: str) -> Any:
    return _column(str, "", label, "", description, "")


def count(label: str, description: str, unit: str = "") -> Any:
    return _column(int, unit, label, ",.0f", description, 0)


def number(unit: str, label: str, description: str, number_format: str = ",.3g") -> Any:
    return _column(float, unit, label, number_format, description, math.nan)


def flag(label: str, description: str) -> Any:
    return _column(bool, "", label, "", description, False)


@dataclass(frozen=True)
class ResultRow:
    """One scenario's figures, as ``summary.csv`` holds them (one field = one column)."""

    sweep: str = text("sweep", "the sweep this row belongs to: clients, rate or interval")
    scenario: str = text("scenario", "the scenario id, e.g. polling-c100-r1-i1")
    technique: str = text("technique", "polling, longpoll, websocket or sse")
    clients: int = count("clients", "simulated clients asked for")
    publish_rate: float = number("msg/s", "publish rate", "messages published per second")
    poll_interval: float = number("s", "poll interval", "polling only; empty for the others")
    longpoll_hold_s: float = number(
        "s", "long-poll hold", "the hold the long-poll clients asked for; empty for the others"
    )
    arrivals: str = text("arrivals", "poisson or periodic")
    duration_s: float = number("s", "window", "the measurement window", ",.3f")
    messages_published: int = count("messages", "messages published in the window")
    messages_delivered: int = count("deliveries", "first receipts of window messages, all clients")
    server_deliveries: int = count("server deliveries", "the server's own count of deliveries")
    clients_connected: int = count("connected", "clients connected before the window opened")
    requests_per_s: float = number("req/s", "requests", "HTTP requests answered per second")
    target_requests_per_s: float = number(
        "req/s", "requests asked", "polling only: clients ÷ poll interval"
    )
    requests_per_message: float = number(
        "", "requests per message", "answered requests per delivered message"
    )
    empty_fraction: float = number(
        "", "empty answers", "the share of answers that carried no message", ".1%"
    )
    latency_mean_ms: float = number("ms", "latency mean", "publish → receive, mean")
    latency_p50_ms: float = number("ms", "latency p50", "publish → receive, median")
    latency_p95_ms: float = number("ms", "latency p95", "publish → receive, 95th percentile")
    latency_p99_ms: float = number("ms", "latency p99", "publish → receive, 99th percentile")
    latency_max_ms: float = number("ms", "latency max", "publish → receive, maximum")
    server_fanout_ms: float = number(
        "ms",
        "server fan-out",
        "push servers: publish → the broadcast loop's last write, mean per message and loop "
        "(each worker's, each SSE framing's): no client waited longer on the server's loop",
    )
    bytes_in_per_s: float = number("B/s", "bytes in", "bytes the server read per second")
    bytes_out_per_s: float = number("B/s", "bytes out", "bytes the server wrote per second")
    bytes_per_message: float = number(
        "B", "bytes per message", "bytes both ways per delivered message"
    )
    tcp_connections_opened: int = count("connections opened", "TCP connections accepted")
    server_cpu_percent: float = number("% of a core", "server CPU", "the server's CPU")
    cpu_us_per_message: float = number(
        "µs", "CPU per message", "server CPU time per delivered message"
    )
    rss_mb: float = number("MB", "server RSS", "the server's resident memory in the window")
    rss_kb_per_client: float = number(
        "KB", "RSS per client", "RSS above the idle server, per client"
    )
    missed: int = count("missed", "window messages an expected client never received")
    duplicated: int = count("duplicated", "receipts of a message the client already had")
    reordered: int = count("reordered", "messages received after a newer one")
    generator_cpu_percent: float = number(
        "% of a core", "generator CPU", "the load generator's CPU"
    )
    generator_saturated: bool = flag(
        "generator saturated", "the generator, not the server, may have been the limit"
    )
    load_achieved: bool = flag(
        "load achieved", "every client connected, and polling's request rate was met"
    )
    notes: str = text("notes", "what a reader of the row should know")
    # --- Past one process and one machine (issue 13) ---
    feed: str = text("feed", "where the messages lived: memory, or redis (shared by workers)")
    workers: int = count("workers", "server processes sharing the port")
    generator_processes: int = count(
        "generator processes", "Locust workers behind a master (0: one Locust process)"
    )
    cores_short: bool = flag(
        "cores short", "fewer CPUs than server workers + generator processes: they shared CPUs"
    )
    deliveries_per_s: float = number(
        "msg/s", "deliveries", "first receipts per second, all clients"
    )
    clock_offset_ms: float = number(
        "ms", "clock offset", "largest |offset| of a generator's clock to the server's (corrected)"
    )
    clock_uncertainty_ms: float = number(
        "ms", "clock uncertainty", "half the fastest round trip of the offset measurement"
    )
    # --- Network and faults (issue 12; bench/analysis/recovery.py) ---------------------------
    rtt_ms: float = number("ms", "RTT", "round-trip time the emulator added; empty: loopback")
    jitter_ms: float = number("ms", "jitter", "extra one-way delay per chunk, up to this")
    netem_cpu_percent: float = number(
        "% of a core", "emulator CPU", "the network emulator's CPU (its own process)"
    )
    netem_connections_opened: int = count(
        "emulated connections", "connections the emulator opened to the server in the window"
    )
    fault: str = text("fault", "drop, stall or restart, injected once in the window; empty: none")
    resume: bool = flag("resume", "clients resumed from their cursor after a reconnect")
    messages_lost: int = count(
        "lost", "window messages an expected client never received and was never told of"
    )
    gaps_signalled: int = count(
        "gaps signalled", "window messages the server told a client were gone (a gap signal)"
    )
    recovery_p50_ms: float = number("ms", "recovery p50", "fault → first message again, median")
    recovery_max_ms: float = number("ms", "recovery max", "fault → first message again, slowest")
    recovered_clients: int = count("recovered", "expected clients that received after the fault")
    reconnects: int = count(
        "reconnects", "reconnects after a break the client noticed (a silent retry is not one)"
    )
    peak_reconnects_per_s: float = number(
        "1/s", "peak reconnects", "the most reconnect attempts in any 100 ms span, per second"
    )
    # --- issue 14: peers in the same bench, and the capacity search ---
    family: str = text("family", "pushlab (one of the four techniques) or peer (another server)")
    sustained: bool = flag(
        "sustained",
        "capacity search: deliveries reached 98% of clients × rate and p99 stayed ≤ 500 ms",
    )

    # --- issue 15: one slow consumer among the clients (bench/analysis/slow_window.py) ---
    slow_stall_s: float = number(
        "s", "stall", "slow sweep: how long the slow consumer did not read"
    )
    slow_rss_growth_kb: float = number(
        "KB", "RSS growth", "slow sweep: server RSS, peak during the stall − just before it"
    )
    slow_high_water_kb: float = number(
        "KB", "high-water mark", "the write buffer past which a client leaves the broadcast loop"
    )
    others_p99_before_ms: float = number(
        "ms",
        "others' p99 before",
        "slow sweep: p99 of the other clients, messages before the stall",
    )
    others_p99_during_ms: float = number(
        "ms", "others' p99 during", "slow sweep: p99 of the other clients, messages during it"
    )
    others_p99_change: float = number(
        "", "others' p99 change", "slow sweep: (p99 during − p99 before) ÷ p99 before", "+.0%"
    )
    slow_received: int = count("slow received", "slow sweep: messages the slow consumer received")
    slow_signalled: int = count(
        "slow signalled", "slow sweep: messages a gap signal told the slow consumer were gone"
    )
    slow_lost: int = count(
        "slow lost", "slow sweep: messages the slow consumer neither received nor was told of"
    )
    slow_duplicates: int = count("slow duplicates", "slow sweep: messages it received twice")
    slow_reconnects: int = count(
        "slow reconnects", "slow sweep: the slow consumer's reconnects (after a gap or hang-up)"
    )

    def __post_init__(self) -> None:
        if not self.family:  # written from the technique's name, once, in pushlab.techniques
            object.__setattr__(self, "family", family_of(self.technique))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


COLUMNS: dict[str, Column] = {
    f.name: Column(
        name=f.name,
        kind=f.metadata["kind"],
        unit=f.metadata["unit"],
        label=f.metadata["label"],
        number_format=f.metadata["number_format"],
        description=f.metadata["description"],
    )
    for f in fields(ResultRow)
}
"""Every column of ``summary.csv``, in file order."""

COLUMN_NAMES: tuple[str, ...] = tuple(COLUMNS)
BOOLEAN_COLUMNS: tuple[str, ...] = tuple(n for n, c in COLUMNS.items() if c.kind is bool)
TEXT_COLUMNS: tuple[str, ...] = tuple(n for n, c in COLUMNS.items() if c.kind is str)
