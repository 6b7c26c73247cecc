"""The one reconnect policy: capped exponential backoff with full jitter, jitter after the cap.

Seeded generators only: every draw here is reproducible, and no test reads a clock.
"""

from __future__ import annotations

import inspect
import math
import random

import pytest

from pushlab.clients.conversation import converse
from pushlab.reconnect_policy import RECONNECT_POLICY, Backoff, ReconnectPolicy

POLICY = ReconnectPolicy(first_wait_s=1.0, cap_s=10.0)
CLIENTS = 500  # a fleet cut in the same instant: one seeded generator each


def fleet_waits(policy: ReconnectPolicy, attempt: int) -> list[float]:
    return [policy.wait_s(attempt, random.Random(seed)) for seed in range(CLIENTS)]


def test_the_ceiling_doubles_from_the_first_wait_up_to_the_cap() -> None:
    ceilings = [POLICY.ceiling_s(attempt) for attempt in range(7)]
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


@pytest.mark.parametrize("attempt", [0, 1, 2, 3, 4, 10])
def test_every_wait_lies_between_0_and_its_ceiling(attempt: int) -> None:
    ceiling_s = POLICY.ceiling_s(attempt)
    assert all(0 <= wait <= ceiling_s for wait in fleet_waits(POLICY, attempt))


def test_the_first_attempts_of_a_fleet_spread_over_the_whole_first_wait() -> None:
    waits = fleet_waits(POLICY, 0)
    assert len(set(waits)) == CLIENTS  # no two clients come back in the same instant
    assert min(waits) < 0.1 * POLICY.first_wait_s  # full jitter: none of the wait is fixed
    assert max(waits) > 0.9 * POLICY.first_wait_s


def test_at_the_cap_the_fleet_stays_spread_because_jitter_comes_after_the_cap() -> None:
    """Capping a jittered wait would make every client at the cap wait exactly ``cap_s``."""
    waits = fleet_waits(POLICY, 30)
    assert len(set(waits)) == CLIENTS
    assert sum(wait == POLICY.cap_s for wait in waits) == 0
    assert min(waits) < 0.1 * POLICY.cap_s and max(waits) > 0.9 * POLICY.cap_s


def test_a_seeded_generator_gives_the_same_waits_again() -> None:
    first, second = Backoff(POLICY, random.Random(42)), Backoff(POLICY, random.Random(42))
    assert [first.next_wait_s() for _ in range(8)] == [second.next_wait_s() for _ in range(8)]


def test_a_backoff_counts_its_attempts_and_starts_over_after_a_reset() -> None:
    backoff = Backoff(POLICY, random.Random(3))
    for _ in range(6):
        backoff.next_wait_s()
    assert backoff.attempt == 6
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.next_wait_s() <= POLICY.first_wait_s


def test_an_endless_outage_neither_overflows_nor_passes_the_cap() -> None:
    backoff = Backoff(POLICY, random.Random(5), attempt=100_000)
    assert 0 <= backoff.next_wait_s() <= POLICY.cap_s
    assert POLICY.ceiling_s(100_000) == POLICY.cap_s


@pytest.mark.parametrize(
    ("first_wait_s", "cap_s"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0), (1.0, math.inf), (math.nan, 1)]
)
def test_a_policy_that_cannot_work_is_refused(first_wait_s: float, cap_s: float) -> None:
    with pytest.raises(ValueError, match="0 < first_wait_s <= cap_s"):
        ReconnectPolicy(first_wait_s, cap_s)


def test_the_page_reads_the_policy_as_json() -> None:
    assert RECONNECT_POLICY.as_json() == {
        "first_wait_s": RECONNECT_POLICY.first_wait_s,
        "cap_s": RECONNECT_POLICY.cap_s,
        "jitter": "full",
    }


def test_the_terminal_clients_and_the_locust_users_run_the_one_policy() -> None:
    assert inspect.signature(converse).parameters["reconnect"].default is RECONNECT_POLICY
    assert Backoff().policy is RECONNECT_POLICY  # what every Locust user makes
