"""The table of facts about mobile radios: one profile per network, every parameter with its unit
and where it comes from.

A phone's cellular radio does not sleep the moment its last packet has gone: the network keeps
it in a high-power state (RRC *connected*) for seconds after, in case more traffic follows, and
waking it from idle (a *promotion*) costs energy and time of its own. What a technique costs a
phone is therefore set less by its bytes than by how often it wakes the radio and how long the
radio then stays awake. ``bench/analysis/radio.py`` turns a client's traffic into that cost.

The numbers are AT&T's ARO (Video Optimizer) defaults, read from its source at
``attdevsupport/VideoOptimizer`` commit ``d164529332a87106e36d9aae3f26b490e3ce810f``:

- **LTE**: ``ARO.Core/src/main/resources/lte.conf`` (the profile ``createLTEdefault()`` loads;
  its values equal the fallbacks hard-coded in ``ProfileFactoryImpl.createLTE``). They follow
  Huang et al., "A Close Examination of Performance and Power Characteristics of 4G LTE
  Networks" (MobiSys 2012).
- **3G**: the defaults hard-coded in
  ``ARO.Core/src/main/java/com/att/aro/core/configuration/impl/ProfileFactoryImpl.java``
  (``create3G``). ARO's bundled ``i997.conf`` (a Samsung i997) differs: DCH→FACH 4 s,
  FACH→IDLE 10 s, DCH 1.30 W, FACH 0.30 W, IDLE→DCH promotion 0.65 W.

**5G NR** (with RRC_INACTIVE): ARO has no 5G profile, and no published set of absolute
parameters (seconds and watts, with a source we could cite) was found; 3GPP TR 38.840 gives
power in *relative* units only. There is therefore no 5G profile here.

The module imports nothing from pushlab and nothing outside the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ARO_REPOSITORY = "attdevsupport/VideoOptimizer"
ARO_COMMIT = "d164529332a87106e36d9aae3f26b490e3ce810f"
LTE_SOURCE = "ARO.Core/src/main/resources/lte.conf"
THREE_G_SOURCE = (
    "ARO.Core/src/main/java/com/att/aro/core/configuration/impl/ProfileFactoryImpl.java"
)


@dataclass(frozen=True)
class Parameter:
    """One number of a profile: its value, unit, meaning, and its key in the source file."""

    value: float
    unit: str
    meaning: str
    source_key: str


@dataclass(frozen=True)
class RadioProfile:
    """One network's radio: its state machine (``kind``) and its parameters by name."""

    name: str  # the identifier in column names: ``radio_energy_j_per_hour_lte``
    label: str
    kind: str  # which state machine ``bench/analysis/radio.py`` runs: "lte" or "3g"
    source: str  # the file the values were read from (in ARO_REPOSITORY at ARO_COMMIT)
    parameters: Mapping[str, Parameter] = field(hash=False)  # hashed by its name

    def __getitem__(self, name: str) -> float:
        return self.parameters[name].value

    def as_json(self) -> dict[str, Any]:
        """The profile as a page can read it (the radio gauge, ``servers/static/radio.js``)."""
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "source": f"{ARO_REPOSITORY}@{ARO_COMMIT[:12]}:{self.source}",
            "parameters": {key: p.value for key, p in self.parameters.items()},
        }


def _p(value: float, unit: str, meaning: str, key: str) -> Parameter:
    return Parameter(value, unit, meaning, key)


LTE = RadioProfile(
    name="lte",
    label="LTE",
    kind="lte",
    source=LTE_SOURCE,
    parameters={
        "promotion_s": _p(0.26, "s", "IDLE → continuous reception", "T_PROMOTION"),
        "promotion_w": _p(1.21, "W", "power while promoting", "P_PROMOTION"),
        "inactivity_s": _p(
            0.1, "s", "continuous reception after the last packet", "INACTIVITY_TIMER"
        ),
        "continuous_w": _p(1.2, "W", "continuous reception, before throughput", "LTE_BETA"),
        "short_drx_s": _p(0.02, "s", "time in short DRX", "T_SHORT_DRX"),
        "short_drx_period_s": _p(0.02, "s", "short DRX cycle", "T_SHORT_DRX_PING_PERIOD"),
        "long_drx_s": _p(10.0, "s", "time in long DRX, the end of the tail", "T_LONG_DRX"),
        "long_drx_period_s": _p(0.04, "s", "long DRX cycle", "T_LONG_DRX_PING_PERIOD"),
        "drx_ping_s": _p(0.002, "s", "a wake-up (ping) in a DRX cycle", "T_DRX_PING"),
        "short_drx_ping_w": _p(1.68, "W", "power of a short-DRX wake-up", "P_SHORT_DRX_PING"),
        "long_drx_ping_w": _p(1.68, "W", "power of a long-DRX wake-up", "P_LONG_DRX_PING"),
        "tail_w": _p(1.06, "W", "power between DRX wake-ups", "P_TAIL"),
        "idle_ping_s": _p(0.043, "s", "an idle paging wake-up", "T_IDLE_PING"),
        "idle_ping_period_s": _p(1.28, "s", "idle paging cycle", "T_IDLE_PING_PERIOD"),
        "idle_ping_w": _p(0.594, "W", "power of an idle paging wake-up", "P_IDLE_PING"),
        "idle_w": _p(0.0, "W", "power between idle wake-ups", "P_IDLE"),
        "alpha_up_mw_per_mbps": _p(438.39, "mW/Mbps", "uplink throughput term", "LTE_ALPHA_UP"),
        "alpha_down_mw_per_mbps": _p(
            51.97, "mW/Mbps", "downlink throughput term", "LTE_ALPHA_DOWN"
        ),
    },
)

THREE_G = RadioProfile(
    name="3g",
    label="3G",
    kind="3g",
    source=THREE_G_SOURCE,
    parameters={
        "idle_dch_promotion_s": _p(
            2.0, "s", "IDLE → DCH promotion (average)", "IDLE_DCH_PROMO_AVG"
        ),
        "idle_dch_promotion_w": _p(0.53, "W", "power while promoting from IDLE", "POWER_IDLE_DCH"),
        "fach_dch_promotion_s": _p(
            1.5, "s", "FACH → DCH promotion (average)", "FACH_DCH_PROMO_AVG"
        ),
        "fach_dch_promotion_w": _p(0.55, "W", "power while promoting from FACH", "POWER_FACH_DCH"),
        "dch_fach_timer_s": _p(5.0, "s", "DCH after the last packet, then FACH", "DCH_FACH_TIMER"),
        "fach_idle_timer_s": _p(
            12.0, "s", "FACH after the last packet, then IDLE", "FACH_IDLE_TIMER"
        ),
        "dch_w": _p(0.7, "W", "power in DCH", "POWER_DCH"),
        "fach_w": _p(0.35, "W", "power in FACH", "POWER_FACH"),
        "idle_w": _p(0.0, "W", "power in IDLE", "POWER_IDLE"),
        "fach_up_limit_bytes": _p(543, "B", "uplink RLC buffer FACH carries", "RLC_UL_TH"),
        "fach_down_limit_bytes": _p(475, "B", "downlink RLC buffer FACH carries", "RLC_DL_TH"),
        "rlc_up_drain_ms": _p(20.0, "ms", "uplink buffer drain time, constant", "RLC_UL_RATE_P0"),
        "rlc_up_drain_ms_per_b": _p(1.6, "ms/B", "… per byte", "RLC_UL_RATE_P1"),
        "rlc_up_drain_ms_per_b2": _p(0.0014, "ms/B²", "… per byte squared", "RLC_UL_RATE_P2"),
        "rlc_down_drain_ms": _p(
            10.0, "ms", "downlink buffer drain time, constant", "RLC_DL_RATE_P0"
        ),
        "rlc_down_drain_ms_per_b": _p(0.1, "ms/B", "… per byte", "RLC_DL_RATE_P1"),
        "rlc_down_drain_ms_per_b2": _p(
            0.0, "ms/B²", "… per byte squared (unset: 0)", "RLC_DL_RATE_P2"
        ),
        "dch_reset_bytes": _p(
            320, "B", "bytes in one window that restart DCH's timer", "DCH_TIMER_RESET_SIZE"
        ),
        "dch_reset_window_s": _p(
            0.3, "s", "the window those bytes are counted in", "DCH_TIMER_RESET_WIN"
        ),
    },
)

PROFILES: dict[str, RadioProfile] = {profile.name: profile for profile in (LTE, THREE_G)}
"""Every profile, in the order columns, tables and figures use."""
