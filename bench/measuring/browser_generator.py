"""The browser lane's load generator: K pages of one headless Chromium, one technique's client.

    python -m pushlab.bench.measuring.browser_generator sse --host http://127.0.0.1:8004 \
        --clients 10 --out raw.npz

It speaks the Locust generator's line protocol (``generator.py``: ``progress``, ``ready``,
``stop B DRAIN_S``, ``done``) and writes the same ``.npz``, so the harness and the measurement
treat its pages as they treat Locust's users. Each page is the classroom page's own client of
the technique (``servers/static/clients.js``: fetch on a timer, a fetch loop, ``WebSocket``,
``EventSource``) inside ``bench-page.html``, which records every delivery on the browser's
clock. Each page has a browser context of its own, as a separate user would: its own
connection pool, so Chromium's six connections per host are per page.

The page is served by Playwright at the server's own origin (a route on ``/__bench_page/``,
answered from ``servers/static/`` without reaching the server), so that the page's requests
are same-origin, exactly as the classroom page's are, and the server needs no change.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np

import pushlab.servers
from pushlab.bench.measuring import chromium
from pushlab.bench.measuring.arguments import MAX_POLL_INTERVAL_S, seconds
from pushlab.bench.measuring.generator_protocol import emit, parse_stop
from pushlab.bench.measuring.page_lifecycle import attached_browser, hide_and_show
from pushlab.bench.measuring.page_records import page_arrays
from pushlab.command_line import CommandParser
from pushlab.limits import raise_open_files_limit
from pushlab.reconnect_policy import NO_JITTER_POLICY, RECONNECT_POLICY
from pushlab.techniques import LONGPOLL_HOLD_S, LONGPOLL_MAX_HOLD_S, NAMES

STATIC_DIR = Path(pushlab.servers.__file__).parent / "static"
PAGE_PREFIX = "/__bench_page/"
PAGE = "bench-page.html"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
PAGES_OPENED_AT_ONCE = 2  # opening a page costs seconds of CPU: two at a time report progress early
NO_LOCAL_NETWORK_CHECKS = "--disable-features=LocalNetworkAccessChecks"
"""The page comes from Playwright, not from a server, so Chromium gives it no address and
treats it as a public page: its WebSocket to 127.0.0.1 would be refused as a public page's
request into the local network. The classroom page, served by the demo, is a loopback page
and meets no such check; this flag puts the bench page where the classroom page is."""
LAUNCH_ALLOWANCE_S = 10.0
PAGE_ALLOWANCE_S = 4.0
"""Launching Chromium, then each page (a renderer process of its own) may take this much
beyond ``--connect-timeout`` (measured on a loaded two-core machine: seconds per page). The
generator reports each page opened, so the harness keeps waiting while pages open; a page
not open by the deadline is counted as a client that never connected."""
POLL_S = 0.1  # how often the generator reads the pages' cursors while it waits for them

RECORD = "() => ({...window.benchPage?.panel, error: window.benchPage?.error ?? null})"
"""The page's record: its panel's fields, as plain JSON (``bench-page.js``)."""
CURSOR = "() => window.benchPage?.panel ? window.benchPage.panel.cursor : -1"
CONNECTED = "() => window.benchPage?.error ?? (window.benchPage?.panel?.connectedAt ?? null)"


def static_file(url: str) -> Path | None:
    """The file of ``servers/static/`` a page asked for under the prefix (None: no such file)."""
    name = urlsplit(url).path.removeprefix(PAGE_PREFIX)
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in CONTENT_TYPES:
        return None
    return path if path.is_file() else None


async def serve_static(route: Any) -> None:
    path = static_file(route.request.url)
    if path is None:
        await route.fulfill(status=404, body="not a page file")
        return
    await route.fulfill(
        status=200, body=path.read_bytes(), headers={"Content-Type": CONTENT_TYPES[path.suffix]}
    )


def page_url(args: argparse.Namespace) -> str:
    query = {
        "technique": args.technique,
        "poll_interval_s": f"{args.poll_interval:g}",
        "hold_s": f"{args.hold:g}",
        "first_wait_s": f"{RECONNECT_POLICY.first_wait_s:g}",
        "cap_s": f"{RECONNECT_POLICY.cap_s:g}",
        "jitter": (NO_JITTER_POLICY if args.no_jitter else RECONNECT_POLICY).as_json()["jitter"],
    }
    return f"{args.host.rstrip('/')}{PAGE_PREFIX}{PAGE}?{urlencode(query)}"


NewPage = Callable[[], Awaitable[Any]]


@contextlib.asynccontextmanager
async def page_maker(playwright: Any, args: argparse.Namespace) -> AsyncIterator[NewPage]:
    """How this run makes a page: each in a browser context of its own (storage and
    connection pool apart, as separate users have), or, for a lifecycle run, in the one
    context of a browser whose pages can be hidden (``page_lifecycle.py``)."""
    extra_args = [NO_LOCAL_NETWORK_CHECKS]
    if args.lifecycle_for > 0:
        async with attached_browser(playwright, extra_args) as context:
            await context.route(f"**{PAGE_PREFIX}*", serve_static)
            yield context.new_page
        return
    browser = await playwright.chromium.launch(
        executable_path=chromium.find_chromium(), args=[*chromium.CHROMIUM_ARGS, *extra_args]
    )

    async def new_page() -> Any:
        context = await browser.new_context()
        await context.route(f"**{PAGE_PREFIX}*", serve_static)
        return await context.new_page()

    try:
        yield new_page
    finally:
        await browser.close()


async def open_page(new_page: NewPage, url: str, gate: asyncio.Semaphore, opened: list[int]) -> Any:
    """A page loading ``url``."""
    async with gate:
        page = await new_page()
        page.on("pageerror", lambda error: print(f"page error: {error}", file=sys.stderr))
        await page.goto(url, wait_until="load")
    opened[0] += 1
    emit("progress", connected=0, opened=opened[0])
    return page


async def open_pages(new_page: NewPage, url: str, count: int, deadline: float) -> list[Any]:
    """``count`` pages; a page not open by ``deadline`` is None."""
    gate = asyncio.Semaphore(PAGES_OPENED_AT_ONCE)
    opened = [0]
    opening = [asyncio.create_task(open_page(new_page, url, gate, opened)) for _ in range(count)]
    await asyncio.wait(opening, timeout=max(deadline - time.monotonic(), 0))
    for task in opening:
        task.cancel()
    for task in opening:
        if task.done() and not task.cancelled() and task.exception() is not None:
            print(f"a page did not open: {task.exception()}", file=sys.stderr)
    return [
        task.result() if task.done() and not task.cancelled() and not task.exception() else None
        for task in opening
    ]


async def wait_until_connected(pages: list[Any], deadline: float) -> int:
    """Report progress until every page can hear news (or the deadline); return how many can."""
    last_report = 0.0
    while True:
        states = await asyncio.gather(*(page.evaluate(CONNECTED) for page in pages))
        errors = [state for state in states if isinstance(state, str)]
        if errors:
            raise RuntimeError(f"a bench page failed: {errors[0]}")
        connected = sum(state is not None for state in states)
        if connected == len(pages) or time.monotonic() > deadline:
            return connected
        if time.monotonic() - last_report >= 0.5:
            emit("progress", connected=connected, clients=len(pages))
            last_report = time.monotonic()
        await asyncio.sleep(POLL_S)


async def drain(pages: list[Any], last_id: int, timeout_s: float) -> bool:
    """Wait until every page's cursor has reached message ``last_id`` (or the timeout)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        cursors = await asyncio.gather(*(page.evaluate(CURSOR) for page in pages))
        if all(cursor >= last_id for cursor in cursors):
            return True
        await asyncio.sleep(POLL_S)
    return False


async def records(pages: list[Any]) -> list[dict[str, Any]]:
    """Every page's record, in page order (a page that died gives an empty one)."""
    read = [page.evaluate(RECORD) for page in pages]
    return [
        record if isinstance(record, dict) else {}
        for record in await asyncio.gather(*read, return_exceptions=True)
    ]


async def run(args: argparse.Namespace) -> int:
    from playwright.async_api import async_playwright  # the browser extra

    allowance_s = LAUNCH_ALLOWANCE_S + PAGE_ALLOWANCE_S * args.clients
    deadline = time.monotonic() + args.connect_timeout + allowance_s
    async with async_playwright() as playwright, page_maker(playwright, args) as new_page:
        opened = await open_pages(new_page, page_url(args), args.clients, deadline)
        pages = [page for page in opened if page is not None]
        connected = await wait_until_connected(pages, deadline)
        emit("ready", connected=connected, clients=args.clients, timed_out=connected < args.clients)
        schedule = hide_and_show(pages, args.lifecycle_after, args.lifecycle_for)
        lifecycle = asyncio.create_task(schedule)
        last_id, drain_s, _ = await read_stop()  # a page's cursor is reset on a new feed
        changed = await finished(lifecycle)
        drained = await drain(pages, last_id, drain_s) if last_id > 0 else True
        recorded = iter(await records(pages))
        pages_recorded = [{} if page is None else next(recorded) for page in opened]
        for index, times in changed.items():
            pages_recorded[opened.index(pages[index])] |= times
    arrays = page_arrays(pages_recorded)
    np.savez(args.out, **arrays)
    requests = int(arrays["request_user"].size)
    emit(
        "done",
        deliveries=int(arrays["user"].size),
        drained=drained,
        requests={"browser pages": [requests, 0]},
        errors=[],
    )
    return 0


async def finished(lifecycle: asyncio.Task[dict[int, dict[str, Any]]]) -> dict[int, Any]:
    """The lifecycle's record; one still running when the window closed is ended first (a
    frozen page cannot answer the generator), and leaves no record."""
    if not lifecycle.done():
        lifecycle.cancel()
    try:
        return await lifecycle
    except asyncio.CancelledError:
        return {}


async def read_stop() -> tuple[int, float, str]:
    """``stop B DRAIN_S [FEED_ID]`` from the harness, read in a thread so the pages keep
    running."""
    return parse_stop(await asyncio.to_thread(sys.stdin.readline))


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="python -m pushlab.bench.measuring.browser_generator", description=__doc__
    )
    parser.add_argument("technique", choices=NAMES)
    parser.add_argument("--host", required=True, help="the server, e.g. http://127.0.0.1:8001")
    parser.add_argument("--clients", type=int, required=True, help="pages")
    parser.add_argument(
        "--poll-interval",
        type=seconds(0, MAX_POLL_INTERVAL_S, zero_allowed=False),
        default=1.0,
        help="polling only (s)",
    )
    parser.add_argument(
        "--hold",
        type=seconds(0, LONGPOLL_MAX_HOLD_S, zero_allowed=False),
        default=LONGPOLL_HOLD_S,
        help="long polling only: seconds the server may hold a poll",
    )
    parser.add_argument(
        "--lifecycle-after",
        type=seconds(0, 3600, zero_allowed=True),
        default=0.0,
        help="hide or freeze every page but the first this long after ready (s)",
    )
    parser.add_argument(
        "--lifecycle-for",
        type=seconds(0, 3600, zero_allowed=True),
        default=0.0,
        help="how long they stay hidden or frozen (s; 0: never)",
    )
    parser.add_argument(
        "--no-jitter", action="store_true", help="reconnect after the whole backoff ceiling"
    )
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    parser.add_argument("--out", type=Path, required=True, help="where to write the .npz")
    return parser


def stop_on_signals(task: asyncio.Task[int]) -> Callable[[], None]:
    """SIGINT and SIGTERM cancel the run, so that the browser is closed on the way out."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    return lambda: [loop.remove_signal_handler(s) for s in (signal.SIGINT, signal.SIGTERM)]


async def main_async(args: argparse.Namespace) -> int:
    task = asyncio.create_task(run(args))
    restore = stop_on_signals(task)
    try:
        return await task
    except asyncio.CancelledError:
        return 130
    finally:
        restore()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    reason = chromium.missing_reason()
    if reason is not None:
        print(f"browser lane: {reason}", file=sys.stderr)
        return 2
    raise_open_files_limit()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
