"""The registry of the bench's sweeps: one module each, one line each, in this order.

The order is the order of the matrix, of the report's tables and figures, and of the sweeps'
own columns in ``summary.csv``. Adding a sweep is one module here plus one line below
(``bench/core/sweep.py`` says what a sweep may declare).
"""

from __future__ import annotations

from pushlab.bench.core.sweep import Sweep
from pushlab.bench.sweeps import (
    browser,
    capacity,
    clients,
    faults,
    interval,
    lifecycle,
    loop,
    network,
    proxy,
    radio,
    rate,
    receiver,
    saturation,
    slow,
    storm,
    workers,
)

SWEEPS: tuple[Sweep, ...] = (
    clients.SWEEP,
    rate.SWEEP,
    interval.SWEEP,
    network.SWEEP,
    faults.SWEEP,
    workers.SWEEP,
    capacity.SWEEP,
    saturation.SWEEP,
    slow.SWEEP,
    proxy.SWEEP,
    radio.SWEEP,
    loop.SWEEP,
    browser.SWEEP,
    lifecycle.SWEEP,
    storm.SWEEP,
    receiver.SWEEP,
)
