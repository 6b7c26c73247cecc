"""The classroom page in a real browser: Playwright driving Chromium against the demo servers.

Without Chromium (or the playwright package) these tests skip and say why; under CI
(``CI=true``) a missing browser fails them instead, so CI never passes by skipping.
Synchronisation is Playwright's auto-waiting only (``expect``, ``wait_for_function``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pushlab.servers.config import ServerConfig
from pushlab.servers.demo import Demo, start_demo, start_techniques
from pushlab.servers.feed import Feed
from pushlab.servers.publisher import Publisher
from pushlab.techniques import NAMES as TECHNIQUES
from pushlab.techniques import TECHNIQUES as TABLE

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    candidates = [os.environ.get("PUSHLAB_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def browser_missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        browser_missing(
            "no Chromium found (tried $PUSHLAB_CHROMIUM, /usr/bin/chromium, chromium on PATH);"
            " install it, e.g. apt-get install chromium"
        )
    return path  # type: ignore[return-value]


@pytest.fixture(scope="module")
def playwright_api() -> Any:
    try:
        from playwright import sync_api
    except ImportError:
        browser_missing("the playwright package is not installed (pip install -e '.[dev]')")
    return sync_api


@contextlib.contextmanager
def loop_in_a_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """The servers' event loop, beside Playwright's synchronous API."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def on_loop(loop: asyncio.AbstractEventLoop, coroutine: Any) -> Any:
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(30)


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    """The five demo servers on free ports, on an event loop of their own (a thread)."""
    with loop_in_a_thread() as loop:
        running = on_loop(loop, start_demo(ServerConfig(port=0)))
        yield running
        on_loop(loop, running.stop())


@pytest.fixture(scope="module")
def browser(playwright_api: Any, chromium_path: str) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """Everything the page said that a test may want to assert was not said."""

    def __init__(self, page: Any) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def open_page(browser: Any, demo: Demo, *, bypass_csp: bool) -> tuple[Any, Any, PageWatch]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=bypass_csp)
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(demo.url)
    return context, page, watch


def wait_until_connected(page: Any, expect: Any) -> None:
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#panel-websocket .state")).to_have_attribute("data-state", "open")
    expect(page.locator("#panel-sse .state")).to_have_attribute("data-state", "open")
    expect(page.locator("#panel-longpoll .state")).to_have_attribute("data-state", "held")


@pytest.fixture
def demo_page(browser: Any, demo: Demo, playwright_api: Any) -> Iterator[tuple[Any, PageWatch]]:
    """The page with the Content-Security-Policy bypassed.

    Without CSP, a message rendered as markup really would run its script: the XSS test then
    tests the page's rendering, not the policy. (``wait_for_function`` also needs eval.)
    """
    context, page, watch = open_page(browser, demo, bypass_csp=True)
    wait_until_connected(page, playwright_api.expect)
    yield page, watch
    context.close()


def publish(demo: Demo, text: str) -> dict[str, Any]:
    request = urllib.request.Request(
        demo.techniques["polling"].url + "/messages",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def message_texts(page: Any, technique: str) -> Any:
    return page.locator(f"#panel-{technique} .messages .message-text")


def test_page_loads_without_console_errors_under_its_own_csp(
    browser: Any, demo: Demo, playwright_api: Any
) -> None:
    context, page, watch = open_page(browser, demo, bypass_csp=False)
    expect = playwright_api.expect
    wait_until_connected(page, expect)
    expect(page.locator("#accept-match")).to_have_text("✓ match")
    publish(demo, "hello under CSP")
    for technique in TECHNIQUES:
        expect(message_texts(page, technique).first).to_have_text("hello under CSP")
    context.close()
    assert watch.console_errors == []
    assert watch.page_errors == []


def test_published_message_appears_in_all_four_panels(
    demo_page: tuple[Any, PageWatch], demo: Demo, playwright_api: Any
) -> None:
    page, _ = demo_page
    message = publish(demo, "the same news for everyone")
    for technique in TECHNIQUES:
        newest = page.locator(f"#panel-{technique} .messages li").first
        playwright_api.expect(newest).to_have_attribute("data-id", str(message["id"]))
        playwright_api.expect(newest.locator(".message-text")).to_have_text(
            "the same news for everyone"
        )


def test_polling_counts_empty_answers_while_websocket_sends_one_request(
    demo_page: tuple[Any, PageWatch],
) -> None:
    page, _ = demo_page
    page.fill("#poll-interval", "100")
    page.wait_for_function(
        "Number(document.querySelector('#panel-polling [data-counter=empty]').textContent) >= 3"
    )
    requests = page.locator("#panel-websocket [data-counter=requests]").text_content()
    assert requests == "1"
    assert page.locator("#panel-websocket [data-counter=empty]").text_content() == "0"


def test_chat_from_websocket_panel_reaches_the_other_three(
    demo_page: tuple[Any, PageWatch], playwright_api: Any
) -> None:
    page, _ = demo_page
    page.fill("#panel-websocket .chat input", "sent up the socket")
    page.click("#panel-websocket .chat button")
    for technique in ("polling", "longpoll", "sse"):
        playwright_api.expect(message_texts(page, technique).first).to_have_text(
            "sent up the socket"
        )
    conversation = page.locator("#panel-websocket .conversation")
    playwright_api.expect(conversation).to_contain_text('→ frame {"text":"sent up the socket"}')
    assert page.locator("#panel-websocket [data-counter=requests]").text_content() == "1"


def test_html_in_a_message_is_shown_as_text_and_never_runs(
    demo_page: tuple[Any, PageWatch], demo: Demo, playwright_api: Any
) -> None:
    page, watch = demo_page
    attack = "<img src=x onerror=alert(1)>"
    publish(demo, attack)
    for technique in TECHNIQUES:
        playwright_api.expect(message_texts(page, technique).first).to_have_text(attack)
    assert page.locator("#panels img").count() == 0
    assert watch.dialogs == []


def test_handshake_panel_shows_the_pages_own_upgrade(
    demo_page: tuple[Any, PageWatch], playwright_api: Any
) -> None:
    page, _ = demo_page
    expect = playwright_api.expect
    expect(page.locator("#accept-match")).to_have_text("✓ match")
    expect(page.locator("#handshake-request")).to_contain_text("Sec-WebSocket-Key: ")
    expect(page.locator("#handshake-request")).to_contain_text("GET /ws?since=")
    expect(page.locator("#handshake-response")).to_contain_text("101 Switching Protocols")


def test_hidden_tab_gives_back_its_held_connections(
    demo_page: tuple[Any, PageWatch], playwright_api: Any
) -> None:
    page, _ = demo_page
    expect = playwright_api.expect
    page.evaluate(
        """() => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
        document.dispatchEvent(new Event("visibilitychange"));
    }"""
    )
    for technique in ("longpoll", "sse"):
        expect(page.locator(f"#panel-{technique} .state")).to_have_attribute("data-state", "hidden")
    expect(page.locator("#panel-websocket .state")).to_have_attribute("data-state", "open")
    page.evaluate(
        """() => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => false});
        document.dispatchEvent(new Event("visibilitychange"));
    }"""
    )
    expect(page.locator("#panel-sse .state")).to_have_attribute("data-state", "open")
    expect(page.locator("#panel-longpoll .state")).to_have_attribute("data-state", "held")


def test_language_switch_to_chinese_and_back(
    demo_page: tuple[Any, PageWatch], playwright_api: Any
) -> None:
    page, _ = demo_page
    expect = playwright_api.expect
    page.click("#lang-switch")
    expect(page.locator("h1")).to_have_text("pushlab：把新消息送到浏览器的四种方法")
    expect(page.locator("#panel-longpoll .panel-title")).to_have_text("长轮询")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.click("#lang-switch")
    expect(page.locator("#panel-longpoll .panel-title")).to_have_text("Long polling")


def test_screenshot_is_saved_as_an_artifact(
    demo_page: tuple[Any, PageWatch], demo: Demo, playwright_api: Any
) -> None:
    page, _ = demo_page
    publish(demo, "a message for the screenshot")
    for technique in TECHNIQUES:
        playwright_api.expect(message_texts(page, technique).first).to_have_text(
            "a message for the screenshot"
        )
    playwright_api.expect(page.locator("#accept-match")).to_have_text("✓ match")
    # The server view has drawn a few samples and the byte counters have been read.
    page.wait_for_function(
        "Number(document.querySelector('#panel-polling [data-counter=bytesReceived]')"
        ".textContent.replaceAll(',', '')) > 0"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
    assert (ARTIFACTS / "demo.png").stat().st_size > 0


async def restart_techniques(demo: Demo, backlog: tuple[str, ...] = ()) -> None:
    """What a restart does: the same ports, new processes' worth of state, a feed from #1 again.

    ``backlog`` is published on the new feed before the new servers listen, so the page's
    first request to them already finds it there.
    """
    ports = {technique: server.port for technique, server in demo.techniques.items()}
    demo.feed.close()  # the process ends: its held requests with it
    await asyncio.gather(*(server.stop() for server in demo.techniques.values()))
    await demo.publisher.aclose()
    demo.feed = Feed()
    demo.publisher = Publisher(demo.feed)
    for text in backlog:
        await demo.feed.publish(text)
    demo.techniques.update(await start_techniques(ServerConfig(), ports, demo.feed, demo.publisher))


@contextlib.contextmanager
def page_on_three_old_messages(browser: Any, expect: Any, prefix: str) -> Iterator[Any]:
    """A demo and an open page whose four panels have each shown three messages:
    yields (loop, demo, page, watch), and stops the demo at the end."""
    with loop_in_a_thread() as loop:
        demo = on_loop(loop, start_demo(ServerConfig(port=0)))
        try:
            context, page, watch = open_page(browser, demo, bypass_csp=True)
            wait_until_connected(page, expect)
            for number in range(1, 4):
                publish(demo, f"{prefix} {number}")
            for technique in TECHNIQUES:
                expect(message_texts(page, technique).first).to_have_text(f"{prefix} 3")
            yield loop, demo, page, watch
            context.close()
        finally:
            on_loop(loop, demo.stop())


def test_every_panel_follows_a_restarted_server_from_its_new_feed(
    browser: Any, playwright_api: Any
) -> None:
    """After a restart each panel's cursor is ahead of the new feed, which answers 400: the page
    must start again from since=0 (the EventSource, refused, would otherwise stay closed)."""
    expect = playwright_api.expect
    with page_on_three_old_messages(browser, expect, "before the restart") as opened:
        loop, restarted, page, watch = opened
        on_loop(loop, restart_techniques(restarted))
        assert publish(restarted, "after the restart")["id"] == 1
        for technique in TECHNIQUES:
            newest = message_texts(page, technique).first
            expect(newest).to_have_text("after the restart", timeout=20_000)
        expect(page.locator("#panel-polling .conversation")).to_contain_text("it restarted")
        expect(page.locator("#panel-sse .state")).to_have_attribute("data-state", "open")
    assert watch.page_errors == []


def test_every_panel_notices_a_restart_whose_new_feed_is_already_past_its_cursor(
    browser: Any, playwright_api: Any
) -> None:
    """The new servers have published more than the page's cursor before the page reaches
    them, so none refuses the old cursor with 400 and each would quietly go on from it, skipping
    the new feed's first messages. Only the feed_id in /stats shows that the ids are a new count."""
    expect = playwright_api.expect
    with page_on_three_old_messages(browser, expect, "old feed") as opened:
        loop, restarted, page, watch = opened
        bytes_before = {t: shown_bytes_received(page, t) for t in TECHNIQUES}
        old_cursor = restarted.feed.last_id
        backlog = tuple(f"new feed {number}" for number in range(1, old_cursor + 4))
        on_loop(loop, restart_techniques(restarted, backlog))
        for technique in TECHNIQUES:
            panel = page.locator(f"#panel-{technique}")
            # Every message of the new feed is shown, #1 included: nothing was skipped.
            for number, text in enumerate(backlog, start=1):
                shown = panel.locator(".messages li", has=page.get_by_text(text, exact=True))
                expect(shown.first).to_have_attribute("data-id", str(number), timeout=20_000)
            expect(panel.locator(".conversation")).to_contain_text("it restarted")
        marker = publish(restarted, "after the restart, on the new feed")
        assert marker["id"] == len(backlog) + 1
        for technique in TECHNIQUES:
            newest = page.locator(f"#panel-{technique} .messages li").first
            expect(newest).to_have_attribute("data-id", str(marker["id"]))
            expect(newest.locator(".message-text")).to_have_text(marker["text"])
        expect(page.locator("#panel-sse .state")).to_have_attribute("data-state", "open")
        expect(page.locator("#panel-websocket .state")).to_have_attribute("data-state", "open")
        for technique in TECHNIQUES:
            # The new server counts from 0; the panel adds its bytes to the old server's.
            assert shown_bytes_received(page, technique) >= bytes_before[technique] > 0
    assert watch.page_errors == []


def shown_bytes_received(page: Any, technique: str) -> int:
    text = page.locator(f"#panel-{technique} [data-counter=bytesReceived]").text_content()
    return int(text.replace(",", ""))


def test_panels_are_painted_in_the_colours_of_the_technique_table(
    demo_page: tuple[Any, PageWatch],
) -> None:
    page, _ = demo_page
    for technique in TECHNIQUES:
        accent = page.locator(f"#panel-{technique}").evaluate(
            "panel => panel.style.getPropertyValue('--accent')"
        )
        assert accent == TABLE[technique].colour


def test_each_panel_shows_its_latency_spread_and_polling_its_empty_share_beside_the_model(
    demo_page: tuple[Any, PageWatch], demo: Demo, playwright_api: Any
) -> None:
    """The lesson a mean hides: polling's latencies spread over the interval, and its empty
    answers follow the model (e^(−λT) for Poisson arrivals; 1 − λT for this fixture's periodic
    ones) with λ the server's publish rate and T the page's poll interval."""
    page, _ = demo_page
    expect = playwright_api.expect
    page.fill("#poll-interval", "250")
    empty_share = page.locator("#panel-polling [data-counter=emptyShare]")
    expect(empty_share).to_have_attribute("data-model", "1")  # nothing published: all empty
    for number in range(3):
        publish(demo, f"spread {number}")
    for technique in TECHNIQUES:
        expect(page.locator(f"#panel-{technique} [data-counter=spread]")).to_contain_text("–")
        expect(page.locator(f"#panel-{technique} .spread-strip")).to_be_visible()
    assert page.locator("#panel-websocket [data-counter=emptyShare]").count() == 0  # push
    page.fill("#publish-rate", "2")
    page.locator("#publish-rate").dispatch_event("change")
    # λ = 2 msg/s, T = 0.25 s, periodic: the model moves to 1 − λT = 50% once the page sees it.
    page.wait_for_function(
        "Number(document.querySelector("
        "'#panel-polling [data-counter=emptyShare]').dataset.model) === 0.5"
    )
    expect(empty_share).to_contain_text("(model: 50%)")
    page.fill("#publish-rate", "0")  # the module's demo is shared: leave it quiet
    page.locator("#publish-rate").dispatch_event("change")
    expect(empty_share).to_have_attribute("data-model", "1")


def test_the_radio_gauge_follows_the_poll_interval_and_the_publish_rate(
    demo_page: tuple[Any, PageWatch], playwright_api: Any
) -> None:
    """Polling every 100 ms keeps the modelled LTE radio in continuous reception; every 60 s
    lets it fall to DRX at once. A WebSocket panel that receives nothing has no energy per
    message; once the publisher runs, it has one."""
    page, _ = demo_page
    expect = playwright_api.expect
    polling = page.locator("#panel-polling [data-counter=radio]")
    websocket = page.locator("#panel-websocket [data-counter=radio]")
    expect(websocket).to_contain_text("– mJ/message")
    page.fill("#poll-interval", "100")
    expect(polling).to_have_attribute("data-state", re.compile("continuous|tail"))
    awake_mw = float(polling.get_attribute("data-power-mw") or "nan")
    page.fill("#poll-interval", "60000")
    # The state and the power are read together, in one evaluation, until they hold: a poll
    # still in flight from the 100 ms interval can wake the radio again between two reads.
    page.wait_for_function(
        """([selector, awakeMw]) => {
            const cell = document.querySelector(selector);
            return /short_drx|long_drx/.test(cell.dataset.state)
                && Number(cell.dataset.powerMw) < awakeMw;
        }""",
        arg=["#panel-polling [data-counter=radio]", awake_mw],
        timeout=10_000,
    )
    page.fill("#publish-rate", "5")
    page.locator("#publish-rate").dispatch_event("change")
    expect(websocket).to_contain_text(re.compile(r"· [\d,]+ mJ/message"))
    page.fill("#publish-rate", "0")  # the module's demo is shared: leave it quiet
    page.locator("#publish-rate").dispatch_event("change")
    page.fill("#poll-interval", "1000")
