"""A delivery in order goes straight into the generator's log; a gap or a message out of
order is also a failed Locust request, so it shows in Locust's table."""

from __future__ import annotations

from typing import Any

from locust.env import Environment

from pushlab.bench.measuring.generator import DeliveryLog
from pushlab.bench.measuring.locustfile import DELIVER, WebSocketUser


def test_in_order_deliveries_go_to_the_log_and_failures_to_locust_too() -> None:
    environment = Environment(user_classes=[WebSocketUser])
    log = DeliveryLog()
    failures: list[dict[str, Any]] = []
    environment.events.request.add_listener(
        lambda **event: failures.append(event) if event["request_type"] == DELIVER else None
    )
    try:
        log.attach(environment)
        user = WebSocketUser(environment)
        user.cursor = 4
        for message_id in (5, 6, 9, 8):  # 7 and 8 skipped, then 8 late
            user.deliver({"id": message_id, "ts": 100.0}, 100.5, 20, kernel_at=100.25)
    finally:
        WebSocketUser.delivery_log = None
    assert list(log.message_id) == [5, 6, 9, 8]
    assert list(log.kernel_at) == [100.25] * 4 and list(log.received_at) == [100.5] * 4
    assert [type(f["exception"]).__name__ for f in failures] == ["Gap", "OutOfOrder"]
    assert user.cursor == 9


def test_without_a_log_every_delivery_is_a_locust_request() -> None:
    environment = Environment(user_classes=[WebSocketUser])
    seen: list[float] = []
    environment.events.request.add_listener(
        lambda **event: (
            seen.append(event["response_time"]) if event["request_type"] == DELIVER else None
        )
    )
    user = WebSocketUser(environment)
    user.deliver({"id": user.cursor + 1, "ts": 100.0}, 100.5, 20)
    assert seen == [500.0]
    assert user.cursor == 1
