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
from pushlab.bench.analysis.row import all_columns
from pushlab.bench.analysis.shaping import transit_estimate_ms
from pushlab.bench.presentation import distributions, polling, sweeps, timeline
from pushlab.techniques import technique
from tests.test_report_synthetic import write_synthetic_results


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return load_results(write_synthetic_results(tmp_path_factory.mktemp("plots") / "run"))


def _line_colours(ax: Axes) -> dict[str, str]:
    """Each line's colour by technique label (a line on another's says so after its label)."""
    return {
        str(line.get_label()).split(" (on ")[0]: mcolors.to_hex(line.get_color())
        for line in ax.get_lines()
        if not str(line.get_label()).startswith("_")
    }


def test_requests_vs_clients_has_a_title_units_and_log_axes(results: Results) -> None:
    ax = sweeps.plot_vs_clients(results.summary, "requests_per_s")
    requests = all_columns()["requests_per_s"]
    assert ax.get_title() == f"{requests.label.capitalize()} vs clients\n(1 msg/s)"
    assert ax.get_xlabel() == "clients (log scale)"
    assert ax.get_ylabel() == f"{requests.label} ({requests.unit}, log scale)"
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")


def test_clients_axis_is_ticked_at_the_measured_client_counts(results: Results) -> None:
    ax = sweeps.plot_vs_clients(results.summary, "cpu_us_per_message")
    assert list(ax.get_xticks()) == [10, 100, 1000]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["10", "100", "1,000"]


@pytest.mark.parametrize(
    "column",
    [
        "server_cpu_percent",
        "cpu_us_per_message",
        "rss_mb",
        "rss_kb_per_client",
        "bytes_per_message",
    ],
)
def test_a_clients_panel_takes_its_label_and_unit_from_the_column(
    results: Results, column: str
) -> None:
    ax = sweeps.plot_vs_clients(results.summary, column)
    meta = all_columns()[column]
    assert ax.get_title().startswith(f"{meta.label[:1].upper()}{meta.label[1:]} vs clients")
    assert ax.get_ylabel().startswith(f"{meta.label} ({meta.unit}")


def test_traffic_panel_adds_both_directions(results: Results) -> None:
    ax = sweeps.plot_vs_clients(results.summary, "traffic_kb_per_s")
    assert "kB/s" in ax.get_ylabel()
    websocket = next(line for line in ax.get_lines() if line.get_label() == "WebSocket")
    rows = results.sweep("clients")
    rows = rows[rows["technique"] == "websocket"].sort_values("clients")
    expected = (rows["bytes_in_per_s"] + rows["bytes_out_per_s"]) / 1000
    assert websocket.get_ydata() == pytest.approx(expected.to_numpy())


def test_an_unknown_column_is_named_in_the_error(results: Results) -> None:
    with pytest.raises(KeyError, match="no column 'joy'"):
        sweeps.plot_vs_clients(results.summary, "joy")


def test_a_technique_has_the_same_colour_in_every_figure(results: Results) -> None:
    cpu = _line_colours(sweeps.plot_vs_clients(results.summary, "server_cpu_percent"))
    memory = _line_colours(sweeps.plot_vs_clients(results.summary, "rss_kb_per_client"))
    cdf = distributions.plot_latency_cdf(results)
    cdf_colours = {label.split(":")[0]: colour for label, colour in _line_colours(cdf).items()}
    for label in ("WebSocket", "SSE", "long polling", "polling every 1 s"):
        assert cpu[label] == memory[label] == cdf_colours[label]
    for name, label in (("websocket", "WebSocket"), ("longpoll", "long polling")):
        assert cpu[label] == technique(name).colour.lower()


def test_flagged_rows_are_drawn_hollow_not_dropped(results: Results) -> None:
    ax = sweeps.plot_vs_clients(results.summary, "requests_per_s")
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
    ax = sweeps.plot_vs_clients(summary, "requests_per_s")
    floors = [line for line in ax.get_lines() if line.get_marker() == "v"]
    assert floors and all(np.all(line.get_ydata() > 0) for line in floors)


def test_a_panel_draws_into_the_axes_it_is_given(results: Results) -> None:
    figure = Figure()
    left, right = figure.subplots(1, 2)
    returned = sweeps.plot_vs_clients(results.summary, "server_cpu_percent", ax=right)
    assert returned is right and returned.get_figure(root=True) is figure
    assert right.get_title().startswith("Server CPU vs clients")
    assert not left.get_lines()


def test_combined_figures_have_a_title_and_one_panel_per_metric(results: Results) -> None:
    for draw, panels in ((sweeps.plot_traffic, 2), (sweeps.plot_cpu, 2), (sweeps.plot_memory, 2)):
        figure = draw(results.summary)
        assert len(figure.axes) == panels
        assert figure.get_suptitle()


def test_latency_cdf_compares_techniques_at_the_largest_common_load(results: Results) -> None:
    ax = distributions.plot_latency_cdf(results)
    assert ax.get_title() == "Delivery latency per technique (CDF)\n(1,000 clients, 1 msg/s)"
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "delivery latency, publish → client (ms, log scale)"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any(label.startswith("WebSocket: p50") for label in labels)
    assert any(label.startswith("SSE") and label.endswith("⚠") for label in labels)


def test_latency_cdf_rises_from_zero_to_one(results: Results) -> None:
    ax = distributions.plot_latency_cdf(results, clients=100)
    for line in ax.get_lines():
        if line.get_ydata().size:
            y = np.asarray(line.get_ydata())
            assert np.all(np.diff(y) >= 0) and y[-1] == pytest.approx(1.0)


def test_polling_panels_draw_the_model_over_the_points(results: Results) -> None:
    figure = polling.plot_polling_vs_interval(results.summary)
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
    ax = polling.plot_latency_vs_interval(results.summary)
    model_line = next(line for line in ax.get_lines() if "model" in str(line.get_label()))
    assert "WebSocket median at the same load" in str(model_line.get_label())


def test_rate_sweep_plots_requests_per_message_with_models(results: Results) -> None:
    left, right = sweeps.plot_rate_sweep(results.summary).axes
    assert left.get_title().startswith("Requests per delivered message vs publish rate")
    assert left.get_xlabel() == "publish rate λ (msg/s, log scale)"
    assert right.get_ylabel() == "delivery latency (ms, log scale)"


def test_a_missing_sweep_is_a_clear_error(results: Results) -> None:
    without_intervals = results.summary[results.summary["sweep"] != "interval"]
    with pytest.raises(ValueError, match="interval"):
        polling.plot_polling_vs_interval(without_intervals)


def test_timeline_has_one_row_per_technique_with_counted_titles(results: Results) -> None:
    figure = timeline.plot_timeline(results.trace)
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
    placed = timeline.place_events(_events((1.0, "request", None), (1.001, "response", None)), 0.05)
    request, answer = placed
    assert request.server_x == pytest.approx(1.05)
    assert answer.server_x >= request.server_x
    assert answer.client_x > answer.server_x


def test_sequence_layout_draws_a_push_after_its_publish() -> None:
    placed = timeline.place_events(_events((2.0, "publish", 1), (2.001, "push", 1)), 0.05)
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
    for placed in timeline.place_events(events, 0.02):
        assert placed.client_x >= placed.event.t - 0.02
        assert max(placed.client_x, placed.server_x) >= placed.event.t


def test_figures_save_as_png(results: Results, tmp_path: Path) -> None:
    path = tmp_path / "timeline.png"
    timeline.plot_timeline(results.trace).savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_drawing_leaves_global_matplotlib_settings_alone(results: Results) -> None:
    before = matplotlib.rcParams["font.size"]
    sweeps.plot_cpu(results.summary)
    assert matplotlib.rcParams["font.size"] == before


def test_series_legend_lines_carry_their_marker(results: Results) -> None:
    ax = sweeps.plot_vs_clients(results.summary, "requests_per_s")
    legend_lines = [line for line in ax.get_legend().get_lines() if isinstance(line, Line2D)]
    assert any(line.get_marker() == technique("websocket").marker for line in legend_lines)


def test_summary_subset_without_flags_has_no_flag_legend(results: Results) -> None:
    summary: pd.DataFrame = results.summary[results.summary["clients"] < 1000]
    ax = sweeps.plot_vs_clients(summary, "requests_per_s")
    assert not any("saturated" in text.get_text() for text in ax.get_legend().get_texts())


def _longpoll_model_line(ax: Axes) -> Line2D:
    colour = technique("longpoll").colour.lower()
    return next(
        line
        for line in ax.get_lines()
        if line.get_linestyle() == "--" and mcolors.to_hex(line.get_color()) == colour
    )


def test_rate_sweep_long_poll_model_uses_the_hold_of_the_rows(results: Results) -> None:
    summary = results.summary.copy()
    summary.loc[summary["technique"] == "longpoll", "hold_s"] = 20.0
    curve = _longpoll_model_line(sweeps.plot_requests_per_message_vs_rate(summary))
    first = summary[(summary["sweep"] == "rate") & (summary["technique"] == "longpoll")]
    first = first.sort_values("publish_rate").iloc[0]
    transit_ms, _ = transit_estimate_ms(summary, first["clients"], first["publish_rate"])
    expected = model.longpoll_requests_per_message(curve.get_xdata(), 2 * transit_ms / 1000, 20.0)
    assert curve.get_ydata() == pytest.approx(expected)


def test_rate_sweep_says_so_when_the_run_recorded_no_hold(results: Results) -> None:
    summary = results.summary.assign(hold_s=np.nan)
    ax = sweeps.plot_requests_per_message_vs_rate(summary)
    with pytest.raises(StopIteration):
        _longpoll_model_line(ax)
    texts = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "long polling: model not drawn (the run recorded no long-poll hold)" in texts


def test_a_line_that_lies_on_another_says_so_in_the_legend(results: Results) -> None:
    summary = results.summary.copy()
    websocket = summary["technique"] == "websocket"
    sse = summary["technique"] == "sse"
    summary.loc[sse, "requests_per_s"] = summary.loc[websocket, "requests_per_s"].to_numpy()
    ax = sweeps.plot_vs_clients(summary, "requests_per_s")
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "SSE (on WebSocket's line)" in labels and "WebSocket" in labels
