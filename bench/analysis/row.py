"""One typed row of ``summary.csv``: a scenario's figures, each with its unit, label and format.

The core columns — what every scenario measures — are the fields of :class:`ResultRow`; a sweep's
own columns (``Sweep.columns`` in ``bench/sweeps/``) follow them in registry order and live in
the row's ``extra``. :func:`all_columns` is the file's whole header with every column's
metadata: the loader's types, the report's tables, the plots' axes and ``docs/CONTRACT.md``
read it (``core/columns.py``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pushlab.bench.analysis.wire import GENERATOR_SHARE_LIMIT
from pushlab.bench.core.columns import FORMAT_VERSION, READABLE_VERSIONS, Column
from pushlab.bench.core.sweep import sweep_columns
from pushlab.techniques import family as family_of

__all__ = [
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "Column",
    "ResultRow",
    "all_columns",
    "column_names",
    "core_columns",
]


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
    """One scenario's core figures (one field = one column) and its sweeps' own (``extra``)."""

    sweep: str = text("sweep", "the sweep this row belongs to: clients, rate or interval")
    scenario: str = text("scenario", "the scenario id, e.g. polling-c100-r1-i1")
    technique: str = text("technique", "polling, longpoll, websocket or sse")
    clients: int = count("clients", "simulated clients asked for")
    publish_rate: float = number("msg/s", "publish rate", "messages published per second")
    poll_interval: float = number("s", "poll interval", "polling only; empty for the others")
    hold_s: float = number(
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
    # --- Data never lost silently: what was lost, what the server signalled ---
    messages_lost: int = count(
        "lost", "window messages an expected client never received and was never told of"
    )
    gaps_signalled: int = count(
        "gaps signalled",
        "window messages a client was told were gone (a gap signal, or a restart's new feed)",
    )
    reconnects: int = count(
        "reconnects", "reconnects after a break the client noticed (a silent retry is not one)"
    )
    peak_reconnects_per_s: float = number(
        "1/s", "peak reconnects", "the most reconnect attempts in any 100 ms span, per second"
    )
    # --- Past one process and one machine: every sweep runs on a feed, with workers ---
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
    # --- Wire latency apart from the generator's delay; late apart from lost ---
    wire_latency_p50_ms: float = number(
        "ms",
        "wire latency p50",
        "publish → the client's kernel received it (SO_TIMESTAMPNS), median; empty where the"
        " path gives no kernel timestamps",
    )
    wire_latency_p99_ms: float = number(
        "ms", "wire latency p99", "publish → the client's kernel received it, 99th percentile"
    )
    generator_delay_p50_ms: float = number(
        "ms",
        "generator delay p50",
        "the client's kernel received it → the generator's user code handled it, median: the"
        " bench's own share of the latency",
    )
    generator_delay_p99_ms: float = number(
        "ms", "generator delay p99", "kernel → user code, 99th percentile"
    )
    generator_share: float = number(
        "",
        "generator share",
        "the generator's mean delay over the mean observed latency (kernel-stamped deliveries)",
        ".0%",
    )
    generator_delayed: bool = flag(
        "generator delayed",
        f"the generator added more than {GENERATOR_SHARE_LIMIT:.0%} of the observed latency,"
        " whatever its CPU",
    )
    wire_stamped: float = number(
        "", "kernel-stamped", "the share of counted deliveries with a kernel receive time", ".1%"
    )
    arrived_late: int = count(
        "late", "window messages a client received after the window closed (in the drain)"
    )
    family: str = text("family", "pushlab (one of the four techniques) or peer (another server)")

    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The sweeps' own columns (by name); the others of ``all_columns()`` read as missing."""

    def __post_init__(self) -> None:
        if not self.family:  # written from the technique's name, once, in pushlab.techniques
            object.__setattr__(self, "family", family_of(self.technique))

    def __getattr__(self, name: str) -> Any:
        """A sweep's column by name, as if it were a field (``row.slow_lost``)."""
        if name.startswith("__") or name == "extra":
            raise AttributeError(name)
        if name in self.extra:
            return self.extra[name]
        column = all_columns().get(name)
        if column is None:
            raise AttributeError(f"no column {name!r}")
        return column.missing

    @classmethod
    def of(cls, **values: Any) -> ResultRow:
        """A row from any columns, core or a sweep's (the sweeps' go to ``extra``)."""
        core = {name: value for name, value in values.items() if name in CORE_FIELDS}
        return cls(**core).with_columns(
            **{name: value for name, value in values.items() if name not in CORE_FIELDS}
        )

    def with_columns(self, **values: Any) -> ResultRow:
        """A copy with these columns set, core or a sweep's."""
        core = {name: value for name, value in values.items() if name in CORE_FIELDS}
        extra = {name: value for name, value in values.items() if name not in CORE_FIELDS}
        unknown = set(extra) - set(all_columns())
        if unknown:
            raise KeyError(f"no column {sorted(unknown)[0]!r}")
        fields_now = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return ResultRow(**{**fields_now, **core}, extra={**self.extra, **extra})

    def as_dict(self) -> dict[str, Any]:
        """Every column of ``all_columns()``, in file order."""
        values = {**asdict(self), **self.extra}
        return {name: values.get(name, column.missing) for name, column in all_columns().items()}


CORE_FIELDS = tuple(f.name for f in fields(ResultRow) if f.name != "extra")


def core_columns() -> dict[str, Column]:
    """The columns every row measures, in file order."""
    return {
        f.name: Column(
            name=f.name,
            kind=f.metadata["kind"],
            unit=f.metadata["unit"],
            label=f.metadata["label"],
            number_format=f.metadata["number_format"],
            description=f.metadata["description"],
        )
        for f in fields(ResultRow)
        if f.name != "extra"
    }


def all_columns() -> dict[str, Column]:
    """Every column of ``summary.csv``, in file order: the core's, then each sweep's."""
    return core_columns() | {column.name: column for column in sweep_columns()}


def column_names() -> tuple[str, ...]:
    return tuple(all_columns())
