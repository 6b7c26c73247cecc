# ruff: noqa: F811  (the tests take the imported fixtures as arguments, by name)
"""The browser's connection limit, in Chromium, through a real nginx: eight SSE streams in one
tab. Over HTTP/1.1 a browser opens at most six connections per host and each stream holds one,
so the seventh and eighth wait; over HTTP/2 they are streams of one connection and all open.

The page is served by the test itself (Playwright answers its request: no connection is used);
its streams and its ``fetch`` go through nginx to a real SSE server. Skips without Chromium or
nginx, fails under ``CI=true``; synchronisation is Playwright's auto-waiting only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pushlab.proxy import running_nginx
from tests.conftest import server_process
from tests.nginx_fixture import nginx  # noqa: F401
from tests.test_browser_demo import browser, chromium_path, playwright_api  # noqa: F401
from tests.test_proxy import host_of, publish

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("nginx")]

STREAMS = 8
BROWSER_CONNECTIONS_PER_HOST = 6  # Chromium's HTTP/1.1 limit per host (and per profile)
WAIT_MS = 15_000

PAGE = f"""<!doctype html><meta charset="utf-8"><title>streams</title>
<script>
window.opened = [];
window.received = [];
fetch("/healthz").then((answer) => answer.text()).then(() => {{
  for (let i = 0; i < {STREAMS}; i++) {{
    const source = new EventSource("/events?stream=" + i);
    source.onopen = () => window.opened.push(i);
    source.onmessage = (event) => window.received.push([i, JSON.parse(event.data).text]);
  }}
}});
</script>"""


@pytest.fixture(scope="module")
def sse_server() -> Iterator[str]:
    with server_process("sse") as url:
        yield url


def open_streams(browser: Any, proxy_url: str) -> tuple[Any, Any]:
    context = browser.new_context(ignore_https_errors=True)  # the proxy's own certificate
    page = context.new_page()
    page.route(
        f"{proxy_url}/streams.html",
        lambda route: route.fulfill(body=PAGE, content_type="text/html"),
    )
    page.goto(f"{proxy_url}/streams.html")
    return context, page


def protocol(page: Any) -> str:
    """``nextHopProtocol`` of the page's ``fetch("/healthz")`` through nginx."""
    return page.evaluate(
        """performance.getEntriesByType("resource")
            .find((entry) => entry.name.endsWith("/healthz")).nextHopProtocol"""
    )


def streams_that_got(page: Any, text: str, count: int) -> list[int]:
    """Wait until ``count`` streams have received ``text``; which ones."""
    page.wait_for_function(
        "([text, count]) => window.received.filter(([, t]) => t === text).length >= count",
        arg=[text, count],
        timeout=WAIT_MS,
    )
    return sorted(i for i, t in page.evaluate("window.received") if t == text)


def test_over_http1_the_seventh_stream_waits(browser: Any, sse_server: str) -> None:
    with running_nginx("nginx-tuned", host_of(sse_server)) as proxy:
        context, page = open_streams(browser, proxy.url)
        try:
            page.wait_for_function(
                f"window.opened.length >= {BROWSER_CONNECTIONS_PER_HOST}", timeout=WAIT_MS
            )
            assert protocol(page) == "http/1.1"
            publish(sse_server, "after six opened")
            got = streams_that_got(page, "after six opened", BROWSER_CONNECTIONS_PER_HOST)
            # Six streams have the message; the other two have not even opened: they wait
            # for a connection, which none of the six will give back.
            assert len(got) == BROWSER_CONNECTIONS_PER_HOST
            assert len(page.evaluate("window.opened")) == BROWSER_CONNECTIONS_PER_HOST
        finally:
            context.close()


def test_over_http2_every_stream_opens_on_one_connection(browser: Any, sse_server: str) -> None:
    with running_nginx("nginx-h2", host_of(sse_server)) as proxy:
        context, page = open_streams(browser, proxy.url)
        try:
            page.wait_for_function(f"window.opened.length >= {STREAMS}", timeout=WAIT_MS)
            assert protocol(page) == "h2"
            publish(sse_server, "to all eight")
            assert streams_that_got(page, "to all eight", STREAMS) == list(range(STREAMS))
            assert proxy.counters().active == 1  # one connection carries them all
        finally:
            context.close()
