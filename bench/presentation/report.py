"""Turn a results directory into ``report.md`` and its plots: tables, figures, findings.

``write_report(out_dir)`` is what the bench calls at the end of a run; ``readme_table(out_dir)``
is the short table the README quotes. This module only lays things out: the sentences come from
:mod:`pushlab.bench.analysis.findings`, the tables' headings, units and number formats from the
columns' metadata (:mod:`pushlab.bench.analysis.row`), the figures from the family modules.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pushlab.bench.analysis.findings import and_list, findings
from pushlab.bench.analysis.results import Results, load_results
from pushlab.bench.analysis.shaping import (
    default_publish_rate,
    flag_reason,
    in_table_order,
    row_label,
)
from pushlab.bench.core.sweep import by_name, registered
from pushlab.bench.presentation import columns
from pushlab.bench.presentation.figures import DrawnFigure, write_plots

__all__ = [
    "DrawnFigure",
    "readme_table",
    "render_report",
    "sweep_table",
    "write_plots",
    "write_report",
]

SWEEP_COLUMNS = (
    "clients",
    "publish_rate",
    "requests_per_s",
    "requests_per_message",
    "empty_fraction",
    "latency_p50_ms",
    "latency_p99_ms",
    "wire_latency_p50_ms",
    "generator_share",
    "server_fanout_ms",
    "bytes_per_message",
    "traffic_kb_per_s",
    "server_cpu_percent",
    "cpu_us_per_message",
    "rss_mb",
    "rss_kb_per_client",
)
"""The columns of a sweep's table, after the technique, unless the sweep names its own
(``Sweep.table``); headings and formats come from the columns' metadata."""
README_COLUMNS = (
    "requests_per_s",
    "traffic_kb_per_s",
    "server_cpu_percent",
    "cpu_us_per_message",
    "latency_p50_ms",
    "latency_p99_ms",
    "server_fanout_ms",
    "rss_kb_per_client",
)

Cell = Callable[[pd.Series], str]


# --- Tables ---------------------------------------------------------------------------------


def _markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    lines = [line(header), "|" + "|".join("---" for _ in header) + "|"]
    lines += [line(cells) for cells in rows]
    return "\n".join(lines)


def cell(name: str, row: pd.Series) -> str:
    """One column of one row as its table cell, in the column's own number format."""
    return columns.column(name).format(columns.values(row, name))


def _column(name: str) -> tuple[str, Cell]:
    return columns.column(name).heading, lambda row: cell(name, row)


def _technique_cell(row: pd.Series) -> str:
    return row_label(row)


def _marked_technique_cell(row: pd.Series) -> str:
    return row_label(row) + (" ⚠" if flag_reason(row) else "")


def _integrity_cell(row: pd.Series) -> str:
    return "/".join(cell(name, row) for name in ("missed", "duplicated", "reordered"))


def _flags_cell(row: pd.Series) -> str:
    reason = flag_reason(row)
    return f"⚠ {reason}" if reason else ""


def present(rows: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The columns a results directory has: one of an older format lacks the newer ones."""
    return [name for name in names if name in rows]


def _table(rows: pd.DataFrame, table_columns: Sequence[tuple[str, Cell]]) -> str:
    return _markdown_table(
        [heading for heading, _ in table_columns],
        ([draw(row) for _, draw in table_columns] for _, row in rows.iterrows()),
    )


def sweep_table(results: Results, sweep: str) -> str:
    """One sweep as a Markdown table: every row, flagged rows marked ⚠ (never dropped)."""
    plugin = by_name().get(sweep)
    order = plugin.table_order if plugin is not None else ("clients",)
    rows = in_table_order(results.sweep(sweep), *order)
    shown = present(rows, (plugin and plugin.table) or SWEEP_COLUMNS)
    table_columns = [("technique", _technique_cell), *map(_column, shown)]
    if rows["arrivals"].nunique() > 1:
        table_columns.insert(3, _column("arrivals"))
    if "feed" in rows and (rows["workers"].nunique() > 1 or rows["feed"].nunique() > 1):
        table_columns[1:1] = [_column("feed"), _column("workers"), _column("deliveries_per_s")]
    table_columns += [
        ("missed/dup/reord", _integrity_cell),
        ("flags", _flags_cell),
        ("scenario", lambda row: f"`{row['scenario']}`"),
    ]
    if (rows["notes"] != "").any():
        table_columns.append(_column("notes"))
    return _table(rows, table_columns)


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


def flattened(value: object, key: str = "") -> list[tuple[str, object]]:
    """A nested mapping as (dotted key, leaf) rows: ``matrix.own.network.rtts_ms``."""
    if isinstance(value, dict) and value:
        rows: list[tuple[str, object]] = []
        for name, inner in value.items():
            rows += flattened(inner, f"{key}.{name}" if key else str(name))
        return rows
    return [(key, value)]


def _environment_table(environment: dict[str, object]) -> str:
    """One row per setting, nested ones by their dotted key: a reader scans down a column
    rather than along one JSON line of the whole matrix."""
    keys = [key for key in ENVIRONMENT_FIRST if key in environment]
    keys += sorted(key for key in environment if key not in ENVIRONMENT_FIRST)

    def show(value: object) -> str:
        if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
            text = ", ".join(str(v) for v in value)
        else:
            text = value if isinstance(value, str) else json.dumps(value)
        return f"`{text}`" if text else "–"

    rows = [row for key in keys for row in flattened(environment[key], key)]
    return _markdown_table(["", ""], ([key, show(value)] for key, value in rows))


def _wall_time_sentence(results: Results) -> str:
    """How long the run took, from its own clock (``environment.json``)."""
    wall_s = results.environment.get("wall_time_s")
    if not isinstance(wall_s, int | float):
        return ""
    minutes, seconds = divmod(round(wall_s), 60)
    took = f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
    interrupted = results.environment.get("interrupted")
    return f" The run took {took} of wall time" + (
        ", and was interrupted: the rows below are those it finished." if interrupted else "."
    )


def _machine_line(results: Results) -> str:
    env = results.environment
    versions = env.get("versions") if isinstance(env.get("versions"), dict) else {}
    cores = env.get("cores", env.get("cpu_count", "?"))
    aiohttp = env.get("aiohttp", env.get("aiohttp_version", versions.get("aiohttp")))
    parts = [f"{env.get('cpu_model', 'unknown CPU')} ({cores} cores)"]
    parts += [str(env["os"])] if env.get("os") else []
    parts += [f"Python {env['python']}"] if env.get("python") else []
    parts += [f"aiohttp {aiohttp}"] if aiohttp else []
    # An installed pushlab runs outside any git checkout: then its version says what ran.
    commit = str(env.get("git_commit", ""))[:12]
    pushlab = commit if commit not in ("", "unknown") else versions.get("pushlab", "")
    return f"{results.run_date} on {', '.join(parts)}" + (f"; pushlab {pushlab}" if pushlab else "")


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
    return f"Arrivals: {and_list(sorted(arrivals))}{_seed_text(results, arrivals)}."


def render_report(
    results: Results, figures: Sequence[DrawnFigure], found: Sequence[str] | None = None
) -> str:
    """The text of ``report.md`` (plots are referenced relative to the results directory);
    ``found`` is the run's findings, when they were computed already."""
    out: list[str] = [f"# pushlab results — {results.run_date}", ""]
    if results.synthetic:
        out += [SYNTHETIC_BANNER, ""]
    out += [
        f"Measured {_machine_line(results)}. Generated by `pushlab.bench` from the files in "
        f"`{results.path.resolve().name}/`; every number below is computed from `summary.csv`."
        + _wall_time_sentence(results),
        "",
        "## Findings",
        "",
        *(f"- {text}" for text in (findings(results) if found is None else found)),
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
    titles = {plugin.name: plugin.title for plugin in registered()}
    for sweep in [*titles, *sorted(set(results.summary["sweep"]) - set(titles))]:
        if results.sweep(sweep).empty:
            continue
        out += [f"### {titles.get(sweep, sweep)}", "", sweep_table(results, sweep), ""]
    out += ["## Plots", ""]
    for figure in figures:
        out += [f"### {figure.spec.title}", ""]
        if figure.path is None:
            out += [f"_Not drawn: {figure.reason}._", ""]
            continue
        relative = figure.path.relative_to(results.path).as_posix()
        out += [f"![{figure.spec.title}]({relative})", "", figure.spec.caption_for(results), ""]
    return "\n".join(out)


def write_report(out_dir: Path) -> Path:
    """Draw every plot into ``out_dir/plots/`` and write ``out_dir/report.md``; return its path."""
    out_dir = Path(out_dir)
    results = load_results(out_dir)
    found = findings(results)  # first: the figures' processes inherit the model lines it cached
    figures = write_plots(results, out_dir / "plots")
    report = out_dir / "report.md"
    report.write_text(render_report(results, figures, found), encoding="utf-8")
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
    rows = in_table_order(rows[np.isclose(rows["publish_rate"], rate)], "clients")
    table_columns = [_column("clients"), ("technique", _marked_technique_cell)]
    table = _table(rows, table_columns + [_column(name) for name in present(rows, README_COLUMNS)])
    arrivals = and_list(sorted(set(rows["arrivals"])))
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
