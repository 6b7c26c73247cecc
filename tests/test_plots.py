"""Plot functions, drawn from the synthetic results: titles, axes, units, scales and colours."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from pushlab.bench.analysis import model
from pushlab.bench.analysis.results import Results, TraceEvent, load_results
from pushlab.bench.presentation import plots

from tests.test_report_synthetic import write_synthetic_results


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return load_results(write_synthetic_results(tmp_path_factory.mktemp("plots") / "run"))


def _line_colours(ax: Axes) -> dict[str, str]:
    return {
        str(line.get_label()): mcolors.to_hex(line.get_color())
        for line in ax.get_lines()
        if not str(line.get_label()).startswith("_")
    }


def test_requests_vs_clients_has_a_title_units_and_log_axes(results: Results) -> None:
    ax = plots.plot_requests_vs_clients(results.summary).axes[0]
    assert ax.get_title() == "HTTP requests per second vs clients\n(1 msg/s)"
    assert ax.get_xlabel() == "clients (log scale)"
    assert ax.get_ylabel() == "HTTP requests per second (log scale)"
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")


def test_clients_axis_is_ticked_at_the_measured_client_counts(results: Results) -> None:
    ax = plots.plot_cpu_per_message_vs_clients(results.summary).axes[0]
    assert list(ax.get_xticks()) == [10, 100, 1000]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["10", "100", "1,000"]


@pytest.mark.parametrize(
    ("draw", "title", "y_label"),
    [
        (plots.plot_bytes_vs_clients, "Network traffic (in + out) vs clients", "kB/s"),
        (plots.plot_cpu_vs_clients, "Server CPU vs clients", "% of one core"),
        (plots.plot_cpu_per_message_vs_clients, "Server CPU per delivered message", "µs"),
        (plots.plot_rss_vs_clients, "Server memory (RSS) vs clients", "MB"),
        (plots.plot_memory_per_client_vs_clients, "Server memory per connected client", "KB"),
    ],
)
def test_every_clients_panel_names_what_it_compares_and_its_unit(
    results: Results, draw, title: str, y_label: str
) -> None:
    ax = draw(results.summary).axes[0]
    assert ax.get_title().startswith(title)
    assert y_label in ax.get_ylabel()


def test_a_technique_has_the_same_colour_in_every_figure(results: Results) -> None:
    cpu = _line_colours(plots.plot_cpu_vs_clients(results.summary).axes[0])
    memory = _line_colours(plots.plot_memory_per_client_vs_clients(results.summary).axes[0])
    cdf = plots.plot_latency_cdf(results).axes[0]
    cdf_colours = {label.split(":")[0]: colour for label, colour in _line_colours(cdf).items()}
    for label in ("WebSocket", "SSE", "long polling", "polling every 1 s"):
        assert cpu[label] == memory[label] == cdf_colours[label]
    assert cpu["WebSocket"] == plots.TECHNIQUE_COLOURS["websocket"].lower()


def test_flagged_rows_are_drawn_hollow_not_dropped(results: Results) -> None:
    ax = plots.plot_requests_vs_clients(results.summary).axes[0]
    hollow = [
        line
        for line in ax.get_lines()
        if line.get_xdata().size and mcolors.to_hex(line.get_markerfacecolor()) == "#ffffff"
    ]
    hollow_x = sorted(x for line in hollow for x in line.get_xdata())
    assert hollow_x == [1000, 1000]  # polling every 0.25 s (saturated) and SSE (short of load)
    assert any("generator saturated" in text.get_text() for text in ax.get_legend().get_texts())


def test_zero_values_on_a_log_axis_are_drawn_at_the_floor(results: Results) -> None:
    summary = results.summary.copy()
    summary.loc[summary["technique"] == "websocket", "requests_per_s"] = 0.0
    ax = plots.plot_requests_vs_clients(summary).axes[0]
    floors = [line for line in ax.get_lines() if line.get_marker() == "v"]
    assert floors and all(np.all(line.get_ydata() > 0) for line in floors)


def test_a_panel_draws_into_the_axes_it_is_given(results: Results) -> None:
    figure = Figure()
    left, right = figure.subplots(1, 2)
    returned = plots.plot_cpu_vs_clients(results.summary, ax=right)
    assert returned is figure
    assert right.get_title().startswith("Server CPU vs clients")
    assert not left.get_lines()


def test_combined_figures_have_a_title_and_one_panel_per_metric(results: Results) -> None:
    for draw, panels in ((plots.plot_traffic, 2), (plots.plot_cpu, 2), (plots.plot_memory, 2)):
        figure = draw(results.summary)
        assert len(figure.axes) == panels
        assert figure.get_suptitle()


def test_latency_cdf_compares_techniques_at_the_largest_common_load(results: Results) -> None:
    ax = plots.plot_latency_cdf(results).axes[0]
    assert ax.get_title() == "Delivery latency per technique (CDF)\n(1,000 clients, 1 msg/s)"
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "delivery latency, publish → client (ms, log scale)"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any(label.startswith("WebSocket: p50") for label in labels)
    assert any(label.startswith("SSE") and label.endswith("⚠") for label in labels)


def test_latency_cdf_rises_from_zero_to_one(results: Results) -> None:
    ax = plots.plot_latency_cdf(results, clients=100).axes[0]
    for line in ax.get_lines():
        if line.get_ydata().size:
            y = np.asarray(line.get_ydata())
            assert np.all(np.diff(y) >= 0) and y[-1] == pytest.approx(1.0)


def test_polling_panels_draw_the_model_over_the_points(results: Results) -> None:
    figure = plots.plot_polling_vs_interval(results.summary)
    empty, latency, requests = figure.axes
    assert [ax.get_title() for ax in figure.axes] == [
        "Polls that came back empty",
        "Mean delivery latency of polling",
        "Requests per delivered message",
    ]
    assert all(ax.get_xlabel() == "poll interval T (s, log scale)" for ax in figure.axes)
    assert latency.get_ylabel() == "mean delivery latency (ms, log scale)"
    model_line = next(line for line in empty.get_lines() if "model" in str(line.get_label()))
    x, y = model_line.get_xdata(), model_line.get_ydata()
    assert y == pytest.approx(model.polling_empty_fraction(1.0, x))
    requests_model = next(line for line in requests.get_lines() if "model" in str(line.get_label()))
    x, y = requests_model.get_xdata(), requests_model.get_ydata()
    assert y == pytest.approx(model.polling_requests_per_message(1.0, x))


def test_latency_model_uses_the_pushed_median_as_transit(results: Results) -> None:
    ax = plots.plot_latency_vs_interval(results.summary).axes[0]
    model_line = next(line for line in ax.get_lines() if "model" in str(line.get_label()))
    assert "WebSocket median at the same load" in str(model_line.get_label())


def test_rate_sweep_plots_requests_per_message_with_models(results: Results) -> None:
    left, right = plots.plot_rate_sweep(results.summary).axes
    assert left.get_title().startswith("Requests per delivered message vs publish rate")
    assert left.get_xlabel() == "publish rate λ (msg/s, log scale)"
    assert right.get_ylabel() == "delivery latency (ms, log scale)"


def test_a_missing_sweep_is_a_clear_error(results: Results) -> None:
    without_intervals = results.summary[results.summary["sweep"] != "interval"]
    with pytest.raises(ValueError, match="interval"):
        plots.plot_polling_vs_interval(without_intervals)


def test_timeline_has_one_row_per_technique_with_counted_titles(results: Results) -> None:
    figure = plots.plot_timeline(results.trace)
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    assert titles == [
        "polling: 4 published · 7 requests (4 answered empty)",
        "long polling: 4 published · 5 requests (0 answered empty)",
        "WebSocket: 4 published · 1 request · 4 pushed on one open connection",
        "SSE: 4 published · 1 request · 4 pushed on one open connection",
    ]
    assert figure.axes[-1].get_xlabel() == "seconds since the trace started"


def _events(*specs: tuple[float, str, int | None]) -> list[TraceEvent]:
    return [TraceEvent(t, kind, kind, message_id) for t, kind, message_id in specs]


def test_sequence_layout_draws_an_answer_after_its_request_reached_the_server() -> None:
    placed = plots.place_events(_events((1.0, "request", None), (1.001, "response", None)), 0.05)
    request, answer = placed
    assert request.server_x == pytest.approx(1.05)
    assert answer.server_x >= request.server_x
    assert answer.client_x > answer.server_x


def test_sequence_layout_draws_a_push_after_its_publish() -> None:
    placed = plots.place_events(_events((2.0, "publish", 1), (2.001, "push", 1)), 0.05)
    publish, push = placed
    assert push.server_x >= publish.server_x
    assert push.client_x == pytest.approx(push.server_x + 0.05)


def test_sequence_layout_never_moves_an_event_earlier() -> None:
    events = _events(
        (0.0, "request", None),
        (0.3, "publish", 1),
        (0.301, "response", 1),
        (0.302, "request", None),
    )
    for placed in plots.place_events(events, 0.02):
        assert placed.client_x >= placed.event.t - 0.02
        assert max(placed.client_x, placed.server_x) >= placed.event.t


def test_figures_save_as_png(results: Results, tmp_path: Path) -> None:
    path = tmp_path / "timeline.png"
    plots.plot_timeline(results.trace).savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_drawing_leaves_global_matplotlib_settings_alone(results: Results) -> None:
    before = matplotlib.rcParams["font.size"]
    plots.plot_cpu(results.summary)
    assert matplotlib.rcParams["font.size"] == before


def test_series_legend_lines_carry_their_marker(results: Results) -> None:
    ax = plots.plot_requests_vs_clients(results.summary).axes[0]
    legend_lines = [line for line in ax.get_legend().get_lines() if isinstance(line, Line2D)]
    assert any(line.get_marker() == plots.TECHNIQUE_MARKERS["websocket"] for line in legend_lines)


def test_summary_subset_without_flags_has_no_flag_legend(results: Results) -> None:
    summary: pd.DataFrame = results.summary[results.summary["clients"] < 1000]
    ax = plots.plot_requests_vs_clients(summary).axes[0]
    assert not any("saturated" in text.get_text() for text in ax.get_legend().get_texts())
