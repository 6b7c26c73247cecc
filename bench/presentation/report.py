"""Turn a results directory into ``report.md`` and its plots — every number computed, none typed.

``write_report(out_dir)`` is what the bench calls at the end of a run; ``readme_table(out_dir)``
is the short table the README quotes. The findings are sentences built from this run's rows,
so a different machine, or a different run, writes different findings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pushlab.bench.analysis import model
from pushlab.bench.analysis.results import TECHNIQUES, Results, load_results
from pushlab.bench.analysis.shaping import (
    default_publish_rate,
    flag_reason,
    flagged,
    largest_common_clients,
    series_label,
    transit_estimate_ms,
)
from pushlab.bench.presentation import plots

__all__ = [
    "FIGURES",
    "DrawnFigure",
    "FigureSpec",
    "findings",
    "fmt",
    "readme_table",
    "render_report",
    "sweep_table",
    "write_plots",
    "write_report",
]

PUSHED = ("websocket", "sse")
LONGPOLL_HOLD_S = 25.0
"""The long-poll servers' default hold (``docs/CONTRACT.md``), for the model's timeouts."""
SWEEP_ORDER = {
    "clients": ("clients", "publish_rate"),
    "rate": ("publish_rate", "clients"),
    "interval": ("poll_interval", "clients"),
}
SWEEP_TITLES = {
    "clients": "Clients sweep: more and more clients, one publish rate",
    "rate": "Rate sweep: more and more messages per second, fixed clients",
    "interval": "Interval sweep: polling faster and slower",
}


# --- Numbers in words -----------------------------------------------------------------------


def fmt(value: float | None, digits: int = 3) -> str:
    """A number as a person writes it: 1,234 · 37.2 · 0.0123 — and "–" when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    text = f"{value:.{digits}g}"
    return text if "e" not in text else f"{value:.2e}"


def _times(ratio: float) -> str:
    if math.isnan(ratio):
        return "–×"
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def _percent(fraction: float) -> str:
    if math.isnan(fraction):
        return "–"
    if 0 < fraction < 0.001:
        return "<0.1%"
    return f"{100 * fraction:.1f}%" if 0 < fraction < 0.01 else f"{100 * fraction:.0f}%"


def _and(items: Sequence[str]) -> str:
    """["a", "b", "c"] → "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _label(row: pd.Series) -> str:
    return series_label(row["technique"], row["poll_interval"])


def _flag_note(rows: Iterable[pd.Series]) -> str:
    reasons = [f"{_label(row)}: {flag_reason(row)}" for row in rows if flag_reason(row)]
    return f" ⚠ Flagged — {'; '.join(reasons)}." if reasons else ""


# --- Choosing the rows a finding compares ---------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The clients-sweep rows at one load, one per line, in the canonical order."""

    clients: float
    publish_rate: float
    rows: list[pd.Series]

    def of(self, technique: str) -> list[pd.Series]:
        return [row for row in self.rows if row["technique"] == technique]

    def first_pushed(self) -> pd.Series | None:
        return next((row for t in PUSHED for row in self.of(t)), None)

    @property
    def load(self) -> str:
        return f"{self.clients:,.0f} clients and {self.publish_rate:g} msg/s"


def _comparison(results: Results) -> Comparison | None:
    """The largest client count every technique reached in the clients sweep, at 1 msg/s."""
    rows = results.sweep("clients")
    if rows.empty:
        return None
    rate = default_publish_rate(rows)
    rows = rows[np.isclose(rows["publish_rate"], rate)]
    clients = largest_common_clients(rows)
    at_load = rows[rows["clients"] == clients]
    order = {technique: index for index, technique in enumerate(TECHNIQUES)}
    ordered = at_load.assign(_order=at_load["technique"].map(order)).sort_values(
        ["_order", "poll_interval"]
    )
    return Comparison(clients, rate, [row for _, row in ordered.iterrows()])


# --- Findings -------------------------------------------------------------------------------


def _cpu_finding(results: Results) -> str | None:
    comparison = _comparison(results)
    if comparison is None or not comparison.of("polling"):
        return None
    pushed = comparison.first_pushed()
    if pushed is None:
        return None
    polling = sorted(comparison.of("polling"), key=lambda row: -row["poll_interval"])
    pushed_us = pushed["cpu_us_per_message"]
    first, *others = polling
    sentence = (
        f"At {comparison.load}, polling every {first['poll_interval']:g} s cost "
        f"{_times(first['cpu_us_per_message'] / pushed_us)} the server CPU of {_label(pushed)} "
        f"per delivered message ({fmt(first['cpu_us_per_message'])} µs against "
        f"{fmt(pushed_us)} µs)"
    )
    for row in others:
        sentence += (
            f"; polling every {row['poll_interval']:g} s cost "
            f"{_times(row['cpu_us_per_message'] / pushed_us)} ({fmt(row['cpu_us_per_message'])} µs)"
        )
    return sentence + "." + _flag_note([*polling, pushed])


def _requests_finding(results: Results) -> str | None:
    comparison = _comparison(results)
    if comparison is None:
        return None
    parts = []
    for row in comparison.rows:
        text = f"{_label(row)} {fmt(row['requests_per_s'])}"
        if row["technique"] == "polling":
            text += f" ({_percent(row['empty_fraction'])} answered empty)"
        elif row["technique"] == "longpoll":
            text += f" ({fmt(row['requests_per_message'])} per delivered message)"
        else:
            text += " (handshakes only: no request per message)"
        parts.append(text)
    return (
        f"HTTP requests per second at {comparison.load}: {_and(parts)}."
        f"{_flag_note(comparison.rows)}"
    )


def _bytes_finding(results: Results) -> str | None:
    comparison = _comparison(results)
    if comparison is None:
        return None
    by_cost = sorted(comparison.rows, key=lambda row: row["bytes_per_message"])
    cheapest, dearest = by_cost[0], by_cost[-1]
    parts = [f"{fmt(row['bytes_per_message'])} B with {_label(row)}" for row in comparison.rows]
    ratio = dearest["bytes_per_message"] / cheapest["bytes_per_message"]
    return (
        f"Each delivered message cost {_and(parts)} on the wire (at {comparison.load}): "
        f"{_label(dearest)} moved {_times(ratio)} the bytes of {_label(cheapest)}."
    )


def _latency_finding(results: Results) -> str | None:
    comparison = _comparison(results)
    if comparison is None:
        return None
    parts = [
        f"{_label(row)} {fmt(row['latency_p50_ms'])} ms (p99 {fmt(row['latency_p99_ms'])} ms)"
        for row in comparison.rows
    ]
    sentence = f"Median delivery latency at {comparison.load}: {_and(parts)}."
    transit_ms, source = transit_estimate_ms(
        results.summary, comparison.clients, comparison.publish_rate
    )
    for row in comparison.of("polling"):
        predicted = 1000 * model.polling_mean_latency_s(row["poll_interval"], transit_ms / 1000)
        sentence += (
            f" Polling every {row['poll_interval']:g} s averaged {fmt(row['latency_mean_ms'])} ms;"
            f" the model T/2 + transit predicts {fmt(predicted)} ms (transit {fmt(transit_ms)} ms,"
            f" the {source})."
        )
    return sentence + _flag_note(comparison.rows)


def _memory_finding(results: Results) -> str | None:
    comparison = _comparison(results)
    if comparison is None:
        return None
    by_cost = sorted(comparison.rows, key=lambda row: -row["rss_kb_per_client"])
    parts = [f"{_label(row)} {fmt(row['rss_kb_per_client'])} KB" for row in by_cost]
    return (
        f"Server memory (RSS) per connected client at {comparison.load}: {_and(parts)}."
        f"{_flag_note(comparison.rows)}"
    )


def _polling_model_finding(results: Results) -> str | None:
    rows = results.sweep("interval")
    rows = rows[rows["technique"] == "polling"].dropna(subset=["poll_interval"])
    if rows.empty:
        return None
    arrivals = [a if a in ("poisson", "periodic") else "poisson" for a in rows["arrivals"]]
    # Compare with the rate each window really saw: a few Poisson arrivals stray far from λ.
    realised_rate = (rows["messages_published"] / rows["duration_s"]).to_numpy()
    predicted_empty = np.array(
        [
            model.polling_empty_fraction(rate, interval, kind)
            for rate, interval, kind in zip(
                realised_rate, rows["poll_interval"], arrivals, strict=True
            )
        ]
    )
    empty_error = (rows["empty_fraction"].to_numpy() - predicted_empty) * 100
    worst = int(np.argmax(np.abs(empty_error)))
    worst_row = rows.iloc[worst]
    transit = [
        transit_estimate_ms(results.summary, row["clients"], row["publish_rate"])[0]
        for _, row in rows.iterrows()
    ]
    predicted_latency = 1000 * model.polling_mean_latency_s(
        rows["poll_interval"].to_numpy(), np.array(transit) / 1000
    )
    latency_error = np.abs(rows["latency_mean_ms"].to_numpy() / predicted_latency - 1)
    formula = "e^(−λT)" if set(arrivals) == {"poisson"} else "its model"
    return (
        f"Across the interval sweep (T from {fmt(rows['poll_interval'].min())} s to "
        f"{fmt(rows['poll_interval'].max())} s), the measured empty fraction was at most "
        f"{fmt(float(np.abs(empty_error).max()), 2)} percentage points from {formula} (worst at "
        f"T = {worst_row['poll_interval']:g} s: {_percent(worst_row['empty_fraction'])} measured, "
        f"{_percent(predicted_empty[worst])} predicted, with λ the rate each window really "
        f"published), and the mean latency at most "
        f"{_percent(float(latency_error.max()))} from T/2 + transit.{_small_sample_note(rows)}"
        + _flag_note(row for _, row in rows.iterrows())
    )


SMALL_SAMPLE_MESSAGES = 30
"""Fewer messages than this in a window, and a measured fraction is mostly luck."""


def _small_sample_note(rows: pd.DataFrame) -> str:
    fewest = rows["messages_published"].min()
    if pd.isna(fewest) or fewest >= SMALL_SAMPLE_MESSAGES:
        return ""
    return (
        f" Some of these scenarios saw as few as {fmt(fewest)} messages, so expect the points "
        "to scatter around the model; a longer run tightens them."
    )


def _rate_finding(results: Results) -> str | None:
    rows = results.sweep("rate")
    if rows.empty or rows["publish_rate"].nunique() < 2:
        return None
    low, high = rows["publish_rate"].min(), rows["publish_rate"].max()
    parts = []
    for technique in ("polling", "longpoll"):
        of_technique = rows[rows["technique"] == technique]
        at_low = of_technique[of_technique["publish_rate"] == low]
        at_high = of_technique[of_technique["publish_rate"] == high]
        if at_low.empty or at_high.empty:
            continue
        low_row, high_row = at_low.iloc[0], at_high.iloc[0]
        predicted = [_requests_per_message_model(results, row) for row in (low_row, high_row)]
        parts.append(
            f"{_label(low_row)} {fmt(low_row['requests_per_message'])} at {low:g} msg/s and "
            f"{fmt(high_row['requests_per_message'])} at {high:g} msg/s (model: "
            f"{fmt(predicted[0])} and {fmt(predicted[1])})"
        )
    if not parts:
        return None
    return f"Requests per delivered message in the rate sweep: {'; '.join(parts)}." + _flag_note(
        row for _, row in rows.iterrows()
    )


def _requests_per_message_model(results: Results, row: pd.Series) -> float:
    """Polling ``1/(λT)``; long polling with a gap of two transits and the default 25 s hold."""
    if row["technique"] == "polling":
        return float(model.polling_requests_per_message(row["publish_rate"], row["poll_interval"]))
    transit_ms, _ = transit_estimate_ms(results.summary, row["clients"], row["publish_rate"])
    return float(
        model.longpoll_requests_per_message(
            row["publish_rate"], 2 * transit_ms / 1000, LONGPOLL_HOLD_S
        )
    )


def _scenarios(results: Results) -> pd.DataFrame:
    """Each scenario once: one shared by two sweeps is one measurement, written twice."""
    return results.summary.drop_duplicates("scenario")


def _integrity_finding(results: Results) -> str:
    summary = _scenarios(results)
    damaged = summary[(summary[["missed", "duplicated", "reordered"]] > 0).any(axis=1)]
    if damaged.empty:
        return (
            f"No message was missed, duplicated or reordered in any of the {len(summary)} "
            "scenarios."
        )
    cases = [
        f"{row['scenario']} ({fmt(row['missed'])} missed, {fmt(row['duplicated'])} duplicated, "
        f"{fmt(row['reordered'])} reordered)"
        for _, row in damaged.iterrows()
    ]
    return (
        f"Messages were missed, duplicated or reordered in {len(damaged)} of {len(summary)} "
        f"scenarios: {_and(cases)}."
    )


def _empty_window_finding(results: Results) -> str | None:
    summary = _scenarios(results)
    silent = summary[~(summary["messages_published"] > 0)]
    if silent.empty:
        return None
    return (
        f"⚠ {len(silent)} scenario{'s' * (len(silent) != 1)} saw no message published in "
        f"{'their' if len(silent) != 1 else 'its'} measurement window "
        f"({_and(list(silent['scenario']))}): "
        "per-message figures are undefined (–) there; a longer window would fix it."
    )


def _flags_finding(results: Results) -> str:
    summary = _scenarios(results)
    marked = summary[flagged(summary)]
    if marked.empty:
        return (
            f"The load generator kept up and every scenario reached its load "
            f"({len(summary)} of {len(summary)})."
        )
    cases = [f"{row['scenario']} ({flag_reason(row)})" for _, row in marked.iterrows()]
    return (
        f"⚠ {len(marked)} of {len(summary)} scenarios "
        f"{'is' if len(marked) == 1 else 'are'} flagged: {_and(cases)}. Their numbers "
        "stay in the tables (⚠) and plots (hollow markers), but they describe the load "
        "generator's limits as much as the server's."
    )


FINDINGS: tuple[Callable[[Results], str | None], ...] = (
    _cpu_finding,
    _requests_finding,
    _bytes_finding,
    _latency_finding,
    _memory_finding,
    _polling_model_finding,
    _rate_finding,
    _integrity_finding,
    _empty_window_finding,
    _flags_finding,
)


def findings(results: Results) -> list[str]:
    """Sentences about this run, each computed from its rows (a missing sweep → no sentence)."""
    return [text for finding in FINDINGS if (text := finding(results)) is not None]


# --- Tables ---------------------------------------------------------------------------------


def _markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    lines = [line(header), "|" + "|".join("---" for _ in header) + "|"]
    lines += [line(cells) for cells in rows]
    return "\n".join(lines)


TABLE_COLUMNS: tuple[tuple[str, Callable[[pd.Series], str]], ...] = (
    ("technique", lambda row: _label(row)),
    ("clients", lambda row: fmt(row["clients"])),
    ("msg/s", lambda row: fmt(row["publish_rate"])),
    ("requests/s", lambda row: fmt(row["requests_per_s"])),
    ("requests/msg", lambda row: fmt(row["requests_per_message"])),
    ("empty", lambda row: _percent(row["empty_fraction"])),
    ("p50 ms", lambda row: fmt(row["latency_p50_ms"])),
    ("p99 ms", lambda row: fmt(row["latency_p99_ms"])),
    ("bytes/msg", lambda row: fmt(row["bytes_per_message"])),
    ("kB/s in+out", lambda row: fmt((row["bytes_in_per_s"] + row["bytes_out_per_s"]) / 1000)),
    ("CPU %", lambda row: fmt(row["server_cpu_percent"])),
    ("CPU µs/msg", lambda row: fmt(row["cpu_us_per_message"])),
    ("RSS MB", lambda row: fmt(row["rss_mb"])),
    ("KB/client", lambda row: fmt(row["rss_kb_per_client"])),
    (
        "missed/dup/reord",
        lambda row: f"{row['missed']:g}/{row['duplicated']:g}/{row['reordered']:g}",
    ),
    ("flags", lambda row: f"⚠ {flag_reason(row)}" if flag_reason(row) else ""),
    ("scenario", lambda row: f"`{row['scenario']}`"),
)


def sweep_table(results: Results, sweep: str) -> str:
    """One sweep as a Markdown table: every row, flagged rows marked ⚠ (never dropped)."""
    rows = results.sweep(sweep)
    order = {technique: index for index, technique in enumerate(TECHNIQUES)}
    keys = list(SWEEP_ORDER.get(sweep, ("clients",)))
    rows = rows.assign(_order=rows["technique"].map(order)).sort_values(
        [*keys, "_order", "poll_interval"]
    )
    columns = list(TABLE_COLUMNS)
    if rows["arrivals"].nunique() > 1:
        columns.insert(3, ("arrivals", lambda row: row["arrivals"]))
    if (rows["notes"] != "").any():
        columns.append(("notes", lambda row: row["notes"]))
    return _markdown_table(
        [name for name, _ in columns],
        ([cell(row) for _, cell in columns] for _, row in rows.iterrows()),
    )


# --- Plots ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the report: its file name, heading, what to look for, and how to draw it."""

    name: str
    title: str
    caption: str
    draw: Callable[[Results], Figure]


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "latency_cdf",
        "Delivery latency",
        "Each line is the distribution of publish → client latency. Pushed messages (WebSocket, "
        "SSE) and long polls arrive within a few transits; polling's line is a ramp across one "
        "poll interval, because a message waits for the next poll.",
        lambda results: plots.plot_latency_cdf(results),
    ),
    FigureSpec(
        "traffic_vs_clients",
        "Requests and bytes as clients grow",
        "Polling makes requests whether or not there is news, so its requests and bytes grow "
        "with clients × poll rate; long polling makes about one request per delivered message; "
        "WebSocket and SSE only their handshakes.",
        lambda results: plots.plot_traffic(results.summary),
    ),
    FigureSpec(
        "cpu_vs_clients",
        "Server CPU as clients grow",
        "Left, the server's CPU; right, the same divided by delivered messages: what one message "
        "reaching one client costs. Every HTTP request is parsed and answered, news or not.",
        lambda results: plots.plot_cpu(results.summary),
    ),
    FigureSpec(
        "polling_vs_interval",
        "Polling's trade-off, measured against the model",
        "Points are measurements, dashed lines the model of `bench/model.py`: empty fraction "
        "e^(−λT) for Poisson arrivals, mean latency T/2 + transit, requests per message 1/(λT).",
        lambda results: plots.plot_polling_vs_interval(results.summary),
    ),
    FigureSpec(
        "rate_sweep",
        "Requests per message as the publish rate grows",
        "Polling's requests per message fall as 1/(λT): each poll carries more news. Long "
        "polling stays near one request per message, above it at low rates (timeouts) and below "
        "it when messages pile up while the client re-asks.",
        lambda results: plots.plot_rate_sweep(results.summary),
    ),
    FigureSpec(
        "memory_vs_clients",
        "Server memory per connected client",
        "Holding a connection open costs memory (socket buffers, a handler, a queue); polling "
        "holds nothing between requests.",
        lambda results: plots.plot_memory(results.summary),
    ),
    FigureSpec(
        "timeline",
        "A few real seconds of each technique",
        "A sequence diagram drawn from the recorded trace: requests up, answers and pushes down, "
        "publishes as stars, empty answers dashed.",
        lambda results: plots.plot_timeline(results.trace),
    ),
)


@dataclass(frozen=True)
class DrawnFigure:
    spec: FigureSpec
    path: Path | None  # None when the run has no data for it
    reason: str = ""


def write_plots(results: Results, plots_dir: Path) -> list[DrawnFigure]:
    """Save every figure the run has data for as ``plots_dir/<name>.png``.

    A figure whose sweep is missing (a quick run may skip one) is reported, not drawn; any
    other error is a bug and propagates.
    """
    plots_dir.mkdir(parents=True, exist_ok=True)
    drawn = []
    for spec in FIGURES:
        try:
            figure = spec.draw(results)
        except ValueError as missing:
            drawn.append(DrawnFigure(spec, None, str(missing)))
            continue
        path = plots_dir / f"{spec.name}.png"
        figure.savefig(path)
        drawn.append(DrawnFigure(spec, path))
    return drawn


# --- The report -----------------------------------------------------------------------------

ENVIRONMENT_FIRST = (
    "cpu_model",
    "cores",
    "os",
    "python",
    "aiohttp",
    "locust",
    "git_commit",
    "affinity",
    "started_utc",
    "finished_utc",
    "command",
)
SYNTHETIC_BANNER = (
    "> **⚠ SYNTHETIC DATA — not a measurement.** This directory was generated by a test "
    "fixture; its numbers come from the models plus noise."
)


def _environment_table(environment: dict[str, object]) -> str:
    keys = [key for key in ENVIRONMENT_FIRST if key in environment]
    keys += sorted(key for key in environment if key not in ENVIRONMENT_FIRST)

    def show(value: object) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        return f"`{text}`" if text else "–"

    return _markdown_table(["", ""], ([key, show(environment[key])] for key in keys))


def _machine_line(results: Results) -> str:
    env = results.environment
    versions = env.get("versions") if isinstance(env.get("versions"), dict) else {}
    cores = env.get("cores", env.get("cpu_count", "?"))
    aiohttp = env.get("aiohttp", env.get("aiohttp_version", versions.get("aiohttp")))
    parts = [f"{env.get('cpu_model', 'unknown CPU')} ({cores} cores)"]
    parts += [str(env["os"])] if env.get("os") else []
    parts += [f"Python {env['python']}"] if env.get("python") else []
    parts += [f"aiohttp {aiohttp}"] if aiohttp else []
    commit = str(env.get("git_commit", ""))[:12]
    return f"{results.run_date} on {', '.join(parts)}" + (f"; pushlab {commit}" if commit else "")


def _seed_text(results: Results, arrivals: set[str]) -> str:
    """ ", seed N, the same in every row" when the run's Poisson arrivals came from one seed."""
    matrix = results.environment.get("matrix")
    seed = matrix.get("arrival_seed") if isinstance(matrix, dict) else None
    if seed is None or "poisson" not in arrivals:
        return ""
    return f", seed {seed}, the same in every row"


def _arrivals_sentence(results: Results) -> str:
    arrivals = set(results.summary["arrivals"].dropna()) if "arrivals" in results.summary else set()
    if not arrivals:
        return ""
    return f"Arrivals: {_and(sorted(arrivals))}{_seed_text(results, arrivals)}."


def render_report(results: Results, figures: Sequence[DrawnFigure]) -> str:
    """The text of ``report.md`` (plots are referenced relative to the results directory)."""
    out: list[str] = [f"# pushlab results — {results.run_date}", ""]
    if results.synthetic:
        out += [SYNTHETIC_BANNER, ""]
    out += [
        f"Measured {_machine_line(results)}. Generated by `pushlab.bench` from the files in "
        f"`{results.path.resolve().name}/`; every number below is computed from `summary.csv`.",
        "",
        "## Findings",
        "",
        *(f"- {text}" for text in findings(results)),
        "",
        "## Environment",
        "",
        _environment_table(results.environment),
        "",
        "## Sweeps",
        "",
        "Latency in ms from publish to client; CPU % of one core; bytes at the server's sockets, "
        "both directions; ⚠ marks rows where the load generator was saturated or the load was "
        f"not achieved. {_arrivals_sentence(results)}",
        "",
    ]
    for sweep in [*SWEEP_TITLES, *sorted(set(results.summary["sweep"]) - set(SWEEP_TITLES))]:
        if results.sweep(sweep).empty:
            continue
        out += [f"### {SWEEP_TITLES.get(sweep, sweep)}", "", sweep_table(results, sweep), ""]
    out += ["## Plots", ""]
    for figure in figures:
        out += [f"### {figure.spec.title}", ""]
        if figure.path is None:
            out += [f"_Not drawn: {figure.reason}._", ""]
            continue
        relative = figure.path.relative_to(results.path).as_posix()
        out += [f"![{figure.spec.title}]({relative})", "", figure.spec.caption, ""]
    return "\n".join(out)


def write_report(out_dir: Path) -> Path:
    """Draw every plot into ``out_dir/plots/`` and write ``out_dir/report.md``; return its path."""
    out_dir = Path(out_dir)
    results = load_results(out_dir)
    figures = write_plots(results, out_dir / "plots")
    report = out_dir / "report.md"
    report.write_text(render_report(results, figures), encoding="utf-8")
    return report


def readme_table(out_dir: Path) -> str:
    """The clients sweep at 1 msg/s (or the run's commonest rate) as a short Markdown table.

    Starts with a line naming the date and machine, so a quoted table never loses where its
    numbers came from.
    """
    results = load_results(out_dir)
    rows = results.sweep("clients")
    if rows.empty:
        raise ValueError(f"{out_dir} has no clients sweep")
    rate = default_publish_rate(rows)
    rows = rows[np.isclose(rows["publish_rate"], rate)]
    order = {technique: index for index, technique in enumerate(TECHNIQUES)}
    rows = rows.assign(_order=rows["technique"].map(order)).sort_values(
        ["clients", "_order", "poll_interval"]
    )
    header = [
        "clients",
        "technique",
        "requests/s",
        "kB/s",
        "CPU %",
        "CPU µs/msg",
        "p50 ms",
        "p99 ms",
        "KB/client",
    ]
    table = _markdown_table(
        header,
        (
            [
                fmt(row["clients"]),
                _label(row) + (" ⚠" if flag_reason(row) else ""),
                fmt(row["requests_per_s"]),
                fmt((row["bytes_in_per_s"] + row["bytes_out_per_s"]) / 1000),
                fmt(row["server_cpu_percent"]),
                fmt(row["cpu_us_per_message"]),
                fmt(row["latency_p50_ms"]),
                fmt(row["latency_p99_ms"]),
                fmt(row["rss_kb_per_client"]),
            ]
            for _, row in rows.iterrows()
        ),
    )
    arrivals = _and(sorted(set(rows["arrivals"])))
    seed = _seed_text(results, set(rows["arrivals"]))
    lines = [
        f"_Measured {_machine_line(results)}. Clients sweep at {rate:g} msg/s ({arrivals} "
        f"arrivals{seed}); ⚠ = load generator saturated or load not achieved._",
        "",
        table,
    ]
    if results.synthetic:
        lines.insert(0, SYNTHETIC_BANNER + "\n")
    return "\n".join(lines) + "\n"
