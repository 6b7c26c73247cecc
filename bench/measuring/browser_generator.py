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
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np

import pushlab.servers
from pushlab.bench.measuring import chromium
from pushlab.bench.measuring.arguments import MAX_POLL_INTERVAL_S, seconds
from pushlab.bench.measuring.generator_protocol import emit, parse_stop
from pushlab.bench.measuring.page_records import page_arrays
from pushlab.command_line import CommandParser
from pushlab.limits import raise_open_files_limit
from pushlab.reconnect_policy import RECONNECT_POLICY
from pushlab.techniques import LONGPOLL_HOLD_S, LONGPOLL_MAX_HOLD_S, NAMES

STATIC_DIR = Path(pushlab.servers.__file__).parent / "static"
PAGE_PREFIX = "/__bench_page/"
PAGE = "bench-page.html"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
PAGES_OPENED_AT_ONCE = 8  # opening pages costs CPU: a few at a time keeps the start even
NO_LOCAL_NETWORK_CHECKS = "--disable-features=LocalNetworkAccessChecks"
"""The page comes from Playwright, not from a server, so Chromium gives it no address and
treats it as a public page: its WebSocket to 127.0.0.1 would be refused as a public page's
request into the local network. The classroom page, served by the demo, is a loopback page
and meets no such check; this flag puts the bench page where the classroom page is."""
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
    }
    return f"{args.host.rstrip('/')}{PAGE_PREFIX}{PAGE}?{urlencode(query)}"


async def open_page(browser: Any, url: str, gate: asyncio.Semaphore) -> Any:
    """A page in a context of its own (storage and connection pool apart), loading ``url``."""
    async with gate:
        context = await browser.new_context()
        await context.route(f"**{PAGE_PREFIX}*", serve_static)
        page = await context.new_page()
        page.on("pageerror", lambda error: print(f"page error: {error}", file=sys.stderr))
        await page.goto(url, wait_until="load")
        return page


async def wait_until_connected(pages: list[Any], timeout_s: float) -> int:
    """Report progress until every page can hear news (or the timeout); return how many can."""
    deadline = time.monotonic() + timeout_s
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

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium.find_chromium(),
            args=[*chromium.CHROMIUM_ARGS, NO_LOCAL_NETWORK_CHECKS],
        )
        try:
            gate = asyncio.Semaphore(PAGES_OPENED_AT_ONCE)
            url = page_url(args)
            pages = await asyncio.gather(
                *(open_page(browser, url, gate) for _ in range(args.clients))
            )
            connected = await wait_until_connected(pages, args.connect_timeout)
            emit(
                "ready", connected=connected, clients=args.clients, timed_out=connected < len(pages)
            )
            last_id, drain_s = await read_stop()
            drained = await drain(pages, last_id, drain_s) if last_id > 0 else True
            pages_recorded = await records(pages)
        finally:
            await browser.close()
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


async def read_stop() -> tuple[int, float]:
    """``stop B DRAIN_S`` from the harness, read in a thread so the pages keep running."""
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
