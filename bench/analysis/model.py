"""What each technique *should* cost, on paper — the numbers the measurements are held against.

Symbols (seconds and messages per second throughout; the plots convert to ms):

- ``λ`` (``publish_rate``): messages published per second, every client receives every message.
- ``T`` (``poll_interval_s``): time between two polls of one polling client.
- ``d`` (``transit_s``): one-way transit, server → client (network + server + client handling).
- ``g`` (``reconnect_gap_s``): a long poll's dead time, from the server answering a request to the
  client's next request reaching the server. With a client that re-asks at once, ``g ≈ 2d``
  (the answer travels to the client, the new request travels back).
- ``τ`` (``hold_timeout_s``): how long a long-poll server holds a request before answering empty.

Every formula is per client: all clients receive all messages, so "requests per message" means
requests one client makes for each message it receives — the ratio the bench reports as
``requests_per_message`` (requests ÷ deliveries).

The functions accept floats or NumPy arrays (so a plot can draw a whole curve in one call).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from pushlab.techniques import technique as technique_entry

Number = float | np.ndarray
"""A scalar, or an array of values to evaluate the formula at (element-wise)."""
Arrivals = Literal["poisson", "periodic"]

__all__ = [
    "longpoll_empty_fraction",
    "longpoll_latency_bounds_s",
    "longpoll_mean_latency_s",
    "longpoll_requests_per_message",
    "network_mean_latency_s",
    "polling_empty_fraction",
    "polling_latency_quantile_s",
    "polling_mean_latency_s",
    "polling_messages_per_data_response",
    "polling_requests_per_message",
    "push_latency_s",
    "push_requests_per_message",
    "transits",
]


# --- Polling --------------------------------------------------------------------------------


def polling_mean_latency_s(poll_interval_s: Number, transit_s: Number = 0.0) -> Number:
    """Mean delivery latency of polling: ``T/2 + d``.

    A message is published at a moment that has nothing to do with the client's poll clock, so
    it lands uniformly somewhere inside a poll period and waits, on average, half of it for the
    next poll to reach the server; then the answer takes one transit ``d`` to the client.
    The wait is uniform on ``[0, T]`` for Poisson arrivals and for periodic ones alike.

    ``T`` is the *effective* period: a client that sleeps ``T`` after each answer really polls
    every ``T + round trip``, which matters only when ``T`` is not much longer than a round trip.
    """
    return poll_interval_s / 2 + transit_s


def polling_latency_quantile_s(
    fraction: Number, poll_interval_s: float, transit_s: float = 0.0
) -> Number:
    """The latency under which ``fraction`` of polled messages arrive: ``d + fraction·T``.

    Same reasoning as :func:`polling_mean_latency_s`: latency is uniform on ``[d, T + d]``,
    so its CDF is a straight ramp from ``d`` to ``T + d``.
    """
    return transit_s + fraction * poll_interval_s


def polling_empty_fraction(
    publish_rate: Number, poll_interval_s: Number, arrivals: Arrivals = "poisson"
) -> Number:
    """Fraction of polls answered with nothing new.

    A poll comes back empty when no message was published since the previous poll, i.e. in the
    last ``T`` seconds.

    - Poisson arrivals (rate ``λ``): the count in a window of length ``T`` is Poisson with mean
      ``λT``, and P(count = 0) = ``e^(−λT)``.
    - Periodic arrivals (one every ``1/λ`` s, phase unrelated to the polls): a window shorter
      than the gap ``1/λ`` holds at most one message, with probability ``λT``; a longer window
      always holds one. So the empty fraction is ``max(0, 1 − λT)`` — lower than the Poisson
      value, because periodic messages never bunch up and leave long silences.
    """
    load = np.multiply(publish_rate, poll_interval_s)
    if arrivals == "poisson":
        return np.exp(-load)
    if arrivals == "periodic":
        return np.clip(1.0 - load, 0.0, 1.0)
    raise ValueError(f"unknown arrivals {arrivals!r}; choose 'poisson' or 'periodic'")


def polling_requests_per_message(publish_rate: Number, poll_interval_s: Number) -> Number:
    """Requests one polling client makes per message it receives: ``(1/T) / λ = 1/(λT)``.

    The client polls ``1/T`` times a second whatever happens, and receives ``λ`` messages a
    second (it gets them all, just late), so the ratio is a division of two rates — the same for
    Poisson and periodic arrivals. Polling every second at one message a minute is 60 requests
    per message; at ten messages a second it is 0.1, because each answer carries about ten.

    Do not confuse it with ``1/(1 − e^(−λT))``: that is polls per *non-empty* poll (how many
    polls it takes, on average, to find news), a different question — see
    :func:`polling_messages_per_data_response`.
    """
    return 1.0 / np.multiply(publish_rate, poll_interval_s)


def polling_messages_per_data_response(publish_rate: Number, poll_interval_s: Number) -> Number:
    """Mean messages in a poll answer that is not empty (Poisson): ``λT / (1 − e^(−λT))``.

    It is the mean of a Poisson count given that it is not zero. Multiply it by the non-empty
    fraction ``1 − e^(−λT)`` and you get back ``λT`` messages per poll — consistent with
    :func:`polling_requests_per_message`.
    """
    load = np.multiply(publish_rate, poll_interval_s)
    return load / -np.expm1(-load)


# --- Long polling ---------------------------------------------------------------------------


def _longpoll_cycle(
    publish_rate: Number, reconnect_gap_s: Number, hold_timeout_s: Number
) -> tuple[Number, Number]:
    """Shared by the long-poll formulas: (mean time per answer, P(news during the gap = 0)).

    Every answer is followed by a gap ``g`` during which no request is at the server. If a
    message arrived in the gap (probability ``1 − e^(−λg)``), the next request is answered at
    once; if not, the server holds it until the first arrival or the timeout ``τ``, which takes
    ``E[min(Exp(λ), τ)] = (1 − e^(−λτ))/λ`` on average. So the mean time between answers is
    ``g + e^(−λg)·(1 − e^(−λτ))/λ``.
    """
    quiet_gap = np.exp(-np.multiply(publish_rate, reconnect_gap_s))
    held = -np.expm1(-np.multiply(publish_rate, hold_timeout_s)) / publish_rate
    return reconnect_gap_s + quiet_gap * held, quiet_gap


def longpoll_requests_per_message(
    publish_rate: Number,
    reconnect_gap_s: Number,
    hold_timeout_s: Number = np.inf,
) -> Number:
    """Long-poll requests per message (Poisson): ``1 / (λg + e^(−λg)·(1 − e^(−λτ)))``.

    Derivation: one request per answer, and answers come once per cycle of mean length
    ``g + e^(−λg)(1 − e^(−λτ))/λ`` (see ``_longpoll_cycle``) while ``λ`` messages arrive per
    second; dividing gives the formula. Its three regimes are the lesson:

    - moderate rates, ``λg ≪ 1`` and ``λτ ≫ 1``: ≈ 1 — one request per message;
    - high rates, ``λg`` around 1 or more: below 1 — the messages that arrive while the client
      is re-asking wait in the history and leave together in one answer (→ ``1/(λg)``);
    - low rates, ``λτ`` small: above 1 — held requests time out empty and are asked again
      (→ ``1/(1 − e^(−λτ))`` when ``g`` is negligible, one request every ``τ`` seconds).

    Periodic arrivals with ``λg < 1`` never batch: exactly one request per message (plus
    timeouts if ``1/λ > τ``).
    """
    cycle_s, _ = _longpoll_cycle(publish_rate, reconnect_gap_s, hold_timeout_s)
    return 1.0 / np.multiply(publish_rate, cycle_s)


def longpoll_empty_fraction(
    publish_rate: Number,
    reconnect_gap_s: Number,
    hold_timeout_s: Number = np.inf,
) -> Number:
    """Fraction of long-poll answers that are empty timeouts: ``e^(−λg) · e^(−λτ)``.

    An answer is empty only if nothing arrived during the gap before its request *and* nothing
    arrived during the ``τ`` seconds it was held. Zero without a timeout.
    """
    return np.exp(-np.multiply(publish_rate, np.add(reconnect_gap_s, hold_timeout_s)))


def longpoll_latency_bounds_s(
    transit_s: Number, reconnect_gap_s: Number | None = None
) -> tuple[Number, Number]:
    """Best and worst long-poll latency: one transit, and ``g + d`` (three transits if ``g = 2d``).

    Best: the request is already held when the message is published; the answer takes ``d``.
    Worst (RFC 6202 §2.2, "Maximal Latency"): the message is published just after the server
    answered; it waits for that answer to reach the client (``d``), for the next request to come
    back (``d``), and for its own answer (``d``).
    """
    gap_s = 2 * transit_s if reconnect_gap_s is None else reconnect_gap_s
    return transit_s, gap_s + transit_s


def longpoll_mean_latency_s(
    publish_rate: Number,
    transit_s: Number,
    reconnect_gap_s: Number | None = None,
    hold_timeout_s: Number = np.inf,
) -> Number:
    """Mean long-poll latency (Poisson arrivals): ``d + (g/2)·P(gap)``, with ``P(gap) = g / cycle``.

    A message published while a request is held takes ``d``. One published during a gap waits
    for the rest of the gap — uniform on ``[0, g]``, so ``g/2`` on average — and then ``d``.
    Poisson arrivals see time averages (PASTA), so the share of messages that land in a gap is
    the share of time spent in gaps: ``g`` over the mean cycle of ``_longpoll_cycle``.
    At low rates this is ≈ ``d`` (one transit); as ``λg`` grows it tends to ``d + g/2`` (two
    transits when ``g = 2d``); the worst case stays ``g + d``.
    """
    gap_s, in_gap = _longpoll_gap_share(publish_rate, transit_s, reconnect_gap_s, hold_timeout_s)
    return transit_s + in_gap * np.divide(gap_s, 2)


def _longpoll_gap_share(
    publish_rate: Number,
    transit_s: Number,
    reconnect_gap_s: Number | None,
    hold_timeout_s: Number,
) -> tuple[Number, Number]:
    """The gap ``g`` (``2d`` unless given) and the share of messages landing in one, ``g/cycle``."""
    gap_s = np.multiply(2, transit_s) if reconnect_gap_s is None else reconnect_gap_s
    cycle_s, _ = _longpoll_cycle(publish_rate, gap_s, hold_timeout_s)
    return gap_s, np.divide(gap_s, cycle_s)


def longpoll_latency_sd_s(
    publish_rate: Number,
    transit_s: Number,
    reconnect_gap_s: Number | None = None,
    hold_timeout_s: Number = np.inf,
) -> Number:
    """The spread of one message's long-poll latency, for a window's standard error.

    A message takes ``d``, plus a wait uniform on ``[0, g]`` with the probability ``p = P(gap)``
    of :func:`longpoll_mean_latency_s`: the extra wait has mean ``p·g/2`` and second moment
    ``p·g²/3``. A window of N messages knows the mean only to this over √N.
    """
    gap_s, in_gap = _longpoll_gap_share(publish_rate, transit_s, reconnect_gap_s, hold_timeout_s)
    mean_wait_s = in_gap * np.divide(gap_s, 2)
    return np.sqrt(in_gap * np.square(gap_s) / 3 - np.square(mean_wait_s))


# --- WebSocket and SSE ----------------------------------------------------------------------


def push_requests_per_message(
    publish_rate: Number, duration_s: Number, connections: Number = 1
) -> Number:
    """Requests per message for a pushed stream: ``connections / (λ · duration)`` → 0.

    A WebSocket or SSE client makes one HTTP request (the upgrade, or the stream's GET) and then
    only receives. Over a run of ``duration`` seconds it gets ``λ·duration`` messages, so its
    one handshake (or a few, if it reconnects) is shared among all of them.
    """
    return connections / np.multiply(publish_rate, duration_s)


def push_latency_s(transit_s: Number) -> Number:
    """Latency of a pushed message: one transit ``d`` — it leaves as soon as it is published."""
    return transit_s


# --- A network with a round-trip time (issue 12) ---------------------------------------------


def network_mean_latency_s(
    technique: str,
    rtt_s: Number,
    *,
    publish_rate: Number = 1.0,
    poll_interval_s: Number = 1.0,
    reask_delay_s: Number = 0.0,
    hold_timeout_s: Number = np.inf,
) -> Number:
    """Mean delivery latency through a network of round-trip time ``RTT`` (Poisson arrivals).

    One transit is ``d = RTT/2`` (the emulator delays each direction by half the round trip;
    the server's own handling is negligible beside it). Then (RFC 6202 §2.2):

    - **polling**: ``T/2 + RTT/2`` — half an interval of waiting, then one transit
      (:func:`polling_mean_latency_s`);
    - **WebSocket, SSE**: ``RTT/2`` — the message leaves when it is published
      (:func:`push_latency_s`);
    - **long polling**: between ``RTT/2`` and ``3·RTT/2``. After each answer no request is at
      the server for ``g = RTT/2 + r + RTT/2 = RTT + r``: the answer travels to the client, the
      client waits its re-ask delay ``r``, the new request travels back. A message published
      while a request is held takes ``d``; one published in the gap waits the rest of the gap
      (uniform, ``g/2`` on average) and then ``d``. Poisson arrivals see time averages (PASTA),
      so the share of messages that land in a gap is the share of time spent in gaps,
      ``g / cycle``, with the mean cycle ``g + e^(−λg)·(1 − e^(−λτ))/λ`` (a gap, then a hold
      that ends at the first arrival or at the timeout τ). Hence

          E[latency] = RTT/2 + (g/2) · g / (g + e^(−λg)(1 − e^(−λτ))/λ),   g = RTT + r.

      At low rates (``λg ≪ 1``) the cycle is mostly hold and the mean is ≈ one transit; as
      ``λg`` grows the requests are seldom waiting and the mean tends to ``d + g/2`` (two
      transits with ``r = 0``); the worst single message takes ``g + d`` (three transits).
    """
    entry = technique_entry(technique)
    transit_s = np.divide(rtt_s, 2)
    if entry.polls:
        return polling_mean_latency_s(poll_interval_s, transit_s)
    if entry.pushes:
        return push_latency_s(transit_s)
    if entry.holds_request:
        gap_s = np.add(rtt_s, reask_delay_s)
        return longpoll_mean_latency_s(publish_rate, transit_s, gap_s, hold_timeout_s)
    raise ValueError(f"no network model for {technique!r}")


def transits(latency_s: Number, rtt_s: Number) -> Number:
    """A latency counted in one-way transits (``RTT/2``): long polling's 1 … 3 of RFC 6202."""
    return np.divide(latency_s, np.divide(rtt_s, 2))
