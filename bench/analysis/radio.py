"""What a client's traffic costs a phone's radio: an RRC state machine run over a timeline.

The input is a *timeline*: the time and size of every write one client made or received, in
each direction. The output is the radio's energy (J), the time it spent in each state and the
number of promotions, over a span of that timeline. The parameters are a profile of
``pushlab/radio_profiles.py`` (ARO's LTE and 3G defaults).

**LTE** follows ARO's ``RrcStateRangeFactoryImpl.createLTE`` (``attdevsupport/VideoOptimizer``,
at the commit named in ``pushlab/radio_profiles.py``). A packet after the radio went idle is
preceded by a *promotion* (``promotion_s`` at ``promotion_w``, ending at the packet); packets
less than ``inactivity_s`` apart are *continuous* reception; after the last one the radio stays in
continuous reception for ``inactivity_s`` (the *tail*), then ``short_drx_s`` of short DRX, then
``long_drx_s`` of long DRX, and only then idles. A packet during the tail needs no promotion.
In DRX and idle the radio wakes briefly every cycle: each state's power is its cycle's average.
Bytes add ARO's throughput term, α × bits (``alpha_*_mw_per_mbps``); ARO spreads it over 0.5 s
windows of continuous reception, which sums to the same energy.

**3G** is a simplified ARO ``create3G``: IDLE → DCH promotion ending at the packet; DCH until
``dch_fach_timer_s`` after the last *burst* (ARO's ``DchDemotionQueue``: sparse small packets do
not restart the timer); FACH for ``fach_idle_timer_s`` more, then IDLE. Writes during FACH fill
its RLC buffers (ARO's ``FachQueue``); one that overflows them promotes the radio to DCH.
Left out of ARO's model: the min/max spread of promotion delays (the average is used) and its
special cases for packets that arrive during a promotion.

Two approximations of ARO's LTE code, both said here: idle paging is its average power over a
cycle (ARO charges a partial cycle at paging power throughout), and the promotion of the first
packet of a span is always whole (its start may fall before the span).

Pure functions over numpy arrays, with no clock and no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pushlab.radio_profiles import RadioProfile

IDLE = "idle"
PROMOTION = "promotion"  # LTE: IDLE → continuous; 3G: IDLE → DCH
CONTINUOUS = "continuous"
TAIL = "tail"  # LTE: continuous reception after the last packet, before DRX
SHORT_DRX = "short_drx"
LONG_DRX = "long_drx"
DCH = "dch"
FACH = "fach"
FACH_PROMOTION = "fach_promotion"  # 3G: FACH → DCH

STATES = {
    "lte": (IDLE, PROMOTION, CONTINUOUS, TAIL, SHORT_DRX, LONG_DRX),
    "3g": (IDLE, PROMOTION, DCH, FACH, FACH_PROMOTION),
}
"""Each state machine's states, from idle upward."""


@dataclass(frozen=True)
class Timeline:
    """One client's traffic: a time (s, any origin, sorted) and its bytes up and down."""

    at_s: np.ndarray
    up_bytes: np.ndarray
    down_bytes: np.ndarray

    @classmethod
    def of(cls, events: list[tuple[float, int, int]]) -> Timeline:
        """From ``(at_s, up_bytes, down_bytes)`` triples, in any order."""
        columns = list(zip(*events, strict=True)) if events else [(), (), ()]
        at = np.asarray(columns[0], dtype=np.float64)
        up = np.asarray(columns[1], dtype=np.int64)
        down = np.asarray(columns[2], dtype=np.int64)
        order = np.lexsort((down, up, at))  # as sorted() orders the triples
        return cls(at[order], up[order], down[order])

    @classmethod
    def signed(cls, at_s: np.ndarray, signed_bytes: np.ndarray) -> Timeline:
        """From the recorder's arrays: bytes > 0 were sent (up), < 0 received (down)."""
        order = np.argsort(at_s, kind="stable")
        at, size = np.asarray(at_s, dtype=np.float64)[order], np.asarray(signed_bytes)[order]
        return cls(at, np.clip(size, 0, None).astype(np.int64), np.clip(-size, 0, None))


@dataclass(frozen=True)
class Span:
    start_s: float
    end_s: float
    state: str


@dataclass(frozen=True)
class RadioUse:
    """The radio over one span of a timeline."""

    energy_j: float
    duration_s: float
    state_s: dict[str, float] = field(default_factory=dict)
    promotions: int = 0

    @property
    def awake_s(self) -> float:
        return self.duration_s - self.state_s.get(IDLE, 0.0)

    @property
    def awake_fraction(self) -> float:
        return self.awake_s / self.duration_s if self.duration_s > 0 else float("nan")

    @property
    def mean_power_w(self) -> float:
        return self.energy_j / self.duration_s if self.duration_s > 0 else float("nan")

    @property
    def energy_j_per_hour(self) -> float:
        return self.mean_power_w * 3600


def state_power_w(profile: RadioProfile, state: str) -> float:
    """A state's average power (W); in DRX and idle, the average over one wake-up cycle."""
    p = profile
    if p.kind == "lte":
        return {
            IDLE: cycle_w(p["idle_ping_s"], p["idle_ping_w"], p["idle_ping_period_s"], p["idle_w"]),
            PROMOTION: p["promotion_w"],
            CONTINUOUS: p["continuous_w"],
            TAIL: p["continuous_w"],
            SHORT_DRX: cycle_w(
                p["drx_ping_s"], p["short_drx_ping_w"], p["short_drx_period_s"], p["tail_w"]
            ),
            LONG_DRX: cycle_w(
                p["drx_ping_s"], p["long_drx_ping_w"], p["long_drx_period_s"], p["tail_w"]
            ),
        }[state]
    return {
        IDLE: p["idle_w"],
        PROMOTION: p["idle_dch_promotion_w"],
        DCH: p["dch_w"],
        FACH: p["fach_w"],
        FACH_PROMOTION: p["fach_dch_promotion_w"],
    }[state]


def cycle_w(wake_s: float, wake_w: float, period_s: float, rest_w: float) -> float:
    """Average power of a cycle: awake ``wake_s`` at ``wake_w``, the rest at ``rest_w``."""
    return (wake_s * wake_w + (period_s - wake_s) * rest_w) / period_s


def tail_s(profile: RadioProfile) -> float:
    """How long the radio stays awake after a lone packet (the tail)."""
    p = profile
    if p.kind == "lte":
        return p["inactivity_s"] + p["short_drx_s"] + p["long_drx_s"]
    return p["dch_fach_timer_s"] + p["fach_idle_timer_s"]


def spans(timeline: Timeline, profile: RadioProfile, end_s: float) -> list[Span]:
    """The radio's states from just before the first packet (its promotion) until ``end_s``;
    packets after ``end_s`` are ignored. An empty timeline is one idle span from ``end_s``."""
    starts, ends, states = _span_arrays(timeline, profile, end_s)
    names = STATES[profile.kind]
    return [
        Span(start, end, names[state])
        for start, end, state in zip(starts.tolist(), ends.tolist(), states.tolist(), strict=True)
    ]


def _span_arrays(
    timeline: Timeline, profile: RadioProfile, end_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``spans`` as three arrays: start, end and the state's index in ``STATES[profile.kind]``."""
    keep = timeline.at_s <= end_s
    at = timeline.at_s[keep]
    if len(at) == 0:
        return np.array([end_s]), np.array([end_s]), np.array([0])  # STATES' first is IDLE
    if profile.kind == "lte":
        return _lte_spans(at, profile, end_s)
    drawn = _three_g_spans(at, timeline.up_bytes[keep], timeline.down_bytes[keep], profile, end_s)
    index = {name: k for k, name in enumerate(STATES["3g"])}
    return (
        np.array([span.start_s for span in drawn]),
        np.array([span.end_s for span in drawn]),
        np.array([index[span.state] for span in drawn]),
    )


def _lte_spans(
    at: np.ndarray, p: RadioProfile, end_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ARO's ``createLTE``: promote before a packet that finds the radio idle, then a tail.

    Packets less than ``inactivity_s`` apart form a *burst* of continuous reception. After each
    burst's last packet come the tail's three states, each cut short by the next burst's first
    packet (or ``end_s``); if they all ran out first, the radio idles and is promoted again,
    the promotion ending at that packet. All bursts at once, as arrays: one row of six
    candidate spans per burst (continuous, tail, short DRX, long DRX, idle, promotion), of
    which the empty ones are dropped, after the first packet's promotion."""
    promotion_s, inactivity_s = p["promotion_s"], p["inactivity_s"]
    breaks = np.flatnonzero(np.diff(at) > inactivity_s) + 1  # each later burst's first packet
    first = at[np.concatenate(([0], breaks))]
    last = at[np.concatenate((breaks - 1, [len(at) - 1]))]
    stop = np.concatenate((at[breaks], [end_s]))  # what cuts each burst's tail short
    final = np.arange(len(first)) == len(first) - 1
    tail_starts, tail_ends = [], []  # tail, short DRX, long DRX: one after another, to ``stop``
    start = last
    for length in (inactivity_s, p["short_drx_s"], p["long_drx_s"]):
        end = np.minimum(start + length, stop)
        tail_starts.append(start)
        tail_ends.append(end)
        start = np.maximum(start, end)
    promotion_start = np.maximum(start, stop - promotion_s)
    starts = np.stack([first, *tail_starts, start, promotion_start], axis=1)
    ends = np.stack([last, *tail_ends, np.where(final, stop, promotion_start), stop], axis=1)
    kept = ends > starts
    kept[:, 5] = ~final & (start < stop)  # a promotion is kept even if empty: it is counted
    order = (CONTINUOUS, TAIL, SHORT_DRX, LONG_DRX, IDLE, PROMOTION)
    states = np.broadcast_to([STATES["lte"].index(name) for name in order], kept.shape)
    return (
        np.concatenate(([at[0] - promotion_s], starts[kept])),
        np.concatenate(([at[0]], ends[kept])),
        np.concatenate(([STATES["lte"].index(PROMOTION)], states[kept])),
    )


def _three_g_spans(
    at: np.ndarray, up: np.ndarray, down: np.ndarray, p: RadioProfile, end_s: float
) -> list[Span]:
    """ARO's ``create3G``, simplified: IDLE → (promotion) → DCH → FACH → IDLE."""
    if len(at) == 0:
        return [Span(end_s, end_s, IDLE)]
    out: list[Span] = []
    state, since = IDLE, float(at[0]) - p["idle_dch_promotion_s"]
    until = float("inf")  # when the present state's timer runs out
    dch, fach = _DchBursts(p), _FachBuffers(p)

    def add(start: float, end: float, name: str) -> None:
        if end > start:
            out.append(Span(start, end, name))

    def advance(now: float) -> None:
        """Let the timers run out until ``now``: DCH → FACH → IDLE."""
        nonlocal state, since, until
        while state != IDLE and now >= until:
            add(since, until, state)
            if state == DCH:
                state, since, until = FACH, until, until + p["fach_idle_timer_s"]
                fach.empty()
            else:
                state, since, until = IDLE, until, float("inf")

    def promote(packet_s: float, length_s: float, name: str, sent: int, received: int) -> None:
        nonlocal state, since, until
        start = max(since, packet_s - length_s)
        add(since, start, state)
        out.append(Span(start, packet_s, name))
        state, since, until = DCH, packet_s, packet_s + p["dch_fach_timer_s"]
        dch.start(packet_s, sent, received)

    for packet_s, sent, received in zip(map(float, at), map(int, up), map(int, down), strict=True):
        advance(packet_s)
        if state == IDLE:
            promote(packet_s, p["idle_dch_promotion_s"], PROMOTION, sent, received)
        elif state == DCH:
            if dch.restarts_timer(packet_s, sent, received):
                until = packet_s + p["dch_fach_timer_s"]
        elif fach.overflows(packet_s, sent, received):
            promote(packet_s, p["fach_dch_promotion_s"], FACH_PROMOTION, sent, received)
        else:
            until = packet_s + p["fach_idle_timer_s"]  # FACH carries it
    advance(end_s)
    add(since, end_s, state)
    return out


class _DchBursts:
    """ARO's ``DchDemotionQueue``: in DCH, only a burst of ``dch_reset_bytes`` in one
    direction within ``dch_reset_window_s`` restarts the DCH timer; sparse small packets do
    not, so a trickle of them lets the radio fall back to FACH."""

    def __init__(self, p: RadioProfile) -> None:
        self.window_s, self.reset_bytes = p["dch_reset_window_s"], p["dch_reset_bytes"]
        self.queued = [0, 0]  # up, down
        self.last_s = [-math.inf, -math.inf]

    def start(self, at_s: float, sent: int, received: int) -> None:
        way = 0 if sent else 1
        self.queued = [sent, 0] if way == 0 else [0, received]
        self.last_s = [at_s, -math.inf] if way == 0 else [-math.inf, at_s]

    def restarts_timer(self, at_s: float, sent: int, received: int) -> bool:
        way, size = (0, sent) if sent else (1, received)
        window_s = self.window_s
        self.queued[way] = size if at_s > self.last_s[way] + window_s else self.queued[way] + size
        if at_s > self.last_s[1 - way] + window_s:
            self.queued[1 - way] = 0
        self.last_s[way] = at_s
        return max(self.queued) >= self.reset_bytes


class _FachBuffers:
    """ARO's ``FachQueue``: FACH's RLC buffers fill with each write and drain in a time that
    grows with what they hold; past ``fach_*_limit_bytes`` the radio is promoted to DCH."""

    def __init__(self, p: RadioProfile) -> None:
        self.drain = [  # each way's drain time (ms) = a·q² + b·q + c, for q bytes held
            (p[f"{name}_ms_per_b2"], p[f"{name}_ms_per_b"], p[f"{name}_ms"])
            for name in ("rlc_up_drain", "rlc_down_drain")
        ]
        self.limits = (p["fach_up_limit_bytes"], p["fach_down_limit_bytes"])
        self.empty()

    def empty(self) -> None:
        self.queued = [0, 0]
        self.last_s = [-math.inf, -math.inf]

    def overflows(self, at_s: float, sent: int, received: int) -> bool:
        way, size = (0, sent) if sent else (1, received)
        per_b2, per_b, ms = self.drain[way]
        q = self.queued[way]
        drain_s = (q * q * per_b2 + q * per_b + ms) / 1000
        self.queued[way] = (0 if at_s - self.last_s[way] > drain_s else q) + size
        self.last_s[way] = at_s
        return self.queued[0] > self.limits[0] or self.queued[1] > self.limits[1]


def throughput_j(profile: RadioProfile, up_bytes: int, down_bytes: int) -> float:
    """The energy the bytes themselves add (LTE's α terms; ARO's 3G model has none)."""
    if profile.kind != "lte":
        return 0.0
    mj_per_bit = 1e-6  # (mW/Mbps) × bits = 1e-6 mJ per bit per (mW/Mbps)
    return (
        profile["alpha_up_mw_per_mbps"] * up_bytes * 8 * mj_per_bit
        + profile["alpha_down_mw_per_mbps"] * down_bytes * 8 * mj_per_bit
    ) / 1000


def radio_use(timeline: Timeline, profile: RadioProfile, start_s: float, end_s: float) -> RadioUse:
    """The radio over ``[start_s, end_s)``: the state machine runs from the timeline's first
    packet (so that traffic before the span sets the state it starts in), then only the span
    is counted. Promotions are counted where the packet that caused them falls in the span."""
    if not end_s > start_s:
        raise ValueError("the span must have end_s > start_s")
    names = STATES[profile.kind]
    power_w = np.array([state_power_w(profile, state) for state in names])
    starts, ends, states = _span_arrays(timeline, profile, end_s)
    if start_s < starts[0]:  # before the first packet's promotion, the radio idled
        starts, ends = np.concatenate(([start_s], starts)), np.concatenate(([starts[0]], ends))
        states = np.concatenate(([names.index(IDLE)], states))
    promoting = np.isin(states, [names.index(s) for s in (PROMOTION, FACH_PROMOTION) if s in names])
    promotions = int(np.count_nonzero(promoting & (start_s <= ends) & (ends < end_s)))
    length = np.minimum(ends, end_s) - np.maximum(starts, start_s)
    length = np.where(length > 0, length, 0.0)
    # Summed in span order (cumsum adds one after another), as a loop over the spans would.
    energy_j = float(np.cumsum(length * power_w[states])[-1])
    state_s = {
        name: float(np.cumsum(np.where(states == k, length, 0.0))[-1])
        for k, name in enumerate(names)
    }
    inside = (timeline.at_s >= start_s) & (timeline.at_s < end_s)
    energy_j += throughput_j(
        profile, int(timeline.up_bytes[inside].sum()), int(timeline.down_bytes[inside].sum())
    )
    return RadioUse(energy_j, end_s - start_s, state_s, promotions)


def wakeup_j(profile: RadioProfile) -> float:
    """One lone packet's energy while the radio is awake for it: promotion and tail (no bytes)."""
    lone = Timeline.of([(0.0, 0, 0)])
    return sum(
        (span.end_s - span.start_s) * state_power_w(profile, span.state)
        for span in spans(lone, profile, tail_s(profile) + 1.0)
        if span.state != IDLE
    )
