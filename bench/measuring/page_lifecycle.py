"""Pages hidden and frozen as Chromium hides and freezes background tabs, then shown again.

Playwright keeps every page it creates visible and focused (it turns on the DevTools
protocol's focus emulation, which counts as a capture of the page and so keeps it shown), so
a page cannot be hidden in an ordinary Playwright browser. The lifecycle runs therefore start
Chromium themselves and attach Playwright to it over the DevTools protocol without its
default overrides (``no_defaults``): the pages of that browser's default context can then be

- **hidden**: ``Page.setWebLifecycleState`` ``frozen`` then at once ``active`` (Chromium hides
  a page before it freezes it: ``WebContents::WasHidden``). The page stays hidden and runs,
  with Chromium's throttling of hidden pages (timers at most once a second, and less after
  minutes); it sees ``visibilitychange``, and the ``freeze``/``resume`` of that first instant;
- **frozen**: ``Page.setWebLifecycleState`` ``frozen`` for the whole time: no task of the page
  runs (no timer, no fetch completion, no WebSocket or EventSource event), while the
  connections stay open in the network process;
- **shown again**: ``active``, then focus emulation on, which makes the page visible again.

The pages share the default context, so they share one connection pool (Chromium's six
connections per host): the lifecycle runs use a few pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from pushlab.bench.measuring import chromium

STATES = ("hidden", "frozen")
"""Page 0 is the control; the others take these states in turn (page 1 hidden, 2 frozen…)."""
DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")
START_TIMEOUT_S = 30.0


def state_of(index: int) -> str | None:
    """The state page ``index`` is put in (None: the control page)."""
    return None if index == 0 else STATES[(index - 1) % len(STATES)]


@contextlib.asynccontextmanager
async def attached_browser(playwright: Any, extra_args: list[str]) -> AsyncIterator[Any]:
    """Chromium started here, Playwright attached without its overrides; stopped on the way
    out (error, cancellation or Ctrl-C), its profile removed."""
    profile = tempfile.mkdtemp(prefix="pushlab-lifecycle-")
    command = [chromium.find_chromium() or "chromium", "--headless", *chromium.CHROMIUM_ARGS]
    command += [*extra_args, "--remote-debugging-port=0", f"--user-data-dir={profile}"]
    process = subprocess.Popen(
        [*command, "about:blank"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        endpoint = await asyncio.wait_for(
            asyncio.to_thread(devtools_endpoint, process), START_TIMEOUT_S
        )
        browser = await playwright.chromium.connect_over_cdp(
            endpoint, no_defaults=True, is_local=True
        )
        try:
            yield browser.contexts[0]
        finally:
            with contextlib.suppress(Exception):
                await browser.close()
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def devtools_endpoint(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    for line in process.stderr:
        found = DEVTOOLS_LINE.search(line)
        if found:
            # Keep reading stderr, so that Chromium never blocks on a full pipe.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return found.group(1)
    raise RuntimeError("Chromium exited before it opened its DevTools endpoint")


async def hide_and_show(
    pages: list[Any], after_s: float, for_s: float
) -> dict[int, dict[str, Any]]:
    """``after_s`` from now, hide or freeze every page but the first (``state_of``) for
    ``for_s``, then show them again. Returns, by page index, the state and when it began and
    ended (epoch s). A cancelled schedule shows its pages again before it returns."""
    if for_s <= 0 or len(pages) < 2:
        return {}
    sessions = {i: await page.context.new_cdp_session(page) for i, page in enumerate(pages)}
    await asyncio.sleep(after_s)
    times: dict[int, dict[str, Any]] = {}
    try:
        for index in range(1, len(pages)):
            await sessions[index].send("Page.setWebLifecycleState", {"state": "frozen"})
            if state_of(index) == "hidden":
                await sessions[index].send("Page.setWebLifecycleState", {"state": "active"})
            times[index] = {"lifecycleState": state_of(index), "lifecycleFrom": time.time()}
        await asyncio.sleep(for_s)
    finally:
        for index in times:
            await sessions[index].send("Page.setWebLifecycleState", {"state": "active"})
            await sessions[index].send("Emulation.setFocusEmulationEnabled", {"enabled": True})
            times[index]["lifecycleUntil"] = time.time()
    return times
