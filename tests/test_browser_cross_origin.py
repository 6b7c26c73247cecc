"""A page from another origin, in Chromium, can neither publish nor change the rate (issue 16):
not by ``fetch`` (with a JSON body the browser asks first and is refused; a "simple" request
gets 415) and not by an HTML form (which cannot send ``application/json``).

The foreign page is served by a server of its own, under the name ``elsewhere.test`` mapped
to 127.0.0.1 inside this Chromium only: a different origin, on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from pushlab.servers.config import ServerConfig
from pushlab.servers.demo import Demo, start_demo
from pushlab.servers.runner import RunningServer
from tests.test_browser_demo import (
    CHROMIUM_ARGS,
    chromium_path,  # noqa: F401  (a fixture)
    loop_in_a_thread,
    on_loop,
    playwright_api,  # noqa: F401  (a fixture)
)

pytestmark = pytest.mark.browser

FOREIGN_NAME = "elsewhere.test"
FOREIGN_PAGE = "<!doctype html><title>elsewhere</title>"


async def start_foreign_site() -> web.AppRunner:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=FOREIGN_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Demo, int]]:
    with loop_in_a_thread() as loop:
        demo = on_loop(loop, start_demo(ServerConfig(port=0)))
        foreign = on_loop(loop, start_foreign_site())
        port = foreign.addresses[0][1]
        yield demo, port
        on_loop(loop, foreign.cleanup())
        on_loop(loop, demo.stop())


@pytest.fixture(scope="module")
def foreign_browser(playwright_api: Any, chromium_path: str) -> Iterator[Any]:  # noqa: F811
    """One Chromium for the module, with the foreign name mapped (a launch option)."""
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {FOREIGN_NAME} 127.0.0.1"]
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=args)
        yield browser
        browser.close()


@pytest.fixture
def foreign_page(foreign_browser: Any, servers: tuple[Demo, int]) -> Iterator[Any]:
    """The foreign page in a new context of its own: nothing carries over between tests."""
    _, port = servers
    context = foreign_browser.new_context()
    page = context.new_page()
    page.goto(f"http://{FOREIGN_NAME}:{port}/")
    yield page
    context.close()


def targets(demo: Demo) -> list[tuple[str, str]]:
    polling: RunningServer = demo.techniques["polling"]
    return [
        (f"{demo.page.url}/api/publisher", '{"publish_rate": 999}'),
        (f"{polling.url}/publisher", '{"publish_rate": 999}'),
        (f"{polling.url}/messages", '{"text": "from elsewhere"}'),
    ]


FETCHES = """async ([url, body]) => {
  const outcomes = [];
  try {
    await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body});
    outcomes.push("json: sent");
  } catch (error) { outcomes.push("json: blocked"); }
  const plain = {"Content-Type": "text/plain"};
  await fetch(url, {method: "POST", mode: "no-cors", headers: plain, body});
  outcomes.push("simple: sent");
  return outcomes;
}"""

FORM = """([url, body]) => {
  const sink = document.createElement("iframe");
  sink.name = "sink" + document.querySelectorAll("iframe").length;
  document.body.append(sink);
  const form = document.createElement("form");
  form.method = "POST"; form.action = url; form.target = sink.name; form.enctype = "text/plain";
  const field = document.createElement("input");
  field.name = body.slice(0, -2) + ', "x": "'; field.value = '"}';
  form.append(field); document.body.append(form); form.submit();
}"""


def assert_nothing_changed(demo: Demo) -> None:
    assert demo.feed.last_id == 0
    assert demo.publisher.publish_rate == 0


def test_a_foreign_page_cannot_write_by_fetch(foreign_page: Any, servers: tuple[Demo, int]) -> None:
    demo, _ = servers
    for url, body in targets(demo):
        outcomes = foreign_page.evaluate(FETCHES, [url, body])
        assert outcomes == ["json: blocked", "simple: sent"], url
    assert_nothing_changed(demo)


def test_a_foreign_page_cannot_write_by_form(foreign_page: Any, servers: tuple[Demo, int]) -> None:
    demo, _ = servers
    for url, body in targets(demo):
        with foreign_page.expect_response(url) as answer:
            foreign_page.evaluate(FORM, [url, body])
        assert answer.value.status == 415, url
    assert_nothing_changed(demo)
