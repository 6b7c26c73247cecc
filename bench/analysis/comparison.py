"""One rule for holding a measurement against the model, everywhere it is done.

1. **The rate the window really published.** A window of Poisson arrivals at λ = 0.2 msg/s may
   hold 2 messages or 5; the model is evaluated at ``messages_published / duration_s``, not at
   the nominal λ, or a lucky window reads as a model error.
2. **Say how sure before calling a difference.** A run is finite: its N messages estimate a
   per-message figure only to about ±1/√N. Every comparison states N and calls a measurement
   *in agreement* when it lies within ``AGREEMENT_SE`` standard errors of the model.

The standard errors (also in notebook 03, which explains them): every client watches the same
messages, so 100 clients do not give 100 times the evidence. The sample is the N messages for a
mean latency (a uniform wait over T: σ = T/√12) and for requests per message (a Poisson count:
relative σ = 1/√N), and one client's polls, duration/T, for the empty fraction (a binomial).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

AGREEMENT_SE = 2.0
"""Within this many standard errors of the model, a measurement agrees with it."""


def realised_rate(row: pd.Series) -> float:
    """The publish rate the row's window really saw (msg/s)."""
    duration_s = float(row["duration_s"])
    if not duration_s > 0:
        return float(row["publish_rate"])
    return float(row["messages_published"]) / duration_s


def messages_of(row: pd.Series) -> float:
    """The sample size of per-message figures: the window's messages (at least one)."""
    published = row["messages_published"]
    return max(float(published), 1.0) if not pd.isna(published) else 1.0


def latency_se_ms(interval_s: float, messages: float) -> float:
    """A polling mean latency's standard error: a uniform wait over T, N messages."""
    return 1000 * interval_s / math.sqrt(12 * messages)


def fraction_se(predicted: float, trials: float) -> float:
    """A fraction's standard error over ``trials`` independent tries (never quite zero)."""
    return math.sqrt(max(predicted * (1 - predicted), 1e-4) / max(trials, 1.0))


def per_message_se(predicted: float, messages: float) -> float:
    """A per-message figure's standard error: relative 1/√N."""
    return abs(predicted) / math.sqrt(messages)


@dataclass(frozen=True)
class Check:
    """A measurement beside its model, with the sample behind it."""

    measured: float
    predicted: float
    se: float  # standard error of the measurement, in its own unit
    messages: float

    @property
    def agrees(self) -> bool:
        return abs(self.measured - self.predicted) <= AGREEMENT_SE * self.se

    @property
    def off_by_se(self) -> float:
        """How many standard errors apart (0 when the error is unknown and they are equal)."""
        if self.se > 0:
            return abs(self.measured - self.predicted) / self.se
        return 0.0 if self.measured == self.predicted else math.inf

    def verdict(self) -> str:
        """``within two standard errors`` or ``3.1 standard errors apart``, with N."""
        n = f"{self.messages:,.0f} message{'s' if self.messages != 1 else ''}"
        if self.agrees:
            return f"{n}: within {AGREEMENT_SE:g} standard errors"
        return f"{n}: {self.off_by_se:.1f} standard errors apart"
