"""The Locust users' gap signal, in every form (their backoff: tests/test_reconnect_policy.py)."""

from __future__ import annotations

import json

import pytest

from pushlab.bench.measuring.reconnecting import gap_in_answer, gap_in_close, gap_in_event
from pushlab.protocol import GAP_CLOSE_CODE, Gap


def test_a_poll_answer_or_a_websocket_frame_carries_its_gap() -> None:
    body = json.loads('{"messages": [], "last_id": 9, "gap": {"from_id": 3, "to_id": 5}}')
    assert gap_in_answer(body) == Gap(3, 5)
    assert gap_in_answer({"messages": [], "last_id": 9}) is None
    assert gap_in_answer(json.loads(Gap(7, 7).frame_text())) == Gap(7, 7)


def test_a_close_with_the_gap_code_carries_its_gap_and_another_close_none() -> None:
    reason = Gap(4, 6).frame_text().encode()
    assert gap_in_close(GAP_CLOSE_CODE.to_bytes(2, "big") + reason) == Gap(4, 6)
    assert gap_in_close((1001).to_bytes(2, "big") + b"going away") is None
    assert gap_in_close(b"") is None


def test_an_sse_gap_event_carries_its_gap() -> None:
    assert gap_in_event("gap", '{"from_id":1,"to_id":2}') == Gap(1, 2)
    assert gap_in_event("message", '{"id":3,"ts":1.0,"text":"x"}') is None


def test_a_malformed_gap_is_refused() -> None:
    with pytest.raises(ValueError):
        gap_in_answer({"gap": {"from_id": 5}})
