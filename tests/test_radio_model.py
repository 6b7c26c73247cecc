"""The radio model on timelines small enough to compute by hand (``bench/analysis/radio.py``).

Expected values are written out from the profile's parameters, state by state, so that each
test reads as the arithmetic a student would do.
"""

from __future__ import annotations

import numpy as np
import pytest

from pushlab.bench.analysis import radio
from pushlab.bench.analysis.radio import Timeline, radio_use
from pushlab.radio_profiles import LTE, PROFILES, THREE_G

P = LTE.parameters


def v(name: str) -> float:
    return P[name].value


IDLE_W = v("idle_ping_s") * v("idle_ping_w") / v("idle_ping_period_s")  # P_IDLE is 0
SHORT_DRX_W = (
    v("drx_ping_s") * v("short_drx_ping_w")
    + (v("short_drx_period_s") - v("drx_ping_s")) * v("tail_w")
) / v("short_drx_period_s")
LONG_DRX_W = (
    v("drx_ping_s") * v("long_drx_ping_w")
    + (v("long_drx_period_s") - v("drx_ping_s")) * v("tail_w")
) / v("long_drx_period_s")
PROMOTION_J = v("promotion_s") * v("promotion_w")
TAIL_J = (
    v("inactivity_s") * v("continuous_w")
    + v("short_drx_s") * SHORT_DRX_W
    + v("long_drx_s") * LONG_DRX_W
)
TAIL_S = v("inactivity_s") + v("short_drx_s") + v("long_drx_s")


def test_every_parameter_has_a_unit_a_meaning_and_a_source_key() -> None:
    for profile in PROFILES.values():
        assert profile.source and profile.kind in radio.STATES
        for name, parameter in profile.parameters.items():
            assert parameter.unit and parameter.meaning and parameter.source_key, name


def test_one_isolated_lte_packet_costs_a_promotion_and_a_tail() -> None:
    use = radio_use(Timeline.of([(0.0, 0, 0)]), LTE, -10.0, 30.0)
    awake_s = v("promotion_s") + TAIL_S
    assert use.energy_j == pytest.approx(PROMOTION_J + TAIL_J + (40.0 - awake_s) * IDLE_W)
    assert use.promotions == 1
    assert use.awake_s == pytest.approx(awake_s)
    assert use.state_s[radio.LONG_DRX] == pytest.approx(v("long_drx_s"))
    assert radio.wakeup_j(LTE) == pytest.approx(PROMOTION_J + TAIL_J)


def test_two_packets_inside_one_tail_pay_one_promotion_and_one_full_tail() -> None:
    use = radio_use(Timeline.of([(0.0, 0, 0), (5.0, 0, 0)]), LTE, -1.0, 30.0)
    cut_tail_j = v("inactivity_s") * v("continuous_w") + v("short_drx_s") * SHORT_DRX_W
    cut_tail_j += (5.0 - v("inactivity_s") - v("short_drx_s")) * LONG_DRX_W
    idle_s = 31.0 - v("promotion_s") - 5.0 - TAIL_S
    assert use.promotions == 1
    assert use.energy_j == pytest.approx(PROMOTION_J + cut_tail_j + TAIL_J + idle_s * IDLE_W)


def test_packets_further_apart_than_the_tail_each_pay_a_promotion() -> None:
    gap_s = TAIL_S + 1.0
    use = radio_use(Timeline.of([(k * gap_s, 0, 0) for k in range(4)]), LTE, -1.0, 4 * gap_s)
    assert use.promotions == 4
    assert use.state_s[radio.IDLE] == pytest.approx(4 * gap_s + 1 - 4 * (v("promotion_s") + TAIL_S))


def test_periodic_traffic_faster_than_the_tail_never_lets_the_radio_idle() -> None:
    every_s = TAIL_S / 2
    timeline = Timeline.of([(k * every_s, 100, 0) for k in range(40)])
    use = radio_use(timeline, LTE, 10.0, 30 * every_s)
    assert use.state_s[radio.IDLE] == 0.0
    assert use.awake_fraction == 1.0
    assert use.promotions == 0


def test_bytes_add_the_throughput_term() -> None:
    quiet = radio_use(Timeline.of([(0.0, 0, 0), (0.05, 0, 0)]), LTE, -1.0, 20.0)
    loaded = radio_use(Timeline.of([(0.0, 1000, 0), (0.05, 0, 5000)]), LTE, -1.0, 20.0)
    expected_j = (v("alpha_up_mw_per_mbps") * 8000 + v("alpha_down_mw_per_mbps") * 40000) * 1e-9
    assert loaded.energy_j - quiet.energy_j == pytest.approx(expected_j)
    assert radio_use(Timeline.of([(0.0, 10**6, 0)]), THREE_G, -3.0, 30.0).energy_j == (
        pytest.approx(radio_use(Timeline.of([(0.0, 0, 0)]), THREE_G, -3.0, 30.0).energy_j)
    )


def test_traffic_before_the_span_sets_the_state_it_starts_in() -> None:
    """A span that opens in the middle of a tail pays for the rest of the tail."""
    use = radio_use(Timeline.of([(0.0, 0, 0)]), LTE, 5.0, 30.0)
    assert use.promotions == 0
    assert use.awake_s == pytest.approx(TAIL_S - 5.0)


def test_3g_lone_packet_is_promotion_then_dch_then_fach() -> None:
    q = THREE_G.parameters
    use = radio_use(Timeline.of([(0.0, 100, 0)]), THREE_G, -5.0, 40.0)
    assert use.energy_j == pytest.approx(
        q["idle_dch_promotion_s"].value * q["idle_dch_promotion_w"].value
        + q["dch_fach_timer_s"].value * q["dch_w"].value
        + q["fach_idle_timer_s"].value * q["fach_w"].value
    )
    assert use.promotions == 1
    assert radio.wakeup_j(THREE_G) == pytest.approx(use.energy_j)


def test_3g_small_write_in_fach_stays_in_fach_and_a_large_one_promotes() -> None:
    q = THREE_G.parameters
    in_fach_s = q["dch_fach_timer_s"].value + 2.0
    small = Timeline.of([(0.0, 100, 0), (in_fach_s, 0, int(q["fach_down_limit_bytes"].value))])
    large = Timeline.of([(0.0, 100, 0), (in_fach_s, 0, int(q["fach_down_limit_bytes"].value) + 1)])
    small_use = radio_use(small, THREE_G, -5.0, 60.0)
    large_use = radio_use(large, THREE_G, -5.0, 60.0)
    assert small_use.promotions == 1
    assert small_use.state_s[radio.FACH] == pytest.approx(2.0 + q["fach_idle_timer_s"].value)
    assert large_use.promotions == 2
    assert large_use.state_s[radio.FACH_PROMOTION] == pytest.approx(q["fach_dch_promotion_s"].value)
    assert large_use.state_s[radio.DCH] == pytest.approx(2 * q["dch_fach_timer_s"].value)


def test_an_empty_timeline_is_idle_throughout() -> None:
    use = radio_use(Timeline.of([]), LTE, 0.0, 100.0)
    assert use.awake_s == 0.0 and use.promotions == 0
    assert use.energy_j == pytest.approx(100.0 * IDLE_W)


def test_signed_arrays_split_into_up_and_down() -> None:
    timeline = Timeline.signed(np.array([2.0, 1.0]), np.array([-300, 120]))
    assert timeline.at_s.tolist() == [1.0, 2.0]
    assert timeline.up_bytes.tolist() == [120, 0]
    assert timeline.down_bytes.tolist() == [0, 300]


def test_a_span_must_have_a_length() -> None:
    with pytest.raises(ValueError):
        radio_use(Timeline.of([]), LTE, 5.0, 5.0)
