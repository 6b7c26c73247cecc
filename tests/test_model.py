"""The analytical model: hand-checked values, limits, and a seeded simulation of each derivation.

Hand-checked values are worked out in the comments. The simulations replay the processes the
docstrings describe (Poisson arrivals, polls every T, a long poll's gap and hold) with a fixed
seed; they check the algebra, not the machine, so their tolerances are statistical, not timing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pushlab.bench.analysis import model

# --- Polling --------------------------------------------------------------------------------


def test_polling_mean_latency_is_half_the_interval_plus_one_transit() -> None:
    # T = 1 s, d = 2 ms: 0.5 + 0.002
    assert model.polling_mean_latency_s(1.0, 0.002) == pytest.approx(0.502)


def test_polling_latency_is_uniform_over_one_interval_after_a_transit() -> None:
    # Median of uniform [d, T + d] with T = 1 s, d = 2 ms: 0.502; p99: 0.992.
    assert model.polling_latency_quantile_s(0.5, 1.0, 0.002) == pytest.approx(0.502)
    assert model.polling_latency_quantile_s(0.99, 1.0, 0.002) == pytest.approx(0.992)


def test_poisson_empty_fraction_is_e_to_the_minus_lambda_t() -> None:
    # λT = 1 → e^-1 = 0.367879; λT = 0.1 → e^-0.1 = 0.904837
    assert model.polling_empty_fraction(1.0, 1.0) == pytest.approx(0.367879, abs=1e-6)
    assert model.polling_empty_fraction(0.1, 1.0) == pytest.approx(0.904837, abs=1e-6)


def test_poisson_empty_fraction_depends_only_on_lambda_times_t() -> None:
    assert model.polling_empty_fraction(2.0, 0.5) == pytest.approx(
        model.polling_empty_fraction(1.0, 1.0)
    )


def test_periodic_empty_fraction_is_one_minus_lambda_t_then_zero() -> None:
    # One message a second, a poll every 0.25 s: 1 poll in 4 finds it → 75% empty.
    assert model.polling_empty_fraction(1.0, 0.25, "periodic") == pytest.approx(0.75)
    assert model.polling_empty_fraction(2.0, 0.25, "periodic") == pytest.approx(0.5)
    assert model.polling_empty_fraction(1.0, 1.0, "periodic") == 0.0
    assert model.polling_empty_fraction(1.0, 3.0, "periodic") == 0.0


def test_periodic_arrivals_leave_fewer_empty_polls_than_poisson() -> None:
    intervals = np.geomspace(0.01, 10, 50)
    periodic = model.polling_empty_fraction(1.0, intervals, "periodic")
    poisson = model.polling_empty_fraction(1.0, intervals, "poisson")
    assert np.all(periodic <= poisson)


def test_unknown_arrivals_are_refused() -> None:
    with pytest.raises(ValueError, match="arrivals"):
        model.polling_empty_fraction(1.0, 1.0, "bursty")  # type: ignore[arg-type]


def test_polling_requests_per_message_is_poll_rate_over_publish_rate() -> None:
    # (1/T)/λ: every 0.25 s at 1 msg/s → 4; every 1 s at 10 msg/s → 0.1; every 1 s at 1/min → 60.
    assert model.polling_requests_per_message(1.0, 0.25) == pytest.approx(4.0)
    assert model.polling_requests_per_message(10.0, 1.0) == pytest.approx(0.1)
    assert model.polling_requests_per_message(1 / 60, 1.0) == pytest.approx(60.0)


def test_messages_per_data_response_is_a_zero_truncated_poisson_mean() -> None:
    # λT = 1: 1 / (1 − e^-1) = 1.581977
    assert model.polling_messages_per_data_response(1.0, 1.0) == pytest.approx(1.581977, abs=1e-6)


def test_data_responses_times_their_size_give_back_lambda_t_messages_per_poll() -> None:
    load = np.array([0.01, 0.5, 1.0, 7.0])
    non_empty = 1 - model.polling_empty_fraction(load, 1.0)
    assert non_empty * model.polling_messages_per_data_response(load, 1.0) == pytest.approx(load)


def test_polling_formulas_work_element_wise_on_arrays() -> None:
    intervals = np.array([0.5, 1.0, 2.0])
    assert model.polling_mean_latency_s(intervals, 0.001) == pytest.approx([0.251, 0.501, 1.001])
    assert model.polling_requests_per_message(1.0, intervals) == pytest.approx([2.0, 1.0, 0.5])


def _simulate_polls(rate: float, interval: float, arrivals: str, seed: int = 1) -> float:
    """Fraction of empty polls when polls happen every ``interval`` and messages arrive."""
    rng = np.random.default_rng(seed)
    horizon = 20_000 * interval
    if arrivals == "poisson":
        times = np.cumsum(rng.exponential(1 / rate, int(rate * horizon * 1.1) + 100))
    else:
        times = rng.uniform(0, 1 / rate) + np.arange(0, horizon * rate + 1) / rate
    counts, _ = np.histogram(times, bins=np.arange(0, horizon + interval / 2, interval))
    return float(np.mean(counts == 0))


@pytest.mark.parametrize("arrivals", ["poisson", "periodic"])
@pytest.mark.parametrize("interval", [0.25, 0.7, 2.0])
def test_simulated_polls_come_back_empty_as_the_model_says(arrivals: str, interval: float) -> None:
    simulated = _simulate_polls(1.0, interval, arrivals)
    assert simulated == pytest.approx(
        model.polling_empty_fraction(1.0, interval, arrivals),  # type: ignore[arg-type]
        abs=0.01,
    )


# --- Long polling ---------------------------------------------------------------------------


def test_longpoll_needs_one_request_per_message_at_moderate_rates() -> None:
    # λ = 1/s, g = 2 ms, no timeout: λg + e^(−λg) = 1 + (λg)²/2 → 0.999998
    assert model.longpoll_requests_per_message(1.0, 0.002) == pytest.approx(1.0, abs=1e-5)


def test_longpoll_batches_when_messages_arrive_during_the_reconnect_gap() -> None:
    # λg = 1 (100 msg/s, 10 ms gap): 1 / (1 + e^-1) = 0.731059
    assert model.longpoll_requests_per_message(100.0, 0.01) == pytest.approx(0.731059, abs=1e-6)


def test_longpoll_tends_to_one_request_per_gap_at_very_high_rates() -> None:
    # λg = 50: 1/(λg + e^-50) ≈ 1/50
    assert model.longpoll_requests_per_message(5000.0, 0.01) == pytest.approx(0.02, rel=1e-6)


def test_longpoll_timeouts_add_empty_requests_at_low_rates() -> None:
    # λ = 0.01/s, τ = 25 s, g = 0: 1 / (1 − e^-0.25) = 4.520812 — one request every 25 s.
    assert model.longpoll_requests_per_message(0.01, 0.0, 25.0) == pytest.approx(4.520812, abs=1e-6)


def test_longpoll_empty_fraction_is_the_chance_of_nothing_in_gap_and_hold() -> None:
    # λ = 0.1/s, g = 0, τ = 25 s: e^-2.5 = 0.082085; without a timeout nothing is empty.
    assert model.longpoll_empty_fraction(0.1, 0.0, 25.0) == pytest.approx(0.082085, abs=1e-6)
    assert model.longpoll_empty_fraction(0.1, 0.01) == 0.0


def test_longpoll_latency_lies_between_one_and_three_transits() -> None:
    # RFC 6202 §2.2: best d, worst d + d + d.
    assert model.longpoll_latency_bounds_s(0.005) == pytest.approx((0.005, 0.015))
    assert model.longpoll_latency_bounds_s(0.005, reconnect_gap_s=0.004) == pytest.approx(
        (0.005, 0.009)
    )


def test_longpoll_mean_latency_is_one_transit_at_low_rates() -> None:
    assert model.longpoll_mean_latency_s(0.01, 0.005) == pytest.approx(0.005, rel=1e-4)


def test_longpoll_mean_latency_with_a_busy_gap() -> None:
    # λ = 100/s, d = 5 ms, g = 10 ms: P(gap) = 0.01 / (0.01 + e^-1/100) = 0.731059
    # mean = d + (g/2)·P(gap) = 0.005 + 0.005 × 0.731059 = 0.008655
    assert model.longpoll_mean_latency_s(100.0, 0.005) == pytest.approx(0.0086553, abs=1e-7)


def test_longpoll_mean_latency_tends_to_two_transits_at_very_high_rates() -> None:
    assert model.longpoll_mean_latency_s(1e6, 0.005) == pytest.approx(0.010, rel=1e-4)


def _simulate_longpoll(
    rate: float, transit: float, timeout: float, horizon: float, seed: int = 3
) -> tuple[float, float]:
    """Replay a long-poll client: (requests per delivered message, mean latency).

    A request reaches the server at ``t``; the server answers at once if messages are waiting,
    else at the next arrival or after ``timeout``. The answer takes ``transit`` to the client,
    and its next request another ``transit`` back: the gap is two transits.
    """
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / rate, int(rate * horizon * 1.2) + 100))
    arrivals = arrivals[arrivals < horizon]
    t, first_waiting, requests, latencies = 0.0, 0, 0, []
    while t < horizon and first_waiting < arrivals.size:
        requests += 1
        if arrivals[first_waiting] <= t:
            answer_at = t
        elif arrivals[first_waiting] - t <= timeout:
            answer_at = arrivals[first_waiting]
        else:
            answer_at = t + timeout
        delivered_until = int(np.searchsorted(arrivals, answer_at, side="right"))
        latencies.extend(answer_at - arrivals[first_waiting:delivered_until] + transit)
        first_waiting = delivered_until
        t = answer_at + 2 * transit
    return requests / len(latencies), float(np.mean(latencies))


@pytest.mark.parametrize(
    ("rate", "transit", "timeout"),
    [(1.0, 0.005, math.inf), (100.0, 0.005, math.inf), (400.0, 0.005, math.inf), (0.05, 0.0, 25.0)],
)
def test_simulated_long_polls_match_the_model(rate: float, transit: float, timeout: float) -> None:
    horizon = 40_000 / rate
    requests_per_message, mean_latency = _simulate_longpoll(rate, transit, timeout, horizon)
    gap = 2 * transit
    assert requests_per_message == pytest.approx(
        model.longpoll_requests_per_message(rate, gap, timeout), rel=0.02
    )
    if transit > 0:
        assert mean_latency == pytest.approx(
            model.longpoll_mean_latency_s(rate, transit, gap, timeout), rel=0.02
        )


# --- WebSocket and SSE ----------------------------------------------------------------------


def test_push_requests_per_message_is_one_handshake_shared_by_the_run() -> None:
    # 1 msg/s for 60 s: 1/60; two connections at 10 msg/s for 30 s: 2/300.
    assert model.push_requests_per_message(1.0, 60.0) == pytest.approx(1 / 60)
    assert model.push_requests_per_message(10.0, 30.0, 2) == pytest.approx(2 / 300)


def test_push_requests_per_message_vanishes_for_long_runs() -> None:
    assert model.push_requests_per_message(1.0, 1e9) < 1e-8


def test_pushed_message_takes_one_transit() -> None:
    assert model.push_latency_s(0.003) == 0.003


# --- A network with a round-trip time (issue 12) ---------------------------------------------


def test_polling_through_a_network_waits_half_an_interval_and_one_transit() -> None:
    # T = 1 s, RTT = 300 ms: 0.5 + 0.15
    assert model.network_mean_latency_s("polling", 0.3, poll_interval_s=1.0) == pytest.approx(0.65)


@pytest.mark.parametrize("technique", ["websocket", "sse"])
def test_a_push_takes_one_transit(technique: str) -> None:
    # RTT = 300 ms: 0.15; RTT = 0: 0
    assert model.network_mean_latency_s(technique, 0.3) == pytest.approx(0.15)
    assert model.network_mean_latency_s(technique, 0.0) == 0


def test_long_polling_at_a_low_rate_takes_about_one_transit() -> None:
    # RTT = 100 ms, λ = 1/s, r = 0, no timeout: g = 0.1, cycle = 0.1 + e^-0.1 = 1.004837,
    # mean = 0.05 + 0.05 · 0.1 / 1.004837 = 0.0549759 (1.0995 transits)
    mean = model.network_mean_latency_s("longpoll", 0.1, publish_rate=1.0)
    assert mean == pytest.approx(0.0549759, abs=1e-6)
    assert model.transits(mean, 0.1) == pytest.approx(1.09952, abs=1e-4)


def test_long_polling_at_a_high_rate_tends_to_two_transits() -> None:
    # RTT = 100 ms, λ = 20/s: λg = 2, cycle = 0.1 + e^-2/20 = 0.1067668,
    # mean = 0.05 + 0.05 · 0.1 / 0.1067668 = 0.0968311 (1.9366 transits)
    mean = model.network_mean_latency_s("longpoll", 0.1, publish_rate=20.0)
    assert mean == pytest.approx(0.0968311, abs=1e-6)


def test_the_reask_delay_lengthens_long_pollings_gap() -> None:
    # RTT = 100 ms, r = 100 ms, λ = 1/s: g = 0.2, cycle = 0.2 + e^-0.2 = 1.018731,
    # mean = 0.05 + 0.1 · 0.2 / 1.018731 = 0.0696323
    mean = model.network_mean_latency_s("longpoll", 0.1, publish_rate=1.0, reask_delay_s=0.1)
    assert mean == pytest.approx(0.0696323, abs=1e-6)


def test_long_polling_stays_between_one_and_three_transits() -> None:
    rates = np.geomspace(0.01, 1000, 50)
    counted = model.transits(model.network_mean_latency_s("longpoll", 0.2, publish_rate=rates), 0.2)
    assert np.all(counted >= 1) and np.all(counted <= 3)
    assert np.all(np.diff(counted) >= 0) and counted[-1] == pytest.approx(2)


def test_a_comparison_uses_the_rate_the_window_published_and_its_sample() -> None:
    import pandas as pd

    from pushlab.bench.analysis import comparison

    row = pd.Series({"publish_rate": 0.2, "messages_published": 2, "duration_s": 15.0})
    assert comparison.realised_rate(row) == pytest.approx(2 / 15)
    assert comparison.messages_of(row) == 2
    # 9.2 requests per message against a model of 8 with 2 messages: ±71% at one SE, agrees.
    loose = comparison.Check(9.2, 8.0, comparison.per_message_se(8.0, 2), 2)
    assert loose.agrees and "2 messages: within 2 standard errors" in loose.verdict()
    # The same gap with 400 messages is 3 standard errors: a difference.
    tight = comparison.Check(9.2, 8.0, comparison.per_message_se(8.0, 400), 400)
    assert not tight.agrees and "3.0 standard errors apart" in tight.verdict()
