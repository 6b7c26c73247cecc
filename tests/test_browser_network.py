# ruff: noqa: F811  (the tests take the imported fixtures as arguments, by name)
"""The classroom page's network control in Chromium: a round-trip time that shows in the
latency, a cut that every panel recovers from with no message missing, a restart, a gap.

Same rules as tests/test_browser_demo.py (whose fixtures and helpers these tests use): skip
without Chromium, fail under ``CI=true``; synchronisation is Playwright's auto-waiting only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from pushlab.reconnect_policy import RECONNECT_POLICY
from pushlab.servers.config import ServerConfig
from pushlab.servers.demo import Demo, start_demo
from pushlab.techniques import NAMES as TECHNIQUES
from tests.test_browser_demo import (  # noqa: F401  (pytest finds the fixtures by name)
    browser,
    chromium_path,
    loop_in_a_thread,
    on_loop,
    open_page,
    playwright_api,
    publish,
    wait_until_connected,
)

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def fresh_page(browser: Any, expect: Any) -> Iterator[tuple[Demo, Any, Any]]:
    """A demo of its own (the network settings are per demo) and a connected page."""
    with loop_in_a_thread() as loop:
        demo = on_loop(loop, start_demo(ServerConfig(port=0, publish_rate=0)))
        try:
            context, page, watch = open_page(browser, demo, bypass_csp=True)
            wait_until_connected(page, expect)
            yield demo, page, watch
            context.close()
        finally:
            on_loop(loop, demo.stop())


def shown_ids(page: Any, technique: str) -> list[int]:
    items = page.locator(f"#panel-{technique} .messages li")
    return sorted(int(i) for i in items.evaluate_all("items => items.map(i => i.dataset.id)"))


def expect_ids(page: Any, technique: str, ids: list[int]) -> None:
    """Wait until the panel shows exactly ``ids`` (the newest first, so the first is the last)."""
    page.wait_for_function(
        """([technique, wanted]) => {
            const items = document.querySelectorAll(`#panel-${technique} .messages li`);
            const ids = [...items].map((item) => Number(item.dataset.id)).sort((a, b) => a - b);
            return JSON.stringify(ids) === JSON.stringify(wanted);
        }""",
        arg=[technique, ids],
        timeout=30_000,
    )


def test_with_200_ms_of_rtt_the_websocket_latency_is_at_least_100_ms(
    browser: Any, playwright_api: Any
) -> None:
    expect = playwright_api.expect
    with fresh_page(browser, expect) as (demo, page, watch):
        page.select_option("#network-target", "websocket")
        page.select_option("#network-rtt", "200")
        log = page.locator("#panel-websocket .conversation")
        expect(log).to_contain_text("adds 200 ms of round-trip time")
        expect(page.locator("#panel-sse .conversation")).not_to_contain_text("round-trip")

        publish(demo, "slow news")
        expect(page.locator("#panel-websocket .message-text").first).to_have_text("slow news")
        latency = page.locator("#panel-websocket [data-counter=lastLatency]").text_content()
        # One transit (the push) waits RTT/2 in the emulator: at least 100 ms, measured.
        assert float(latency.split()[0]) >= 100, latency
    assert watch.page_errors == []


def test_after_a_cut_all_four_panels_resume_with_no_message_missing(
    browser: Any, playwright_api: Any
) -> None:
    expect = playwright_api.expect
    with fresh_page(browser, expect) as (demo, page, watch):
        for n in (1, 2):
            publish(demo, f"before the cut {n}")
        for technique in TECHNIQUES:
            expect_ids(page, technique, [1, 2])

        page.click("#network-cut")
        for technique in TECHNIQUES:
            expect(page.locator(f"#panel-{technique} .conversation")).to_contain_text(
                "the connection was cut"
            )
        for n in (3, 4, 5):
            publish(demo, f"during the break {n}")

        for technique in TECHNIQUES:
            expect_ids(page, technique, [1, 2, 3, 4, 5])
        ws_log = page.locator("#panel-websocket .conversation")
        expect(ws_log).to_contain_text("without a close frame")
        expect(ws_log).to_contain_text("resuming from the cursor, since=2")
        expect(page.locator("#panel-websocket .state")).to_have_attribute("data-state", "open")
        expect(page.locator("#panel-sse .state")).to_have_attribute("data-state", "open")
        assert demo.network is not None
        assert demo.network.emulators["websocket"].counters.connections_reset >= 2
    assert watch.page_errors == []


def test_a_restarted_server_application_is_followed_with_no_message_missing(
    browser: Any, playwright_api: Any
) -> None:
    expect = playwright_api.expect
    with fresh_page(browser, expect) as (demo, page, watch):
        publish(demo, "before the restart")
        expect_ids(page, "sse", [1])
        old = demo.techniques["sse"]

        page.select_option("#network-target", "sse")
        page.click("#network-restart")
        expect(page.locator("#panel-sse .conversation")).to_contain_text("was restarted")
        publish(demo, "after the restart")

        expect_ids(page, "sse", [1, 2])
        expect(page.locator("#panel-sse .conversation")).to_contain_text("Last-Event-ID")
        assert demo.techniques["sse"] is not old
    assert watch.page_errors == []


def test_a_gap_signal_is_shown_as_text_and_moves_the_cursor(
    browser: Any, playwright_api: Any
) -> None:
    """The servers of this branch do not send gaps yet: the page's reader is fed one."""
    expect = playwright_api.expect
    with fresh_page(browser, expect) as (_, page, _watch):
        shown = page.evaluate(
            """async () => {
                const { showGap } = await import("/static/clients.js");
                const lines = [];
                const panel = { cursor: 3, log: (kind, text) => lines.push([kind, text]) };
                showGap(panel, { from_id: 4, to_id: 5 });
                showGap(panel, { from_id: "<b>", to_id: 9 });  // not a gap: ignored
                return { lines, cursor: panel.cursor };
            }"""
        )
    assert shown == {
        "lines": [["gap", "⚠ messages #4–#5 are gone: the server no longer holds them"]],
        "cursor": 5,
    }


def test_the_network_controls_speak_both_languages(browser: Any, playwright_api: Any) -> None:
    expect = playwright_api.expect
    with fresh_page(browser, expect) as (_, page, _watch):
        expect(page.locator("#network-cut")).to_have_text("Cut the connection")
        page.click("#lang-switch")
        expect(page.locator("#network-cut")).to_have_text("断开连接")
        expect(page.locator("#network-restart")).to_have_text("重启服务器")
        expect(page.locator("#network-target option").nth(1)).to_have_text("轮询")


def test_the_page_computes_the_served_policy_as_the_python_clients_do(
    browser: Any, playwright_api: Any
) -> None:
    """backoff.js with /api/config's numbers: the ceilings of pushlab.reconnect_policy, full
    jitter (a draw of 0 waits 0) and the draw under the cap (a draw of 1 never passes it)."""
    expect = playwright_api.expect
    with fresh_page(browser, expect) as (_, page, _watch):
        waits = page.evaluate(
            """async () => {
                const { Backoff } = await import("/static/backoff.js");
                const policy = (await (await fetch("/api/config")).json()).reconnect;
                const random = Math.random;
                const draws = (fraction) => {
                    Math.random = () => fraction;
                    const backoff = new Backoff(policy);
                    return Array.from({ length: 8 }, () => backoff.nextDelayMs());
                };
                try {
                    return { none: draws(0), half: draws(0.5), all: draws(1) };
                } finally {
                    Math.random = random;
                }
            }"""
        )
    ceilings_ms = [RECONNECT_POLICY.ceiling_s(attempt) * 1000 for attempt in range(8)]
    assert waits["none"] == [0] * 8
    assert waits["half"] == pytest.approx([ceiling / 2 for ceiling in ceilings_ms])
    assert waits["all"] == pytest.approx(ceilings_ms)
    assert max(waits["all"]) == RECONNECT_POLICY.cap_s * 1000


def test_after_a_cut_the_page_waits_as_the_served_policy_says(
    browser: Any, playwright_api: Any
) -> None:
    """The numbers come from /api/config, never from the page's own code: served other
    numbers, the page waits by them. Every draw is 0.5, so the wait is half the first one."""
    expect = playwright_api.expect
    served = {"first_wait_s": 0.4, "cap_s": 0.4, "jitter": "full"}

    def serve_other_numbers(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "reconnect": served})

    with loop_in_a_thread() as loop:
        demo = on_loop(loop, start_demo(ServerConfig(port=0, publish_rate=0)))
        try:
            context = browser.new_context(bypass_csp=True)
            page = context.new_page()
            page.add_init_script("Math.random = () => 0.5;")
            page.route("**/api/config", serve_other_numbers)
            page.goto(demo.url)
            wait_until_connected(page, expect)
            page.click("#network-cut")
            # A cut WebSocket always closes; a fetch may be retried by the browser unseen.
            log = page.locator("#panel-websocket .conversation")
            expect(log).to_contain_text("retrying in 0.2 s")
            expect(page.locator("#panel-websocket .state")).to_have_attribute("data-state", "open")
            context.close()
        finally:
            on_loop(loop, demo.stop())
