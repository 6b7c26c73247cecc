"""The page's Path control: a panel moves through a real nginx and back, and loses nothing.

Chromium drives the classroom page; the demo starts nginx in front of the SSE technique
(``POST /api/proxy``) when the control says so, and the panel's client moves to nginx's URL
from its cursor. Messages published before, through and after are all in the panel.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.nginx_fixture import nginx  # noqa: F401 (fixture)
from tests.test_browser_demo import (  # noqa: F401 (fixtures)
    Demo,
    PageWatch,
    browser,
    chromium_path,
    demo,
    demo_page,
    playwright_api,
    publish,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("nginx")]


def test_a_panel_moves_through_nginx_and_back_with_nothing_lost(
    demo_page: tuple[Any, PageWatch],  # noqa: F811 (fixtures imported above)
    demo: Demo,  # noqa: F811
    playwright_api: Any,  # noqa: F811
) -> None:
    page, watch = demo_page
    expect = playwright_api.expect
    newest = page.locator("#panel-sse .messages li").first
    ids = [publish(demo, "before the proxy")["id"]]
    expect(newest).to_have_attribute("data-id", str(ids[-1]))
    page.select_option("#path-target", "sse")
    page.select_option("#path-profile", "nginx-tuned")
    moves = page.locator("#panel-sse .conversation li", has_text="now reached at")
    expect(moves).to_have_count(1)
    direct_port = demo.techniques["sse"].url.rsplit(":", 1)[-1]
    assert not (moves.first.text_content() or "").rstrip("/").endswith(f":{direct_port}")
    expect(page.locator("#panel-sse .state")).to_have_attribute("data-state", "open")
    ids.append(publish(demo, "through nginx")["id"])
    expect(newest).to_have_attribute("data-id", str(ids[-1]))
    page.select_option("#path-profile", "direct")
    expect(moves).to_have_count(2)
    ids.append(publish(demo, "direct again")["id"])
    expect(newest).to_have_attribute("data-id", str(ids[-1]))
    shown = page.locator("#panel-sse .messages li").evaluate_all(
        "items => items.map(item => Number(item.dataset.id))"
    )
    assert set(ids) <= set(shown)  # every message, once the path changed twice
    assert watch.page_errors == []
